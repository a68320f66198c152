//! The `HEDGEHOG_SIDECAR_*` environment variables and which of them are settings.
//!
//! Other software puts variables with this prefix into the sidecar's environment: the kubelet
//! injects `HEDGEHOG_SIDECAR_PORT`, `HEDGEHOG_SIDECAR_SERVICE_HOST`, ... for a Service named
//! `hedgehog-sidecar`, and the NetBox scripts read `HEDGEHOG_SIDECAR_URL` from an env file the
//! sidecar may share. So only two forms are settings, and neither can collide with those:
//! the documented variables (an exact list) and `HEDGEHOG_SIDECAR_<SECTION>__<KEY>`, whose
//! double underscore no Kubernetes service link has (port names never hold `__`). Everything
//! else is not a setting; `serve` and `config check` name the ones they leave alone.

use std::collections::BTreeMap;

use figment::value::Value;

pub const ENV_PREFIX: &str = "HEDGEHOG_SIDECAR_";

/// Separates a section from its key (and nested sections) in a generic override.
const SEPARATOR: &str = "__";

/// The documented variables, without the prefix.
const DOCUMENTED_VARS: &[&str] = &[
    "LISTEN",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_FILE",
    "WEBHOOK_PREVIOUS_SECRET",
    "WEBHOOK_PREVIOUS_SECRET_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "NETBOX_URL",
    "NETBOX_TOKEN",
    "NETBOX_TOKEN_FILE",
    "API_TOKEN",
    "API_TOKEN_FILE",
    "LOG_FORMAT",
    "DATA_DIR",
    "CONFIG",
];

/// A snapshot of the variables named `HEDGEHOG_SIDECAR_*`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process's variables with the prefix (names and values that are not UTF-8 are
    /// skipped: no setting could use them).
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    /// The given variables with the prefix; the others are dropped.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();
        Self { vars }
    }

    /// The value of a variable, by its full name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Generic overrides as dotted setting paths (`queue.workers`) with their values, parsed
    /// as figment parses environment values (`8` is a number, `[a, b]` a list).
    pub(crate) fn generic_overrides(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        self.vars.iter().filter_map(|(name, value)| {
            let path = generic_path(name)?;
            Some((path, value.parse().expect("parsing a value is infallible")))
        })
    }

    /// Names of the variables with the prefix that are no setting (values are never shown:
    /// some are secrets).
    pub fn not_settings(&self) -> Vec<&str> {
        self.vars
            .keys()
            .filter(|name| !is_documented(name) && generic_path(name).is_none())
            .map(String::as_str)
            .collect()
    }
}

fn is_documented(name: &str) -> bool {
    name.strip_prefix(ENV_PREFIX)
        .is_some_and(|rest| DOCUMENTED_VARS.contains(&rest))
}

/// `HEDGEHOG_SIDECAR_QUEUE__WORKERS` → `queue.workers`; `None` for any other form. Empty
/// parts (`A____B`, a trailing `__`) make a name no setting.
fn generic_path(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if !rest.contains(SEPARATOR) {
        return None;
    }
    let parts: Vec<&str> = rest.split(SEPARATOR).collect();
    if parts.iter().any(|part| part.is_empty()) {
        return None;
    }
    Some(parts.join(".").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_and_double_underscore_names_are_settings() {
        let env = Environment::from_pairs(testkit::kubelet::SERVICE_LINKS.iter().copied().chain([
            ("HEDGEHOG_SIDECAR_URL", "http://sidecar:8080"),
            ("HEDGEHOG_SIDECAR_QUEUE__WORKERS", "8"),
            ("HEDGEHOG_SIDECAR_NETBOX__VERIFY_TLS", "false"),
            ("HEDGEHOG_SIDECAR_NETBOX_TOKEN", "t"),
            ("HEDGEHOG_SIDECAR_QUEUE____X", "1"),
            ("PATH", "/usr/bin"),
        ]));
        let overrides: BTreeMap<String, Value> = env.generic_overrides().collect();
        assert_eq!(
            overrides.keys().map(String::as_str).collect::<Vec<_>>(),
            ["netbox.verify_tls", "queue.workers"]
        );
        assert_eq!(overrides["queue.workers"].to_u128(), Some(8));
        let mut expected: Vec<&str> = testkit::kubelet::SERVICE_LINKS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        expected.extend(["HEDGEHOG_SIDECAR_QUEUE____X", "HEDGEHOG_SIDECAR_URL"]);
        expected.sort_unstable();
        assert_eq!(env.not_settings(), expected);
        assert_eq!(env.get("PATH"), None, "only the prefix is kept");
    }

    #[test]
    fn the_kubelets_service_links_and_the_scripts_url_do_not_break_loading() {
        let env = Environment::from_pairs(testkit::kubelet::SERVICE_LINKS.iter().copied().chain([
            ("HEDGEHOG_SIDECAR_URL", "http://hedgehog-sidecar:8080"),
            ("HEDGEHOG_SIDECAR_API_TOKEN", "shared-with-the-scripts"),
            ("HEDGEHOG_SIDECAR_QUEUE__WORKERS", "7"),
        ]));
        let settings = crate::config::load_from(None, &env).expect("loads");
        assert_eq!(settings.queue.workers, 7, "generic overrides still apply");
        assert_eq!(settings.listen.port(), 8080, "SERVICE_PORT is not `listen`");
        assert!(settings.api.token.is_some());

        let typo = Environment::from_pairs([("HEDGEHOG_SIDECAR_QUEUE__WORKRES", "7")]);
        let err = crate::config::load_from(None, &typo)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("workres"),
            "a misspelt key is still refused: {err}"
        );
    }

    #[test]
    fn the_redis_url_comes_from_a_file_which_wins() {
        use secrecy::ExposeSecret as _;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "redis://:pw@redis:6379/2\n").unwrap();
        let path = file.path().display().to_string();
        let env = Environment::from_pairs([
            ("HEDGEHOG_SIDECAR_REDIS_URL", "redis://other:6379/0"),
            ("HEDGEHOG_SIDECAR_REDIS_URL_FILE", path.as_str()),
        ]);
        let settings = crate::config::load_from(None, &env).expect("loads");
        let url = settings.redis_url.expect("set");
        assert_eq!(url.expose_secret(), "redis://:pw@redis:6379/2");

        std::fs::write(file.path(), "\n").unwrap();
        let err = crate::config::load_from(None, &env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("redis_url_file") && err.contains("holds no secret"),
            "{err}"
        );
    }
}
