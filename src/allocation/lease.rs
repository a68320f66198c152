//! One allocator per fabric. NetBox's allocation endpoints keep two allocators from taking
//! the same value, but not from both serving the same new switch or link (each would give it
//! values), nor a release from deleting what another allocator took a moment ago and has not
//! set yet. So a pass reads the fabric, releases and allocates under the fabric's lease,
//! shared by the replicas through Redis (one process alone uses an in-memory lease).

use std::sync::Arc;
use std::time::Duration;

use super::error::AllocationError;
use crate::lease::{HeldLease, LeaseStore, LocalLease, RedisLease};

/// How long a dead allocator keeps the lease (a live one renews it).
const TTL: Duration = Duration::from_secs(30);
/// How long a pass waits for another one of the same fabric (a 100-leaf fabric allocated
/// from scratch takes about a minute).
const WAIT: Duration = Duration::from_secs(180);

#[derive(Clone)]
pub struct AllocatorLease {
    store: Arc<dyn LeaseStore>,
    wait: Duration,
}

impl AllocatorLease {
    /// Through Redis when the replicas share one (`redis`), else for this process.
    pub fn for_replicas(redis: Option<deadpool_redis::Pool>, key_prefix: &str) -> Self {
        match redis {
            Some(pool) => Self::redis(pool, key_prefix),
            None => Self::local(),
        }
    }

    /// Shared by every replica using `pool` with the queue's key prefix.
    pub fn redis(pool: deadpool_redis::Pool, key_prefix: &str) -> Self {
        Self::with_store(Arc::new(RedisLease::new(pool, key_prefix)))
    }

    /// For the passes of this process only (no Redis: there is one replica).
    pub fn local() -> Self {
        Self::with_store(Arc::new(LocalLease::default()))
    }

    fn with_store(store: Arc<dyn LeaseStore>) -> Self {
        Self { store, wait: WAIT }
    }

    /// Waits at most `wait` for the lease (instead of a few minutes).
    pub fn waiting(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Holds fabric `fabric`'s allocator lease (renewed while held) until the guard is
    /// released.
    pub(super) async fn hold(&self, fabric: &str) -> Result<HeldLease, AllocationError> {
        let name = format!("allocate:{fabric}");
        let holder = uuid::Uuid::new_v4().to_string();
        HeldLease::wait_for(self.store.clone(), &name, &holder, TTL, self.wait)
            .await?
            .ok_or(AllocationError::Busy {
                fabric: fabric.to_owned(),
                waited: self.wait,
            })
    }
}
