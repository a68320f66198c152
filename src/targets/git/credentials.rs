//! Credentials for the remote: an SSH key file, or an HTTPS token from a file or an environment
//! variable. They are read on every operation so a rotated secret is picked up without a restart,
//! and they live in a [`SecretString`] so `Debug` never prints them.

use std::path::PathBuf;

use git2::{Cred, CredentialType, RemoteCallbacks};
use secrecy::{ExposeSecret, SecretString};

use super::error::{GitError, Redactor};
use crate::config::{GitConfig, read_secret_file};

#[derive(Debug, Clone, Default)]
pub struct Credentials {
    username: Option<String>,
    ssh_key_file: Option<PathBuf>,
    token: Option<SecretString>,
}

impl Credentials {
    /// Reads the configured secrets now.
    pub fn load(config: &GitConfig) -> Result<Self, GitError> {
        let token = match (&config.token_file, &config.token_env) {
            (Some(file), _) => Some(read_secret_file(file).map_err(|e| {
                GitError::Config(format!(
                    "git.token_file: cannot read {}: {e}",
                    file.display()
                ))
            })?),
            (None, Some(var)) => match std::env::var(var) {
                Ok(value) if !value.is_empty() => Some(SecretString::from(value)),
                _ => {
                    return Err(GitError::Config(format!(
                        "git.token_env: environment variable {var} is not set"
                    )));
                }
            },
            (None, None) => None,
        };
        if let Some(key) = &config.ssh_key_file
            && !key.is_file()
        {
            return Err(GitError::Config(format!(
                "git.ssh_key_file: {} is not a readable file",
                key.display()
            )));
        }
        Ok(Self {
            username: config.username.clone(),
            ssh_key_file: config.ssh_key_file.clone(),
            token: token.filter(|t| !t.expose_secret().is_empty()),
        })
    }

    /// What must never appear in a message.
    pub(crate) fn redactor(&self) -> Redactor {
        Redactor::new(self.token.iter().map(|t| t.expose_secret().to_owned()))
    }

    /// Callbacks that answer libgit2's credential requests. libgit2 asks again after every
    /// refusal, so each kind of credential is offered once; after that the callback fails with
    /// an authentication error instead of looping.
    pub(crate) fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        let mut tried = CredentialType::empty();
        callbacks.credentials(move |_url, url_user, allowed| {
            let refuse = |what: &str| {
                Err(git2::Error::new(
                    git2::ErrorCode::Auth,
                    git2::ErrorClass::Callback,
                    what,
                ))
            };
            if allowed.contains(CredentialType::USERNAME) && !tried.contains(CredentialType::USERNAME)
            {
                tried |= CredentialType::USERNAME;
                return Cred::username(self.username_or(url_user, "git"));
            }
            if allowed.contains(CredentialType::SSH_KEY) {
                if tried.contains(CredentialType::SSH_KEY) {
                    return refuse("the remote refused the SSH key");
                }
                tried |= CredentialType::SSH_KEY;
                let Some(key) = &self.ssh_key_file else {
                    return refuse("the remote wants an SSH key and git.ssh_key_file is not set");
                };
                return Cred::ssh_key(self.username_or(url_user, "git"), None, key, None);
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                if tried.contains(CredentialType::USER_PASS_PLAINTEXT) {
                    return refuse("the remote refused the token");
                }
                tried |= CredentialType::USER_PASS_PLAINTEXT;
                let Some(token) = &self.token else {
                    return refuse(
                        "the remote wants a token and neither git.token_file nor git.token_env is set",
                    );
                };
                return Cred::userpass_plaintext(
                    self.username_or(url_user, "x-access-token"),
                    token.expose_secret(),
                );
            }
            refuse("the remote asks for a kind of credential the sidecar does not have")
        });
        callbacks
    }

    fn username_or<'a>(&'a self, from_url: Option<&'a str>, fallback: &'a str) -> &'a str {
        self.username.as_deref().or(from_url).unwrap_or(fallback)
    }
}
