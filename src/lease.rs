//! Leases: one holder at a time across replicas (the reconciler of a fabric, the writer of a
//! Git repository).
//!
//! With Redis, a lease is a key set with `SET NX PX` holding the holder's id; renewal and
//! release are Lua scripts that act only when the key still holds that id, so a replica whose
//! lease expired can never cut short its successor's. Without Redis there is one process, and
//! an in-memory table gives the same guarantees to its tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

/// The lease store (Redis) could not be asked; the lease's state is unknown.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease store unavailable: {0}")]
    Connection(#[source] deadpool_redis::PoolError),
    #[error("lease store unavailable: {0}")]
    Redis(#[source] redis::RedisError),
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease `name` for `holder` for `ttl`, or renews it if `holder` has it.
    /// Returns whether `holder` holds it now.
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, LeaseError>;
    /// Gives the lease up if `holder` has it.
    async fn release(&self, name: &str, holder: &str) -> Result<(), LeaseError>;
}

/// A lease held by one holder and renewed in the background (every third of its time to live)
/// until [`HeldLease::release`]. Dropped without `release`, it stops renewing and the lease
/// expires after its time to live.
pub(crate) struct HeldLease {
    lease: Arc<dyn LeaseStore>,
    name: String,
    holder: String,
    renewal: JoinHandle<()>,
    /// Cancelled when the lease is lost: another holder has it, or it could not be renewed
    /// for a whole time to live.
    lost: CancellationToken,
    _stop_renewing: DropGuard,
}

impl HeldLease {
    /// Takes lease `name` for `holder`; `None` when someone else holds it.
    pub async fn acquire(
        lease: Arc<dyn LeaseStore>,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Self>, LeaseError> {
        if !lease.acquire(name, holder, ttl).await? {
            return Ok(None);
        }
        let stop = CancellationToken::new();
        let lost = CancellationToken::new();
        let renewal = tokio::spawn(renew(
            lease.clone(),
            name.to_owned(),
            holder.to_owned(),
            ttl,
            stop.clone(),
            lost.clone(),
        ));
        Ok(Some(Self {
            lease,
            name: name.to_owned(),
            holder: holder.to_owned(),
            renewal,
            lost,
            _stop_renewing: stop.drop_guard(),
        }))
    }

    /// Takes lease `name` for `holder`, waiting up to `wait` while someone else holds it
    /// (polling, backing off from 20 ms to 500 ms); `None` when it is still held then.
    pub async fn wait_for(
        lease: Arc<dyn LeaseStore>,
        name: &str,
        holder: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Self>, LeaseError> {
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(held) = Self::acquire(lease.clone(), name, holder, ttl).await? {
                return Ok(Some(held));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Resolves when the lease is lost (see [`HeldLease`]'s `lost`).
    pub async fn lost(&self) {
        self.lost.cancelled().await;
    }

    /// Stops renewing (waiting for a renewal in flight) and gives the lease up.
    pub async fn release(self) -> Result<(), LeaseError> {
        let Self {
            lease,
            name,
            holder,
            renewal,
            _stop_renewing,
            ..
        } = self;
        drop(_stop_renewing);
        let _ = renewal.await;
        lease.release(&name, &holder).await
    }
}

/// Renews until `stop`, or until the lease is lost (someone else holds it now, or no renewal
/// succeeded for a whole time to live, so it may have expired), which cancels `lost`.
async fn renew(
    lease: Arc<dyn LeaseStore>,
    name: String,
    holder: String,
    ttl: Duration,
    stop: CancellationToken,
    lost: CancellationToken,
) {
    let mut every = tokio::time::interval(ttl / 3);
    every.tick().await;
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        match lease.acquire(&name, &holder, ttl).await {
            Ok(true) => renewed = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::warn!(lease = %name, "lost the lease to another holder");
                lost.cancel();
                return;
            }
            Err(error) => {
                tracing::warn!(lease = %name, %error, "cannot renew the lease");
                if renewed.elapsed() >= ttl {
                    lost.cancel();
                    return;
                }
            }
        }
    }
}

/// A holder name for this process: its host name (a pod's name) and a random part, so two
/// processes on one host are two holders.
pub fn new_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "sidecar".into());
    format!("{host}-{}", uuid::Uuid::new_v4())
}

/// Leases for the tasks of one process.
#[derive(Default)]
pub struct LocalLease {
    held: Mutex<HashMap<String, (String, Instant)>>,
}

#[async_trait]
impl LeaseStore for LocalLease {
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, LeaseError> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match held.get(name) {
            Some((owner, expires)) if owner != holder && *expires > now => Ok(false),
            _ => {
                held.insert(name.to_owned(), (holder.to_owned(), now + ttl));
                Ok(true)
            }
        }
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), LeaseError> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.get(name).is_some_and(|(owner, _)| owner == holder) {
            held.remove(name);
        }
        Ok(())
    }
}

/// Leases shared by every replica through Redis.
pub struct RedisLease {
    pool: deadpool_redis::Pool,
    prefix: String,
}

const ACQUIRE: &str = r#"
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"#;

const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

impl RedisLease {
    /// `prefix` namespaces the keys (the queue's key prefix).
    pub fn new(pool: deadpool_redis::Pool, prefix: impl Into<String>) -> Self {
        Self {
            pool,
            prefix: prefix.into(),
        }
    }

    /// The Redis key of lease `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:lease:{name}", self.prefix)
    }

    async fn run(&self, script: &str, name: &str, args: &[String]) -> Result<i64, LeaseError> {
        let mut conn = self.pool.get().await.map_err(LeaseError::Connection)?;
        let script = redis::Script::new(script);
        let mut invocation = script.key(self.key(name));
        for arg in args {
            invocation.arg(arg);
        }
        invocation
            .invoke_async(&mut conn)
            .await
            .map_err(LeaseError::Redis)
    }
}

#[async_trait]
impl LeaseStore for RedisLease {
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, LeaseError> {
        let millis = ttl.as_millis().max(1).to_string();
        Ok(self
            .run(ACQUIRE, name, &[holder.to_owned(), millis])
            .await?
            == 1)
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), LeaseError> {
        self.run(RELEASE, name, &[holder.to_owned()])
            .await
            .map(|_| ())
    }
}

/// Leases in the test Redis (`HHS_TEST_REDIS_URL`) under a key prefix of their own.
#[cfg(test)]
pub(crate) fn test_redis_lease() -> RedisLease {
    let url =
        std::env::var("HHS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/3".into());
    let pool = deadpool_redis::Config::from_url(url)
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("a Redis pool");
    RedisLease::new(pool, format!("test-{}", uuid::Uuid::new_v4()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exclusive_and_expiring(lease: &dyn LeaseStore, name: &str) {
        let ttl = Duration::from_millis(300);
        assert!(lease.acquire(name, "a", ttl).await.unwrap());
        assert!(
            !lease.acquire(name, "b", ttl).await.unwrap(),
            "b must wait while a holds it"
        );
        assert!(
            lease.acquire(name, "a", ttl).await.unwrap(),
            "the holder renews"
        );
        lease.release(name, "b").await.unwrap();
        assert!(
            !lease.acquire(name, "b", ttl).await.unwrap(),
            "b cannot release a's lease"
        );
        lease.release(name, "a").await.unwrap();
        assert!(
            lease.acquire(name, "b", ttl).await.unwrap(),
            "released: b takes it"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            lease.acquire(name, "a", ttl).await.unwrap(),
            "expired: a takes it over"
        );
    }

    /// Counts how often the lease is taken or renewed.
    #[derive(Default)]
    struct Counting {
        inner: LocalLease,
        acquires: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl LeaseStore for Counting {
        async fn acquire(
            &self,
            name: &str,
            holder: &str,
            ttl: Duration,
        ) -> Result<bool, LeaseError> {
            self.acquires
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.acquire(name, holder, ttl).await
        }
        async fn release(&self, name: &str, holder: &str) -> Result<(), LeaseError> {
            self.inner.release(name, holder).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_renews_itself_until_released() {
        let counting = Arc::new(Counting::default());
        let lease: Arc<dyn LeaseStore> = counting.clone();
        let ttl = Duration::from_secs(30);
        let held = HeldLease::acquire(lease.clone(), "fabric-lab", "a", ttl)
            .await
            .unwrap()
            .expect("free");
        let acquires = || counting.acquires.load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(ttl + Duration::from_secs(1)).await;
        assert_eq!(acquires(), 1 + 3, "renewed every third of the ttl");
        assert!(
            HeldLease::acquire(lease.clone(), "fabric-lab", "b", ttl)
                .await
                .unwrap()
                .is_none(),
            "still held"
        );
        held.release().await.unwrap();
        let after_release = acquires();
        tokio::time::sleep(ttl * 2).await;
        assert_eq!(acquires(), after_release, "no renewal after release");
        assert!(lease.acquire("fabric-lab", "b", ttl).await.unwrap());
    }

    #[tokio::test]
    async fn local_lease_is_exclusive_and_expires() {
        exclusive_and_expiring(&LocalLease::default(), "fabric-lab").await;
    }

    #[tokio::test]
    #[ignore = "needs Redis"]
    async fn redis_lease_is_exclusive_and_expires() {
        exclusive_and_expiring(&test_redis_lease(), "fabric-lab").await;
    }
}
