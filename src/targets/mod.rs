//! Where a fabric's rendered objects go: the fabric's cluster (server-side apply) or a Git
//! repository (GitOps). Both sit behind [`Target`], each with its own health check, so the
//! worker and the reconciler do not care which one a fabric uses.

pub mod cluster;
pub mod git;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{Manifest, ObjectKey};

/// Why a publish happens, carried into commit messages, journal entries and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// NetBox's request id (`X-Request-ID`, webhook `request.id`), when a NetBox change caused it.
    pub request_id: Option<String>,
    /// The NetBox user who made the change.
    pub user: Option<String>,
    /// A short phrase: "webhook dcim.device 12 updated", "reconcile", "cli apply".
    pub reason: String,
    /// The recorded NetBox changes of each rendered object, to name per changed object
    /// (see [`crate::attribution`]); objects without any were not changed by a recorded change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<crate::attribution::Credit>,
}

/// One object the target could not take, with the target's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFailure {
    pub key: ObjectKey,
    pub message: String,
}

/// What one publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishReport {
    pub created: Vec<ObjectKey>,
    pub updated: Vec<ObjectKey>,
    pub deleted: Vec<ObjectKey>,
    pub unchanged: usize,
    pub failures: Vec<ObjectFailure>,
    /// The commit made (Git target), if any.
    pub commit: Option<String>,
    /// A unified diff of what changed (Git target, and dry-runs).
    pub diff: Option<String>,
}

impl PublishReport {
    pub fn changed(&self) -> bool {
        !(self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty())
    }
}

/// Logs `$message` at info level with a [`PublishReport`]'s counts (created, updated, deleted,
/// unchanged, failures) after the other fields given, so every publish log names them alike.
macro_rules! info_publish_counts {
    ($report:expr, $message:literal, $($fields:tt)+) => {{
        let report: &$crate::targets::PublishReport = $report;
        tracing::info!(
            $($fields)+,
            created = report.created.len(),
            updated = report.updated.len(),
            deleted = report.deleted.len(),
            unchanged = report.unchanged,
            failures = report.failures.len(),
            $message
        )
    }};
}
pub(crate) use info_publish_counts;

/// Why a target failed. Sources are shared so the Git batcher can hand one error to every
/// caller of its batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TargetError {
    /// The cluster could not be reached or answered with a server error: try again later.
    #[error("cluster is unavailable: {}", cluster::describe(.0))]
    ClusterUnavailable(#[source] Arc<kube::Error>),
    /// The cluster refused the credentials. Never contains the credential itself.
    #[error("cluster refused the credentials: {}", cluster::describe(.0))]
    ClusterUnauthorized(#[source] Arc<kube::Error>),
    /// The cluster's client cannot be built (bad kubeconfig, no service account).
    #[error("cluster is misconfigured: {0}")]
    ClusterConfig(#[from] cluster::ConnectError),
    /// The cluster refused a call that concerns no one object; the API server's text.
    #[error("cluster: {0}")]
    ClusterRefused(String),
    /// A rendered object of a kind the cluster target does not apply.
    #[error("cluster: {kind} {name:?} is not a kind the sidecar applies")]
    NotApplied { kind: String, name: String },
    /// An object listed from the cluster cannot be encoded.
    #[error("cluster: cannot encode a {kind}: {source}")]
    Encode {
        kind: &'static str,
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// The Git target failed; its messages have been through the Git redactor.
    #[error("git{}: {}", .0.target_phrase(), .0)]
    Git(#[from] git::GitError),
    /// A batched Git publish ended without handing back its result.
    #[error("git: the batch's publish task ended without a result")]
    BatchLost,
}

impl TargetError {
    /// Whether retrying the same work later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            TargetError::ClusterUnavailable(_) => true,
            TargetError::Git(error) => error.is_retryable(),
            _ => false,
        }
    }

    /// Whether the target refused the credentials.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            TargetError::ClusterUnauthorized(_) | TargetError::Git(git::GitError::Auth(_))
        )
    }

    /// Whether the target's configuration is wrong.
    pub fn is_misconfigured(&self) -> bool {
        matches!(
            self,
            TargetError::ClusterConfig(_) | TargetError::Git(git::GitError::Config(_))
        )
    }
}

#[async_trait]
pub trait Target: Send + Sync {
    /// `cluster` or `git`, for logs and metrics.
    fn kind(&self) -> &'static str;

    /// Can the target be reached with the configured credentials?
    async fn health_check(&self) -> Result<(), TargetError>;

    /// Brings the target to `desired`, the complete set of the fabric's rendered objects:
    /// creates and updates what differs, removes managed objects no longer desired.
    async fn publish(
        &self,
        desired: &[Manifest],
        cause: &Cause,
        dry_run: bool,
    ) -> Result<PublishReport, TargetError>;

    /// [`Target::publish`] of what a NetBox change rendered: a target may plan it against what
    /// it keeps of its own state instead of reading all of it (a cluster watches its objects),
    /// so the change costs what it changes. Changes made to the target moments before may be
    /// missed; the reconcile, which publishes with [`Target::publish`], heals them.
    async fn publish_change(
        &self,
        desired: &[Manifest],
        cause: &Cause,
    ) -> Result<PublishReport, TargetError> {
        self.publish(desired, cause, false).await
    }

    /// The fabric's objects as the target holds them now (for the reconciler).
    async fn actual(&self) -> Result<Vec<serde_json::Value>, TargetError>;

    /// Tells the target's own users about objects found drifted and left so (self-heal off),
    /// with the paths that differ: a cluster records Events on them.
    async fn record_drift(&self, _drifted: &[(crate::model::ObjectKey, Vec<String>)]) {}

    /// Returns once the work the target runs on its own (batched publishes, lock releases)
    /// is over; called at shutdown, after the workers stopped.
    async fn shutdown(&self) {}
}

/// The target of a fabric: its cluster in `apply` mode, its Git repository in `commit` mode.
/// `redis` (when several replicas share one) backs the Git repository lock.
pub(crate) async fn for_fabric(
    settings: &crate::config::Settings,
    fabric: &crate::config::FabricConfig,
    redis: Option<deadpool_redis::Pool>,
) -> Result<std::sync::Arc<dyn Target>, TargetError> {
    Ok(match fabric.mode {
        crate::config::FabricMode::Apply => {
            std::sync::Arc::new(cluster::ClusterTarget::connect(fabric).await?)
        }
        crate::config::FabricMode::Commit => {
            std::sync::Arc::new(git::GitTarget::from_settings(settings, fabric, redis)?)
        }
    })
}
