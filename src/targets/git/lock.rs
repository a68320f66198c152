//! One writer per repository at a time. A process-local mutex always (workers of one process
//! share the working clone), plus a Redis lease when replicas share a Redis: `SET key token NX
//! PX lease`, renewed while held and released only by the holder of the token, so a lease that
//! expired and was taken over by another replica is never extended or released by the old
//! holder. If the holder dies, the lease expires after `lease`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::OwnedMutexGuard;
use tokio_util::task::TaskTracker;

use super::error::GitError;
use crate::lease::{HeldLease, LeaseStore};

/// Held while the lock is; [`LockGuard::release`] (or dropping it) releases the lock.
#[must_use = "the lock is released when the guard is dropped"]
#[derive(Default)]
pub struct LockGuard {
    local: Option<OwnedMutexGuard<()>>,
    release: Option<Release>,
}

/// Gives a remote lease up; when the guard is dropped instead of released, the release runs
/// as a task of `tasks`, which the lock's owner waits for at shutdown.
struct Release {
    tasks: TaskTracker,
    run: BoxFuture<'static, ()>,
}

impl LockGuard {
    /// A guard whose drop runs `release` as a task of `tasks`.
    pub fn remote(tasks: TaskTracker, release: BoxFuture<'static, ()>) -> Self {
        LockGuard {
            local: None,
            release: Some(Release {
                tasks,
                run: release,
            }),
        }
    }

    /// Both locks held as one guard (released in the opposite order of acquisition).
    pub fn and(mut self, mut inner: LockGuard) -> LockGuard {
        LockGuard {
            local: self.local.take().or(inner.local.take()),
            release: inner.release.take().or(self.release.take()),
        }
    }

    /// Releases the remote lease, then the local mutex, and returns once both are free.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            release.run.await;
        }
        self.local.take();
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Release the remote lease first, then the local mutex (field order would do the
        // opposite). Without a runtime the lease simply expires.
        if let Some(release) = self.release.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            release.tasks.spawn_on(release.run, &runtime);
        }
        self.local.take();
    }
}

#[async_trait]
pub trait RepoLock: Send + Sync {
    /// Waits until the caller holds `key`.
    async fn acquire(&self, key: &str) -> Result<LockGuard, GitError>;

    /// Returns once every lease given up by a dropped guard has been released.
    async fn released(&self) {}
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
    /// Releases of dropped guards, still talking to Redis.
    releases: TaskTracker,
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
            releases: TaskTracker::new(),
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

#[async_trait]
impl RepoLock for RepoLease {
    async fn acquire(&self, key: &str) -> Result<LockGuard, GitError> {
        let name = Self::name(key);
        let token = uuid::Uuid::new_v4().to_string();
        let lease: Arc<dyn LeaseStore> = self.lease.clone();
        // The held lease renews itself, so a long push does not outlive it.
        let held = HeldLease::wait_for(lease, &name, &token, self.ttl, self.wait)
            .await
            .map_err(|e| GitError::LeaseStore(Arc::new(e)))?
            .ok_or(GitError::Locked { waited: self.wait })?;
        let release = Box::pin(async move {
            if let Err(e) = held.release().await {
                tracing::warn!(lease = %name, error = %e, "cannot release the repository lease");
            }
        });
        Ok(LockGuard::remote(self.releases.clone(), release))
    }

    async fn released(&self) {
        self.releases.close();
        self.releases.wait().await;
        self.releases.reopen();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_dropped_guard_releases_as_a_task_its_owner_waits_for() {
        let tasks = TaskTracker::new();
        let released = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&released);
        let guard = LockGuard::remote(
            tasks.clone(),
            Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                flag.store(true, Ordering::SeqCst);
            }),
        );
        drop(guard);
        assert_eq!(tasks.len(), 1, "the release runs as a tracked task");
        tasks.close();
        tasks.wait().await;
        assert!(released.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_guard_frees_the_lease_before_returning() {
        let tasks = TaskTracker::new();
        let released = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&released);
        let guard = LocalLock
            .acquire("release-test")
            .await
            .unwrap()
            .and(LockGuard::remote(
                tasks.clone(),
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    flag.store(true, Ordering::SeqCst);
                }),
            ));
        guard.release().await;
        assert!(released.load(Ordering::SeqCst));
        assert!(tasks.is_empty(), "nothing left running");
        // The local mutex is free again.
        let again = LocalLock.acquire("release-test").await.unwrap();
        drop(again);
    }
}
