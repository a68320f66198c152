//! Secrets come inline, from a file (Kubernetes and systemd credentials), or from the
//! environment; the file wins because it is the form that keeps secrets out of `ps` and dumps.
//! A secret that is empty or only whitespace is a configuration error wherever it comes from:
//! an empty API token would otherwise match a request without credentials.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

/// A secret setting that cannot be used. Messages name the setting, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{key}_file: cannot read {}: {source}", path.display())]
    Unreadable {
        key: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{key}_file: {} holds no secret", path.display())]
    EmptyFile { key: String, path: PathBuf },
    #[error("{key}: is empty; set a secret or remove the setting")]
    Blank { key: String },
    /// Secrets to accept while rotating, but none to sign with now.
    #[error(
        "webhook.previous_secrets: set, but webhook.secret (the secret NetBox signs with now) is not"
    )]
    PreviousWithoutCurrent,
}

/// Reads a secret from a file, trimming the trailing newline editors and `echo` add.
pub(crate) fn read_secret_file(path: &Path) -> std::io::Result<SecretString> {
    let text = std::fs::read_to_string(path)?;
    Ok(SecretString::from(
        text.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

/// True when the secret holds nothing but whitespace.
pub(crate) fn is_blank(secret: &SecretString) -> bool {
    secret.expose_secret().trim().is_empty()
}

/// The secret from `file` if set, else `inline`. `key` names the setting in errors; a blank
/// secret is an error.
pub(crate) fn resolve_secret(
    key: &str,
    inline: Option<&SecretString>,
    file: Option<&Path>,
) -> Result<Option<SecretString>, SecretError> {
    match file {
        Some(path) => {
            let secret = read_secret_file(path).map_err(|source| SecretError::Unreadable {
                key: key.to_owned(),
                path: path.to_owned(),
                source,
            })?;
            if is_blank(&secret) {
                return Err(SecretError::EmptyFile {
                    key: key.to_owned(),
                    path: path.to_owned(),
                });
            }
            Ok(Some(secret))
        }
        None => match inline {
            Some(secret) if is_blank(secret) => Err(SecretError::Blank {
                key: key.to_owned(),
            }),
            other => Ok(other.cloned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_secrets_are_errors_wherever_they_come_from() {
        let blank = SecretString::from(" \t".to_owned());
        let err = resolve_secret("api.token", Some(&blank), None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("api.token: is empty"), "{err}");

        for text in ["", "\n", "\r\n", "  \n"] {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), text).unwrap();
            let err = resolve_secret("api.token", None, Some(file.path()))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("api.token_file") && err.contains("holds no secret"),
                "{err}"
            );
        }

        let set = SecretString::from("s3cret".to_owned());
        let resolved = resolve_secret("api.token", Some(&set), None)
            .unwrap()
            .unwrap();
        assert_eq!(resolved.expose_secret(), "s3cret");
        assert!(resolve_secret("api.token", None, None).unwrap().is_none());
    }
}
