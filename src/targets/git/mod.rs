//! The GitOps target: a fabric's rendered objects as files in a Git repository that Argo CD or
//! Flux applies (`<path>/<kind-plural>/<name>.yaml` plus a `kustomization.yaml`), committed in
//! batches and pushed with a bounded rebase-and-retry, one writer per repository at a time.
//! libgit2 (git2) does the Git work; it never shells out and never logs a credential.

mod batcher;
mod credentials;
mod error;
mod layout;
mod lock;
mod message;
mod push;
mod target;
mod workspace;

pub use credentials::Credentials;
pub use error::GitError;
pub use layout::{KUSTOMIZATION, Layout};
pub use lock::{LocalLock, LockGuard, RepoLease, RepoLock};
pub use push::BeforePush;
pub use target::GitTarget;
