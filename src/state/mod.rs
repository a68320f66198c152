//! What every replica must read the same: the NetBox changes intake recorded and not yet
//! credited, what each fabric last published (to credit and journal objects a later publish
//! removes), and each fabric's last reconcile report.
//!
//! With the Redis queue it lives in Redis, so every replica (intake on one, the worker or the
//! reconcile on another) reads one truth; with the embedded queue there is one process and it
//! lives in memory.

mod memory;
mod redis;

use async_trait::async_trait;

pub use self::memory::MemoryState;
pub use self::redis::RedisState;

use crate::attribution::NetBoxChange;
use crate::reconcile::{FabricReport, SourceMap};

/// Changes older than this are forgotten even if no publish credited them (they concerned
/// no configured fabric).
pub(crate) const CHANGE_TTL: chrono::Duration = chrono::Duration::hours(24);
/// At most this many recorded changes are kept; the oldest go first.
pub(crate) const MAX_CHANGES: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("shared state unavailable: {0}")]
    Connection(#[from] deadpool_redis::PoolError),
    #[error("shared state unavailable: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("shared state unreadable: {0}")]
    Format(#[from] serde_json::Error),
}

/// The replicas' shared state (see the module's documentation).
#[async_trait]
pub trait SharedState: Send + Sync + std::fmt::Debug {
    /// Records a change intake queued (a redelivery is kept once).
    async fn record_change(&self, change: &NetBoxChange) -> Result<(), StateError>;
    /// Every recorded change not credited yet, oldest first.
    async fn changes(&self) -> Result<Vec<NetBoxChange>, StateError>;
    /// Forgets changes a publish credited (or found nothing to do for).
    async fn forget_changes(&self, changes: &[NetBoxChange]) -> Result<(), StateError>;
    /// What `fabric` rendered from which NetBox objects at its last publish.
    async fn published_sources(&self, fabric: &str) -> Result<SourceMap, StateError>;
    async fn set_published_sources(
        &self,
        fabric: &str,
        sources: &SourceMap,
    ) -> Result<(), StateError>;
    /// The last report of `fabric`'s reconcile, whichever replica ran it.
    async fn report(&self, fabric: &str) -> Result<Option<FabricReport>, StateError>;
    async fn set_report(&self, fabric: &str, report: &FabricReport) -> Result<(), StateError>;
    /// The version of `fabric`'s NetBox snapshot: every publish that acknowledges jobs from a
    /// kept snapshot bumps it, so a replica whose kept snapshot stands for an older version
    /// reads the fabric in full instead of rendering from an older NetBox.
    async fn snapshot_version(&self, fabric: &str) -> Result<u64, StateError>;
    /// Bumps the version from `seen`: the new version, or `None` when another replica bumped
    /// it since `seen` was read.
    async fn bump_snapshot_version(
        &self,
        fabric: &str,
        seen: u64,
    ) -> Result<Option<u64>, StateError>;
    /// Bumps the version whatever it is: every kept snapshot of the fabric is stale.
    async fn invalidate_snapshots(&self, fabric: &str) -> Result<(), StateError>;
}

/// Records the change a webhook or its job tells of, when it tells of one. Attribution is best
/// effort: a failure is logged and the job goes on, uncredited at worst.
pub(crate) async fn record_change_or_warn(shared: &dyn SharedState, change: Option<NetBoxChange>) {
    let Some(change) = change else { return };
    if let Err(error) = shared.record_change(&change).await {
        tracing::warn!(%error, "cannot record the change for attribution");
    }
}

/// Invalidates the fabric's kept snapshots; a failure is logged (each replica's own snapshot
/// is dropped by its caller anyway).
pub(crate) async fn invalidate_snapshots_or_warn(shared: &dyn SharedState, fabric: &str) {
    if let Err(error) = shared.invalidate_snapshots(fabric).await {
        tracing::warn!(fabric, %error, "cannot invalidate the fabric's kept snapshots");
    }
}

/// A source map as stored (JSON objects need string keys).
fn encode_sources(sources: &SourceMap) -> Result<String, serde_json::Error> {
    serde_json::to_string(&sources.iter().collect::<Vec<_>>())
}

fn decode_sources(text: &str) -> Result<SourceMap, serde_json::Error> {
    let pairs: Vec<(crate::model::ObjectKey, Vec<crate::reconcile::SourceRef>)> =
        serde_json::from_str(text)?;
    Ok(pairs.into_iter().collect())
}
