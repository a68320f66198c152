//! The shared state in Redis, under the queue's key prefix: one hash of recorded changes (field:
//! the change's id), and per fabric a key with its last published sources and one with its last
//! report (JSON) and the version of its kept NetBox snapshots (a counter).

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{CHANGE_TTL, MAX_CHANGES, SharedState, StateError, decode_sources, encode_sources};
use crate::attribution::NetBoxChange;
use crate::reconcile::{FabricReport, SourceMap};

/// A recorded change as stored, with when it was recorded (what expiry counts from).
#[derive(serde::Serialize, serde::Deserialize)]
struct Recorded {
    recorded_at: chrono::DateTime<chrono::Utc>,
    change: NetBoxChange,
}

#[derive(Debug)]
pub struct RedisState {
    pool: deadpool_redis::Pool,
    prefix: String,
}

impl RedisState {
    /// `prefix` namespaces the keys (the queue's key prefix).
    pub fn new(pool: deadpool_redis::Pool, prefix: impl Into<String>) -> Self {
        Self {
            pool,
            prefix: prefix.into(),
        }
    }

    fn changes_key(&self) -> String {
        format!("{}:state:changes", self.prefix)
    }

    fn fabric_key(&self, fabric: &str, what: &str) -> String {
        format!("{}:state:fabric:{fabric}:{what}", self.prefix)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        let mut conn = self.pool.get().await?;
        Ok(conn.get(key).await?)
    }

    async fn set(&self, key: &str, value: String) -> Result<(), StateError> {
        let mut conn = self.pool.get().await?;
        let () = conn.set(key, value).await?;
        Ok(())
    }
}

#[async_trait]
impl SharedState for RedisState {
    async fn record_change(&self, change: &NetBoxChange) -> Result<(), StateError> {
        let mut conn = self.pool.get().await?;
        let () = conn
            .hset(
                self.changes_key(),
                change.id(),
                serde_json::to_string(&Recorded {
                    recorded_at: chrono::Utc::now(),
                    change: change.clone(),
                })?,
            )
            .await?;
        Ok(())
    }

    async fn changes(&self) -> Result<Vec<NetBoxChange>, StateError> {
        let mut conn = self.pool.get().await?;
        let stored: std::collections::HashMap<String, String> =
            conn.hgetall(self.changes_key()).await?;
        let oldest = chrono::Utc::now() - CHANGE_TTL;
        let mut changes = Vec::with_capacity(stored.len());
        let mut expired = Vec::new();
        for (id, text) in stored {
            match serde_json::from_str::<Recorded>(&text) {
                Ok(stored) if stored.recorded_at > oldest => changes.push(stored.change),
                // Expired, or written by a version that stored something else.
                _ => expired.push(id),
            }
        }
        changes.sort();
        if changes.len() > MAX_CHANGES {
            let excess = changes.len() - MAX_CHANGES;
            expired.extend(changes.drain(..excess).map(|c| c.id()));
        }
        if !expired.is_empty() {
            let () = conn.hdel(self.changes_key(), expired).await?;
        }
        Ok(changes)
    }

    async fn forget_changes(&self, changes: &[NetBoxChange]) -> Result<(), StateError> {
        if changes.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = changes.iter().map(NetBoxChange::id).collect();
        let mut conn = self.pool.get().await?;
        let () = conn.hdel(self.changes_key(), ids).await?;
        Ok(())
    }

    async fn published_sources(&self, fabric: &str) -> Result<SourceMap, StateError> {
        match self.get(&self.fabric_key(fabric, "sources")).await? {
            Some(text) => Ok(decode_sources(&text)?),
            None => Ok(SourceMap::new()),
        }
    }

    async fn set_published_sources(
        &self,
        fabric: &str,
        sources: &SourceMap,
    ) -> Result<(), StateError> {
        self.set(
            &self.fabric_key(fabric, "sources"),
            encode_sources(sources)?,
        )
        .await
    }

    async fn report(&self, fabric: &str) -> Result<Option<FabricReport>, StateError> {
        match self.get(&self.fabric_key(fabric, "report")).await? {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }

    async fn set_report(&self, fabric: &str, report: &FabricReport) -> Result<(), StateError> {
        self.set(
            &self.fabric_key(fabric, "report"),
            serde_json::to_string(report)?,
        )
        .await
    }

    async fn snapshot_version(&self, fabric: &str) -> Result<u64, StateError> {
        let version: Option<u64> = self
            .get(&self.fabric_key(fabric, "version"))
            .await?
            .and_then(|v| v.parse().ok());
        Ok(version.unwrap_or(0))
    }

    async fn bump_snapshot_version(
        &self,
        fabric: &str,
        seen: u64,
    ) -> Result<Option<u64>, StateError> {
        let mut conn = self.pool.get().await?;
        let bumped: i64 = redis::Script::new(BUMP_IF_SEEN)
            .key(self.fabric_key(fabric, "version"))
            .arg(seen)
            .invoke_async(&mut conn)
            .await?;
        Ok(u64::try_from(bumped).ok())
    }

    async fn invalidate_snapshots(&self, fabric: &str) -> Result<(), StateError> {
        let mut conn = self.pool.get().await?;
        let _: u64 = conn.incr(self.fabric_key(fabric, "version"), 1).await?;
        Ok(())
    }
}

/// INCR when the version is still the one the caller saw; -1 otherwise.
const BUMP_IF_SEEN: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
return redis.call('INCR', KEYS[1])
";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[ignore = "needs Redis"]
    async fn changes_sources_and_reports_round_trip_through_redis() {
        let url = std::env::var("HHS_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379/3".into());
        let pool = deadpool_redis::Config::from_url(url)
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .unwrap();
        let state = RedisState::new(pool, format!("test-{}", uuid::Uuid::new_v4()));
        let change = NetBoxChange::new("dcim.device", 7, Some("r-1"), Some("alice"), "x").unwrap();
        state.record_change(&change).await.unwrap();
        state.record_change(&change).await.unwrap();
        assert_eq!(
            state.changes().await.unwrap(),
            std::slice::from_ref(&change)
        );
        state.forget_changes(&[change]).await.unwrap();
        assert!(state.changes().await.unwrap().is_empty());

        let key = crate::model::ObjectKey {
            kind: crate::model::Kind::Switch,
            name: "leaf-01".into(),
        };
        let sources: SourceMap = [(key, vec![])].into();
        state.set_published_sources("lab", &sources).await.unwrap();
        assert_eq!(state.published_sources("lab").await.unwrap(), sources);
        assert!(state.report("lab").await.unwrap().is_none());
        let report = FabricReport::new("lab", "apply", false);
        state.set_report("lab", &report).await.unwrap();
        assert_eq!(state.report("lab").await.unwrap().unwrap().fabric, "lab");

        assert_eq!(state.snapshot_version("lab").await.unwrap(), 0);
        assert_eq!(
            state.bump_snapshot_version("lab", 0).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            state.bump_snapshot_version("lab", 0).await.unwrap(),
            None,
            "stale"
        );
        state.invalidate_snapshots("lab").await.unwrap();
        assert_eq!(state.snapshot_version("lab").await.unwrap(), 2);
    }
}
