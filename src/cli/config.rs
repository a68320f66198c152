//! `hedgehog-sidecar config check`: validates the configuration and the secrets it names
//! without starting anything or connecting anywhere, and prints what `serve` would run.

use std::fmt::Display;

use redis::IntoConnectionInfo as _;
use secrecy::ExposeSecret as _;
use serde::Serialize;

use super::output::OutputFormat;

use crate::config::{Environment, FabricConfig, FabricMode, Settings, resolve_secret};
use crate::netbox::client::ClientOptions;
use crate::targets::git::Credentials;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and read every secret it names; exits 1 on any error.
    Check {
        /// How to print the findings.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: OutputFormat,
    },
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warning,
    Error,
}

/// One thing a check found.
#[derive(Debug, Serialize)]
struct Finding {
    level: Level,
    message: String,
}

/// What a check found, in the order found.
#[derive(Debug, Default, Serialize)]
struct Findings {
    findings: Vec<Finding>,
    errors: usize,
}

impl Findings {
    fn push(&mut self, level: Level, what: impl Display) {
        let message = what.to_string();
        self.findings.push(Finding { level, message });
    }
    fn ok(&mut self, what: impl Display) {
        self.push(Level::Ok, what);
    }
    fn warning(&mut self, what: impl Display) {
        self.push(Level::Warning, what);
    }
    fn error(&mut self, what: impl Display) {
        self.errors += 1;
        self.push(Level::Error, what);
    }

    /// One line a finding: `ok: ...`, `warning: ...`, `error: ...`.
    fn lines(&self) -> Vec<String> {
        let level = |l: Level| match l {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        let line = |f: &Finding| format!("{}: {}", level(f.level), f.message);
        self.findings.iter().map(line).collect()
    }

    fn text(&self) -> String {
        self.lines().iter().map(|l| format!("{l}\n")).collect()
    }
}

/// The configuration was loaded before this runs (loading failures stop the command earlier
/// with the key at fault); this reads the secrets and checks what only `serve` would notice.
pub async fn run(settings: Settings, env: &Environment, args: ConfigArgs) -> anyhow::Result<()> {
    match args.command {
        ConfigCommand::Check { output } => {
            let findings = check(&settings, env);
            output.print(&findings, || findings.text())?;
            match findings.errors {
                0 => Ok(()),
                n => anyhow::bail!("the configuration has {n} error(s)"),
            }
        }
    }
}

fn check(settings: &Settings, env: &Environment) -> Findings {
    let mut findings = Findings::default();
    check_environment(env, &mut findings);
    check_server_secrets(settings, &mut findings);
    check_queue(settings, &mut findings);
    if settings.fabrics.is_empty() {
        findings.warning(
            "no [[fabric]] is configured: webhooks are queued and recorded only, and /api/v1 \
             serves no fabric",
        );
    } else {
        match ClientOptions::from_settings(&settings.netbox) {
            Ok(options) => findings.ok(format!("netbox: {}", options.url)),
            Err(error) => findings.error(format!("netbox: {error}")),
        }
    }
    for fabric in &settings.fabrics {
        check_fabric(fabric, &mut findings);
    }
    findings
}

fn check_environment(env: &Environment, findings: &mut Findings) {
    let ignored = env.not_settings();
    if !ignored.is_empty() {
        findings.warning(format!(
            "not settings, left alone: {} (settings are the documented variables and \
             HEDGEHOG_SIDECAR_<SECTION>__<KEY>)",
            ignored.join(", ")
        ));
    }
}

fn check_server_secrets(settings: &Settings, findings: &mut Findings) {
    match settings.webhook.secrets() {
        Ok(secrets) if secrets.is_empty() => findings.error(
            "webhook.secret: not set (webhook.secret, webhook.secret_file or \
             HEDGEHOG_SIDECAR_WEBHOOK_SECRET[_FILE]); serve cannot verify NetBox's webhooks",
        ),
        Ok(secrets) => findings.ok(format!("webhook: {} secret(s) accepted", secrets.len())),
        Err(error) => findings.error(error),
    }
    match resolve_secret(
        "api.token",
        settings.api.token.as_ref(),
        settings.api.token_file.as_deref(),
    ) {
        Ok(Some(_)) => findings.ok("api.token: set"),
        Ok(None) => findings.warning("api.token: not set; /api/v1 refuses every request"),
        Err(error) => findings.error(error),
    }
}

fn check_queue(settings: &Settings, findings: &mut Findings) {
    match &settings.redis_url {
        // The URL holds the password: its parse error is not quoted.
        Some(url) => match url.expose_secret().into_connection_info() {
            Ok(_) => findings.ok("queue: Redis (redis_url)"),
            Err(_) => findings.error("redis_url: not a valid redis:// or rediss:// URL"),
        },
        None => findings.ok(format!(
            "queue: embedded, in {}",
            settings.queue.data_dir.display()
        )),
    }
}

fn check_fabric(fabric: &FabricConfig, findings: &mut Findings) {
    let name = &fabric.name;
    for (key, file) in [
        ("kubeconfig", fabric.kubeconfig.as_ref()),
        ("fabric_config_file", fabric.fabric_config_file.as_ref()),
    ] {
        if let Some(file) = file
            && let Err(error) = std::fs::metadata(file)
        {
            findings.error(format!(
                "fabric `{name}`: {key}: cannot read {}: {error}",
                file.display()
            ));
        }
    }
    match (fabric.mode, &fabric.git) {
        (FabricMode::Commit, Some(git)) => match Credentials::load(git) {
            Ok(_) => findings.ok(format!("fabric `{name}`: commit to {}", git.url)),
            Err(error) => findings.error(format!("fabric `{name}`: {error}")),
        },
        _ => {
            let cluster = match &fabric.kubeconfig {
                Some(file) => format!("the kubeconfig {}", file.display()),
                None => "the in-cluster service account".to_owned(),
            };
            findings.ok(format!(
                "fabric `{name}`: apply to namespace {} with {cluster}",
                fabric.cluster.namespace
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_from;

    fn findings(toml: &str, vars: &[(&str, &str)]) -> Findings {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), toml).unwrap();
        let env = Environment::from_pairs(vars.iter().copied());
        let settings = load_from(Some(file.path()), &env).expect("loads");
        check(&settings, &env)
    }

    #[test]
    fn a_complete_configuration_passes_and_names_the_variables_it_leaves_alone() {
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), "s3cret\n").unwrap();
        let toml = format!(
            "[webhook]\nsecret_file = {:?}\n[api]\ntoken = \"t\"\n[netbox]\nurl = \
             \"http://nb\"\ntoken = \"n\"\n[[fabric]]\nname = \"lab\"\n",
            secret.path()
        );
        let found = findings(&toml, testkit::kubelet::SERVICE_LINKS);
        let lines = found.lines();
        assert_eq!(found.errors, 0, "{lines:#?}");
        let warning = lines
            .iter()
            .find(|l| l.starts_with("warning: not settings"))
            .expect("the kubelet's variables are named");
        assert!(
            warning.contains("HEDGEHOG_SIDECAR_SERVICE_HOST"),
            "{warning}"
        );
        assert!(!warning.contains("10.0.0.1"), "values are never shown");
    }

    #[test]
    fn every_missing_or_unreadable_secret_is_an_error() {
        let toml = "[webhook]\nsecret_file = \"/nonexistent/secret\"\n[[fabric]]\nname = \
                    \"lab\"\nmode = \"commit\"\nkubeconfig = \"/nonexistent/kubeconfig\"\n\
                    [fabric.git]\nurl = \"https://git.example/repo.git\"\ntoken_file = \
                    \"/nonexistent/token\"\n";
        let found = findings(toml, &[]);
        let lines = found.lines();
        let errors: Vec<&String> = lines.iter().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(found.errors, errors.len());
        for expected in [
            "webhook.secret_file",
            "netbox",
            "fabric `lab`: kubeconfig",
            "git.token_file",
        ] {
            assert!(
                errors.iter().any(|l| l.contains(expected)),
                "no error about {expected}: {errors:#?}"
            );
        }
        assert!(
            findings("", &[]).lines()[0].contains("webhook.secret: not set"),
            "serve cannot start without a webhook secret"
        );
    }

    #[test]
    fn the_findings_print_as_lines_json_or_yaml_with_their_level() {
        let found = findings("", &[]);
        let text = OutputFormat::Text.render(&found, || found.text()).unwrap();
        assert!(text.starts_with("error: webhook.secret: not set"), "{text}");
        let json = OutputFormat::Json.render(&found, String::new).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["findings"][0]["level"], "error", "{json}");
        let message = json["findings"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("webhook.secret: not set"), "{json}");
        assert_eq!(json["errors"], found.errors as u64);
        let yaml = OutputFormat::Yaml.render(&found, String::new).unwrap();
        assert!(yaml.contains("level: error"), "{yaml}");
    }
}
