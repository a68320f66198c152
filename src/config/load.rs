//! Loading and checking the configuration.
//!
//! Layers, later wins: built-in defaults, the TOML file, generic environment overrides
//! (`HEDGEHOG_SIDECAR_<SECTION>__<KEY>`, e.g. `HEDGEHOG_SIDECAR_QUEUE__WORKERS=8`), then the
//! documented variables (`HEDGEHOG_SIDECAR_LISTEN`, `..._WEBHOOK_SECRET`, ...). The documented
//! ones are read as plain strings so a secret that happens to look like a number stays a secret.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::SecretString;

use super::environment::{ENV_PREFIX, Environment};
use super::secret::{SecretError, resolve_secret};
use super::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid configuration: {key}: {problem}")]
    Key { key: String, problem: String },
    #[error("invalid configuration: {0}")]
    Secret(#[from] SecretError),
}

impl ConfigError {
    fn key(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Key {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Loads the configuration from `file` (if any) and the process environment.
pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    load_from(file, &Environment::from_process())
}

/// Like [`load`], with the environment given.
pub fn load_from(file: Option<&Path>, env: &Environment) -> Result<Settings, ConfigError> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::MissingFile(path.to_owned()));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    for (path, value) in env.generic_overrides() {
        figment = figment.merge(Serialized::default(&path, value));
    }
    let mut settings: Settings = figment
        .extract()
        .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
    apply_documented_env(&mut settings, env)?;
    inherit_netbox_public_url(&mut settings);
    // Read now: the URL is needed before anything starts, by every command.
    settings.redis_url = resolve_secret(
        "redis_url",
        settings.redis_url.as_ref(),
        settings.redis_url_file.as_deref(),
    )?;
    validate(&settings)?;
    Ok(settings)
}

/// A fabric without its own `mapping.netbox_public_url` links to the service-wide one.
fn inherit_netbox_public_url(settings: &mut Settings) {
    let Some(url) = &settings.netbox_public_url else {
        return;
    };
    for fabric in &mut settings.fabrics {
        fabric
            .mapping
            .netbox_public_url
            .get_or_insert_with(|| url.clone());
    }
}

/// Settings whose values are secret: their errors never quote the value.
const SECRET_KEYS: &[&str] = &[
    "secret",
    "previous_secrets",
    "token",
    "redis_url",
    "password",
];

fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let path = e.path.join(".");
            let secret = e
                .path
                .iter()
                .any(|part| SECRET_KEYS.contains(&part.as_str()));
            if path.is_empty() {
                e.kind.to_string()
            } else if secret {
                format!(
                    "{path}: {} (the value is not shown: it is a secret; write it as a quoted \
                     string, or use a secret file)",
                    redacted_kind(&e.kind)
                )
            } else {
                format!("{path}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What is wrong with a secret setting, without its value.
fn redacted_kind(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::InvalidType(actual, expected) => {
            format!("expected {expected}, found {}", type_name(actual))
        }
        Kind::InvalidValue(actual, expected) => {
            format!(
                "invalid value, expected {expected}, found {}",
                type_name(actual)
            )
        }
        Kind::InvalidLength(_, expected) => format!("invalid length, expected {expected}"),
        _ => "invalid value".into(),
    }
}

fn type_name(actual: &figment::error::Actual) -> &'static str {
    use figment::error::Actual;
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) | Actual::Float(_) => "a number",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Seq => "a list",
        Actual::Map => "a table",
        _ => "another type",
    }
}

fn apply_documented_env(settings: &mut Settings, env: &Environment) -> Result<(), ConfigError> {
    let env = |name: &str| env.get(name).map(str::to_owned);
    let var = |name: &str| env(&format!("{ENV_PREFIX}{name}")).filter(|v| !v.is_empty());
    // A secret variable that is set but blank is a mistake (an unfilled template, an empty
    // Kubernetes secret): refuse it rather than run unauthenticated or unverified.
    let secret = |name: &str| -> Result<Option<SecretString>, ConfigError> {
        match env(&format!("{ENV_PREFIX}{name}")) {
            Some(value) if value.trim().is_empty() => Err(ConfigError::key(
                format!("{ENV_PREFIX}{name}"),
                "is set but empty; set a secret or unset the variable",
            )),
            value => Ok(value.map(SecretString::from)),
        }
    };
    if let Some(listen) = var("LISTEN") {
        settings.listen = listen.parse::<SocketAddr>().map_err(|e| {
            ConfigError::key(
                format!("{ENV_PREFIX}LISTEN"),
                format!("`{listen}` is not host:port ({e})"),
            )
        })?;
    }
    if let Some(secret) = secret("WEBHOOK_SECRET")? {
        settings.webhook.secret = Some(secret);
    }
    if let Some(file) = var("WEBHOOK_SECRET_FILE") {
        settings.webhook.secret_file = Some(file.into());
    }
    if let Some(previous) = secret("WEBHOOK_PREVIOUS_SECRET")? {
        settings.webhook.previous_secrets.push(previous);
    }
    if let Some(file) = var("WEBHOOK_PREVIOUS_SECRET_FILE") {
        settings.webhook.previous_secret_file = Some(file.into());
    }
    if let Some(url) = var("REDIS_URL") {
        settings.redis_url = Some(SecretString::from(url));
    }
    if let Some(file) = var("REDIS_URL_FILE") {
        settings.redis_url_file = Some(file.into());
    }
    if let Some(url) = var("NETBOX_URL") {
        settings.netbox.url = Some(url);
    }
    if let Some(token) = secret("NETBOX_TOKEN")? {
        settings.netbox.token = Some(token);
    }
    if let Some(file) = var("NETBOX_TOKEN_FILE") {
        settings.netbox.token_file = Some(file.into());
    }
    if let Some(token) = secret("API_TOKEN")? {
        settings.api.token = Some(token);
    }
    if let Some(file) = var("API_TOKEN_FILE") {
        settings.api.token_file = Some(file.into());
    }
    if let Some(dir) = var("DATA_DIR") {
        settings.queue.data_dir = dir.into();
    }
    if let Some(format) = var("LOG_FORMAT") {
        settings.log.format = match format.as_str() {
            "json" => super::LogFormat::Json,
            "text" => super::LogFormat::Text,
            other => {
                return Err(ConfigError::key(
                    format!("{ENV_PREFIX}LOG_FORMAT"),
                    format!("`{other}` is not `text` or `json`"),
                ));
            }
        };
    }
    Ok(())
}

fn validate(settings: &Settings) -> Result<(), ConfigError> {
    check_secrets(settings)?;
    check_limits(settings)?;
    if let Some(url) = &settings.netbox.url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(ConfigError::key(
            "netbox.url",
            format!("`{url}` must start with http:// or https://"),
        ));
    }
    check_fabrics(settings)?;
    check_inventory(settings)?;
    super::discovery_hosts::check_host_sources(&settings.discovery)
        .map_err(|(key, problem)| ConfigError::key(key, problem))
}

/// Inventory sources have unique names, something to read, and an interval.
fn check_inventory(settings: &Settings) -> Result<(), ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, source) in settings.discovery.inventory.iter().enumerate() {
        let key = |k: &str| format!("discovery.inventory[{i}].{k}");
        if source.name.trim().is_empty() || !seen.insert(source.name.as_str()) {
            return Err(ConfigError::key(key("name"), "must be set and unique"));
        }
        if source.paths.is_empty() {
            return Err(ConfigError::key(
                key("paths"),
                "must list a file or directory",
            ));
        }
        if source.interval_secs == 0 {
            return Err(ConfigError::key(key("interval_secs"), "must be at least 1"));
        }
    }
    Ok(())
}

/// A secret set inline must not be blank.
fn check_secrets(settings: &Settings) -> Result<(), ConfigError> {
    let inline_secrets = [
        ("api.token", settings.api.token.as_ref()),
        ("webhook.secret", settings.webhook.secret.as_ref()),
        ("netbox.token", settings.netbox.token.as_ref()),
    ];
    let previous = settings.webhook.previous_secrets.iter().map(Some);
    for (key, secret) in inline_secrets
        .into_iter()
        .map(|(k, s)| (k.to_owned(), s))
        .chain(
            previous
                .enumerate()
                .map(|(i, s)| (format!("webhook.previous_secrets[{i}]"), s)),
        )
    {
        if secret.is_some_and(super::secret::is_blank) {
            return Err(ConfigError::key(
                key,
                "is empty; set a secret or remove the setting",
            ));
        }
    }
    Ok(())
}

/// Sizes, counts and intervals that cannot be zero.
fn check_limits(settings: &Settings) -> Result<(), ConfigError> {
    if settings.webhook.max_body_bytes == 0 {
        return Err(ConfigError::key(
            "webhook.max_body_bytes",
            "must be greater than 0",
        ));
    }
    if settings.webhook.max_unverified_bytes < settings.webhook.max_body_bytes {
        return Err(ConfigError::key(
            "webhook.max_unverified_bytes",
            "must be at least webhook.max_body_bytes, or the largest body is never accepted",
        ));
    }
    let zero = [
        (
            "webhook.body_timeout_secs",
            settings.webhook.body_timeout_secs == 0,
        ),
        ("queue.workers", settings.queue.workers == 0),
        ("queue.max_queued", settings.queue.max_queued == 0),
        ("queue.batch_max", settings.queue.batch_max == 0),
        (
            "queue.visibility_timeout_secs",
            settings.queue.visibility_timeout_secs == 0,
        ),
        ("queue.max_attempts", settings.queue.max_attempts == 0),
        (
            "reconcile.interval_secs",
            settings.reconcile.interval_secs == 0,
        ),
        (
            "discovery.fabric.interval_secs",
            settings.discovery.fabric.interval_secs == 0,
        ),
        (
            "discovery.scanner.interval_secs",
            settings.discovery.scanner.interval_secs == 0,
        ),
        (
            "discovery.scanner.max_hosts",
            settings.discovery.scanner.max_hosts == 0,
        ),
        (
            "discovery.scanner.probes_per_sec",
            settings.discovery.scanner.probes_per_sec == 0,
        ),
        (
            "discovery.scanner.concurrency",
            settings.discovery.scanner.concurrency == 0,
        ),
        (
            "discovery.scanner.timeout_ms",
            settings.discovery.scanner.timeout_ms == 0,
        ),
    ];
    match zero.into_iter().find(|(_, is_zero)| *is_zero) {
        Some((key, _)) => Err(ConfigError::key(key, "must be at least 1")),
        None => Ok(()),
    }
}

/// Fabric names are unique DNS labels; commit mode needs a Git section that stays inside its
/// repository.
fn check_fabrics(settings: &Settings) -> Result<(), ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, fabric) in settings.fabrics.iter().enumerate() {
        let key = |k: &str| format!("fabric[{i}].{k}");
        if !is_dns_label(&fabric.name) {
            return Err(ConfigError::key(
                key("name"),
                format!(
                    "`{}` must be a lowercase DNS label (a-z, 0-9, -)",
                    fabric.name
                ),
            ));
        }
        if !seen.insert(fabric.name.as_str()) {
            return Err(ConfigError::key(
                key("name"),
                format!("fabric `{}` is declared twice", fabric.name),
            ));
        }
        if fabric.mode == super::FabricMode::Commit && fabric.git.is_none() {
            return Err(ConfigError::key(
                key("git"),
                format!(
                    "fabric `{}` is in commit mode but has no [fabric.git] section",
                    fabric.name
                ),
            ));
        }
        if let Some(git) = &fabric.git {
            if git.url.is_empty() {
                return Err(ConfigError::key(key("git.url"), "must not be empty"));
            }
            if git.path.split('/').any(|part| part == "..") {
                return Err(ConfigError::key(
                    key("git.path"),
                    "must stay inside the repository (no `..`)",
                ));
            }
        }
    }
    Ok(())
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(vars.iter().copied())
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn file_then_documented_env_overrides() {
        let file = write(
            r#"
            listen = "127.0.0.1:9000"
            [netbox]
            url = "http://netbox:8000"
            [[fabric]]
            name = "lab"
            mode = "commit"
            [fabric.git]
            url = "file:///srv/gitops.git"
            path = "fabrics/lab"
            "#,
        );
        let env = env(&[
            ("HEDGEHOG_SIDECAR_NETBOX_URL", "https://nb.example"),
            ("HEDGEHOG_SIDECAR_WEBHOOK_SECRET", "123456"),
        ]);
        let settings = load_from(Some(file.path()), &env).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(settings.netbox.url.as_deref(), Some("https://nb.example"));
        assert_eq!(
            settings.webhook.secret.as_ref().unwrap().expose_secret(),
            "123456"
        );
        let fabric = settings.fabric("lab").unwrap();
        assert_eq!(fabric.git.as_ref().unwrap().branch, "main");
        assert_eq!(fabric.mapping.switch_roles["leaf"], "server-leaf");
    }

    #[test]
    fn errors_name_the_key() {
        let file = write("[queue]\nworkers = \"many\"\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("queue.workers"), "{err}");

        let file = write("[[fabric]]\nname = \"lab\"\nmode = \"commit\"\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("fabric[0].git"), "{err}");

        let err = load_from(None, &env(&[("HEDGEHOG_SIDECAR_LISTEN", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HEDGEHOG_SIDECAR_LISTEN"), "{err}");

        let file = write("bogus_key = 1\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus_key"), "{err}");
    }

    #[test]
    fn blank_secrets_are_configuration_errors() {
        let file = write("[api]\ntoken = \"\"\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("api.token: is empty"), "{err}");

        let file = write("[webhook]\nsecret = \"  \"\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("webhook.secret: is empty"), "{err}");

        let file = write("[webhook]\nsecret = \"a\"\nprevious_secrets = [\"\"]\n");
        let err = load_from(Some(file.path()), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("webhook.previous_secrets[0]: is empty"),
            "{err}"
        );

        for var in [
            "HEDGEHOG_SIDECAR_API_TOKEN",
            "HEDGEHOG_SIDECAR_WEBHOOK_SECRET",
            "HEDGEHOG_SIDECAR_WEBHOOK_PREVIOUS_SECRET",
        ] {
            let err = load_from(None, &env(&[(var, "")])).unwrap_err().to_string();
            assert!(err.contains(var) && err.contains("set but empty"), "{err}");
        }
    }

    #[test]
    fn the_previous_secret_variable_adds_to_the_list() {
        let file = write("[webhook]\nsecret = \"new,with,commas\"\nprevious_secrets = [\"a,b\"]\n");
        let settings = load_from(
            Some(file.path()),
            &env(&[("HEDGEHOG_SIDECAR_WEBHOOK_PREVIOUS_SECRET", "c,d")]),
        )
        .unwrap();
        let secrets: Vec<String> = settings
            .webhook
            .secrets()
            .unwrap()
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        assert_eq!(secrets, ["new,with,commas", "a,b", "c,d"]);
    }

    #[test]
    fn errors_never_quote_a_secret() {
        for (text, key, value) in [
            (
                "[webhook]\nsecret = 987654321987\n",
                "webhook.secret",
                "987654321987",
            ),
            ("[api]\ntoken = 123456789\n", "api.token", "123456789"),
            ("redis_url = 24681357\n", "redis_url", "24681357"),
        ] {
            let file = write(text);
            let err = load_from(Some(file.path()), &env(&[]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{err}");
            assert!(!err.contains(value), "{err}");
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let settings = load_from(
            None,
            &env(&[("HEDGEHOG_SIDECAR_NETBOX_TOKEN", "super-secret-token")]),
        )
        .unwrap();
        assert!(!format!("{settings:?}").contains("super-secret-token"));
    }
}
