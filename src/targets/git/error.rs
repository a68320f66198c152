//! The one error type of the Git boundary, and how a
//! [`TargetError`](crate::targets::TargetError) describes and classifies it.
//!
//! Every message that leaves this module has been through a [`Redactor`], so neither a token nor
//! the user-info part of a URL can reach a log line or an error returned to a caller.

#[derive(Debug, Clone, thiserror::Error)]
pub enum GitError {
    /// The configuration cannot work: bad URL, bad path, unreadable credential file.
    #[error("{0}")]
    Config(String),
    /// The remote refused the credentials (or needs some and none are configured).
    #[error("{0}")]
    Auth(String),
    /// The remote could not be reached or failed while talking to us.
    #[error("{0}")]
    Network(String),
    /// The remote kept rejecting the push (someone else kept moving the branch).
    #[error("{0}")]
    Rejected(String),
    /// Another replica held the repository's write lease for the whole wait.
    #[error("another replica has held the repository lease for over {} ms", waited.as_millis())]
    Locked { waited: std::time::Duration },
    /// The lease store could not be asked for the repository's write lease.
    #[error("cannot take the repository lease: {0}")]
    LeaseStore(#[source] std::sync::Arc<crate::lease::LeaseError>),
    /// The rendered objects cannot be written (unknown kind, unusable name) or the repository
    /// holds a file that cannot be read back.
    #[error("{0}")]
    Content(String),
    /// The local working clone failed.
    #[error("{0}")]
    Local(String),
}

impl GitError {
    /// Retrying later can succeed: the remote comes back, the other writer finishes.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GitError::Network(_)
                | GitError::Rejected(_)
                | GitError::Locked { .. }
                | GitError::LeaseStore(_)
        )
    }

    /// How a [`TargetError`] of this error describes the target (after "git").
    pub(crate) fn target_phrase(&self) -> &'static str {
        match self {
            GitError::Config(_) => " is misconfigured",
            GitError::Auth(_) => " refused the credentials",
            GitError::Network(_)
            | GitError::Rejected(_)
            | GitError::Locked { .. }
            | GitError::LeaseStore(_) => " is unavailable",
            GitError::Content(_) | GitError::Local(_) => "",
        }
    }
}

/// Scrubs secrets out of text before it becomes an error or a log field.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

const REDACTED: &str = "[redacted]";

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Self {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = strip_url_userinfo(text);
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), REDACTED);
        }
        out
    }

    /// Classifies a libgit2 error from a network operation.
    pub fn network(&self, context: &str, error: &git2::Error) -> GitError {
        let message = self.redact(&format!("{context}: {}", error.message()));
        match (error.code(), error.class()) {
            (git2::ErrorCode::Auth, _) | (git2::ErrorCode::Certificate, _) => {
                GitError::Auth(message)
            }
            (git2::ErrorCode::NotFastForward, _) => GitError::Rejected(message),
            (_, git2::ErrorClass::Invalid) => GitError::Config(message),
            _ if error.message().contains("unsupported URL protocol") => GitError::Config(message),
            _ => GitError::Network(message),
        }
    }

    /// A libgit2 error on the local working clone.
    pub fn local(&self, context: &str, error: &git2::Error) -> GitError {
        GitError::Local(self.redact(&format!("{context}: {}", error.message())))
    }
}

/// `https://user:token@host/x` → `https://[redacted]@host/x`, wherever a URL appears in `text`.
pub(crate) fn strip_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TargetError;

    #[test]
    fn user_info_is_removed_from_urls() {
        assert_eq!(
            strip_url_userinfo("failed to reach 'https://bob:s3cr3t@git.example/x.git' now"),
            "failed to reach 'https://[redacted]@git.example/x.git' now"
        );
        assert_eq!(
            strip_url_userinfo("file:///srv/repo.git"),
            "file:///srv/repo.git"
        );
    }

    #[test]
    fn secrets_are_replaced() {
        let r = Redactor::new(["tok-123".to_owned()]);
        assert_eq!(r.redact("bad token tok-123!"), "bad token [redacted]!");
    }

    #[test]
    fn auth_errors_are_unauthorized_and_network_errors_retryable() {
        let r = Redactor::default();
        let auth = git2::Error::new(git2::ErrorCode::Auth, git2::ErrorClass::Http, "401");
        assert!(TargetError::from(r.network("push", &auth)).is_unauthorized());
        let net = git2::Error::new(
            git2::ErrorCode::GenericError,
            git2::ErrorClass::Net,
            "refused",
        );
        assert!(TargetError::from(r.network("fetch", &net)).is_retryable());
        let nff = git2::Error::new(
            git2::ErrorCode::NotFastForward,
            git2::ErrorClass::Reference,
            "nff",
        );
        assert!(matches!(r.network("push", &nff), GitError::Rejected(_)));
    }
}
