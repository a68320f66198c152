//! `[[discovery.proxmox]]`, `[[discovery.truenas]]`, `[[discovery.home_assistant]]`: the host
//! sources reached over HTTP, one table per instance. Each is named (`proxmox:<name>`), reads
//! its credential from a file, an environment variable or the table, and verifies TLS unless
//! told not to.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::CreateDefaults;
use super::secret::{SecretError, resolve_secret};

/// One instance of a host source.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HostSourceSettings {
    /// The instance's name; the source is named `<kind>:<name>` (`proxmox:lab`).
    pub name: String,
    /// Where the API answers (`https://pve.example.org:8006`, `https://nas.example.org`,
    /// `https://ha.example.org:8123`).
    pub url: String,
    /// The credential (a Proxmox API token `USER@REALM!TOKENID=SECRET`, a TrueNAS API key, a
    /// Home Assistant long-lived access token). Prefer `token_file` or `token_env`.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub token: Option<SecretString>,
    /// A file holding the credential; it wins over `token_env` and `token`.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The name of an environment variable holding the credential; it wins over `token`.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Check the server's certificate (false accepts any certificate: for a lab only).
    #[serde(default = "verify_tls")]
    pub verify_tls: bool,
    /// Certificates (PEM) trusted besides the system's, for a self-signed server.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "timeout_secs")]
    pub timeout_secs: u64,
    /// Run on `serve`'s scheduler every `interval_secs` (`discover` runs it regardless).
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "interval_secs")]
    pub interval_secs: u64,
    /// Create what the source sees and NetBox lacks (otherwise it is only listed).
    #[serde(default = "create")]
    pub create: bool,
    /// Where created objects go (slugs; missing ones are created), and the cluster type of
    /// the clusters virtual machines are put in.
    #[serde(default)]
    pub defaults: CreateDefaults,
}

fn create() -> bool {
    true
}

fn verify_tls() -> bool {
    true
}

fn timeout_secs() -> u64 {
    30
}

fn interval_secs() -> u64 {
    3600
}

/// Why a host source's credential cannot be read. Messages name the setting, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{key}_env: the environment variable {var} is not set or empty")]
    MissingEnv { key: String, var: String },
    #[error("{key}: no credential; set token_file, token_env or token")]
    Missing { key: String },
}

impl HostSourceSettings {
    /// The credential: from `token_file`, else the variable `token_env` names, else `token`.
    /// `key` names the setting in errors (`discovery.proxmox[0].token`).
    pub fn credential(&self, key: &str) -> Result<SecretString, CredentialError> {
        let inline = match (&self.token_file, &self.token_env) {
            (None, Some(var)) => Some(from_env(key, var)?),
            _ => self.token.clone(),
        };
        resolve_secret(key, inline.as_ref(), self.token_file.as_deref())?.ok_or_else(|| {
            CredentialError::Missing {
                key: key.to_owned(),
            }
        })
    }
}

fn from_env(key: &str, var: &str) -> Result<SecretString, CredentialError> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value)),
        _ => Err(CredentialError::MissingEnv {
            key: key.to_owned(),
            var: var.to_owned(),
        }),
    }
}

/// Each kind's instances have distinct, non-empty names, and intervals and timeouts of at
/// least a second. The error is the offending key and the problem.
pub(crate) fn check_host_sources(
    discovery: &super::DiscoverySettings,
) -> Result<(), (String, String)> {
    let kinds = [
        ("proxmox", &discovery.proxmox),
        ("truenas", &discovery.truenas),
        ("home_assistant", &discovery.home_assistant),
    ];
    for (kind, tables) in kinds {
        let mut seen = std::collections::BTreeSet::new();
        for (i, table) in tables.iter().enumerate() {
            let key = |k: &str| format!("discovery.{kind}[{i}].{k}");
            if table.name.trim().is_empty() || !seen.insert(table.name.as_str()) {
                return Err((key("name"), "must be set and unique".into()));
            }
            if table.interval_secs == 0 {
                return Err((key("interval_secs"), "must be at least 1".into()));
            }
            if table.timeout_secs == 0 {
                return Err((key("timeout_secs"), "must be at least 1".into()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn settings() -> HostSourceSettings {
        toml_settings("name = \"lab\"\nurl = \"https://pve:8006\"")
    }

    fn toml_settings(text: &str) -> HostSourceSettings {
        use figment::providers::Format;
        figment::Figment::from(figment::providers::Toml::string(text))
            .extract()
            .unwrap()
    }

    #[test]
    fn names_must_be_unique_and_intervals_positive() {
        let mut discovery = super::super::DiscoverySettings {
            truenas: vec![settings(), settings()],
            ..Default::default()
        };
        let (key, _) = check_host_sources(&discovery).unwrap_err();
        assert_eq!(key, "discovery.truenas[1].name");
        discovery.truenas.pop();
        discovery.truenas[0].interval_secs = 0;
        let (key, _) = check_host_sources(&discovery).unwrap_err();
        assert_eq!(key, "discovery.truenas[0].interval_secs");
    }

    #[test]
    fn tls_is_verified_unless_the_table_opts_out() {
        assert!(settings().verify_tls);
        assert!(settings().ca_file.is_none());
    }

    #[test]
    fn the_credential_comes_from_the_file_then_the_environment_then_the_table() {
        let mut s = settings();
        assert!(matches!(
            s.credential("k"),
            Err(CredentialError::Missing { .. })
        ));
        s.token = Some(SecretString::from("inline".to_owned()));
        assert_eq!(s.credential("k").unwrap().expose_secret(), "inline");

        s.token_env = Some("HHS_TEST_HOST_SOURCE_TOKEN_UNSET".into());
        let err = s.credential("k").unwrap_err().to_string();
        assert!(err.contains("HHS_TEST_HOST_SOURCE_TOKEN_UNSET"), "{err}");
        assert!(
            !err.contains("inline"),
            "the secret is never in a message: {err}"
        );

        s.token_env = Some("PATH".into());
        assert_eq!(
            s.credential("k").unwrap().expose_secret(),
            std::env::var("PATH").unwrap()
        );

        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "from-file\n").unwrap();
        s.token_file = Some(file.path().to_owned());
        assert_eq!(s.credential("k").unwrap().expose_secret(), "from-file");
    }
}
