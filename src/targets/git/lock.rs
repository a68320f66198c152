//! One writer per repository at a time. A process-local mutex always (workers of one process
//! share the working clone), plus a Redis lease when replicas share a Redis: `SET key token NX
//! PX lease`, renewed while held and released only by the holder of the token, so a lease that
//! expired and was taken over by another replica is never extended or released by the old
//! holder. If the holder dies, the lease expires after `lease`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::OwnedMutexGuard;

use super::error::GitError;
use crate::lease::{HeldLease, Lease};

/// Held while the lock is; dropping it releases the lock.
#[must_use = "the lock is released when the guard is dropped"]
#[derive(Default)]
pub struct LockGuard {
    local: Option<OwnedMutexGuard<()>>,
    release: Option<BoxFuture<'static, ()>>,
}

impl LockGuard {
    /// Both locks held as one guard (released in the opposite order of acquisition).
    pub fn and(mut self, mut inner: LockGuard) -> LockGuard {
        LockGuard {
            local: self.local.take().or(inner.local.take()),
            release: inner.release.take().or(self.release.take()),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Release the remote lease first, then the local mutex (field order would do the
        // opposite). Without a runtime the lease simply expires.
        if let Some(release) = self.release.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(release);
        }
        self.local.take();
    }
}

#[async_trait]
pub trait RepoLock: Send + Sync {
    /// Waits until the caller holds `key`.
    async fn acquire(&self, key: &str) -> Result<LockGuard, GitError>;
}

/// A process-wide mutex per key.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalLock;

static LOCAL_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

#[async_trait]
impl RepoLock for LocalLock {
    async fn acquire(&self, key: &str) -> Result<LockGuard, GitError> {
        let mutex = {
            let mut locks = LOCAL_LOCKS.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(locks.entry(key.to_owned()).or_default())
        };
        Ok(LockGuard {
            local: Some(mutex.lock_owned().await),
            release: None,
        })
    }
}

/// A lease shared by the replicas (the Redis lease of [`crate::lease`]), waited for up to
/// `wait` and renewed while held.
#[derive(Clone)]
pub struct RepoLease {
    lease: Arc<crate::lease::RedisLease>,
    ttl: Duration,
    wait: Duration,
}

impl RepoLease {
    /// `key_prefix` is shared with the queue's keys; `ttl` is how long a dead holder keeps it.
    pub fn new(
        pool: deadpool_redis::Pool,
        key_prefix: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Self {
        Self {
            lease: Arc::new(crate::lease::RedisLease::new(pool, key_prefix)),
            ttl,
            wait,
        }
    }

    fn name(key: &str) -> String {
        format!("git:{key}")
    }

    /// The Redis key of the lease on `key`.
    pub fn redis_key(&self, key: &str) -> String {
        self.lease.key(&Self::name(key))
    }
}

fn unavailable(e: crate::lease::LeaseError) -> GitError {
    GitError::Locked(format!("cannot take the repository lease: {e}"))
}

#[async_trait]
impl RepoLock for RepoLease {
    async fn acquire(&self, key: &str) -> Result<LockGuard, GitError> {
        let name = Self::name(key);
        let token = uuid::Uuid::new_v4().to_string();
        let deadline = Instant::now() + self.wait;
        let mut pause = Duration::from_millis(20);
        let lease: Arc<dyn Lease> = self.lease.clone();
        // The held lease renews itself, so a long push does not outlive it.
        let held = loop {
            let taken = HeldLease::acquire(lease.clone(), &name, &token, self.ttl)
                .await
                .map_err(unavailable)?;
            if let Some(held) = taken {
                break held;
            }
            if Instant::now() >= deadline {
                return Err(GitError::Locked(format!(
                    "another replica has held the repository lease for over {} ms",
                    self.wait.as_millis()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        };
        Ok(LockGuard {
            local: None,
            release: Some(Box::pin(async move {
                if let Err(e) = held.release().await {
                    tracing::warn!(lease = %name, error = %e, "cannot release the repository lease");
                }
            })),
        })
    }
}
