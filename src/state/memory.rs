//! The shared state of a single process (the embedded queue).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{CHANGE_TTL, MAX_CHANGES, SharedState, StateError};
use crate::attribution::NetBoxChange;
use crate::reconcile::{FabricReport, SourceMap};

#[derive(Debug, Default)]
pub struct MemoryState {
    /// Each change with when it was recorded (what expiry counts from).
    changes: Mutex<BTreeMap<String, (DateTime<Utc>, NetBoxChange)>>,
    sources: Mutex<BTreeMap<String, SourceMap>>,
    reports: Mutex<BTreeMap<String, FabricReport>>,
    versions: Mutex<BTreeMap<String, u64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl SharedState for MemoryState {
    async fn record_change(&self, change: &NetBoxChange) -> Result<(), StateError> {
        let mut changes = lock(&self.changes);
        if changes.len() >= MAX_CHANGES
            && let Some(first) = changes.values().min().map(|(_, c)| c.id())
        {
            changes.remove(&first);
        }
        changes.insert(change.id(), (Utc::now(), change.clone()));
        Ok(())
    }

    async fn changes(&self) -> Result<Vec<NetBoxChange>, StateError> {
        let mut stored = lock(&self.changes);
        let oldest = Utc::now() - CHANGE_TTL;
        stored.retain(|_, (recorded, _)| *recorded > oldest);
        let mut changes: Vec<NetBoxChange> = stored.values().map(|(_, c)| c.clone()).collect();
        changes.sort();
        Ok(changes)
    }

    async fn forget_changes(&self, changes: &[NetBoxChange]) -> Result<(), StateError> {
        let mut stored = lock(&self.changes);
        for change in changes {
            stored.remove(&change.id());
        }
        Ok(())
    }

    async fn published_sources(&self, fabric: &str) -> Result<SourceMap, StateError> {
        Ok(lock(&self.sources).get(fabric).cloned().unwrap_or_default())
    }

    async fn set_published_sources(
        &self,
        fabric: &str,
        sources: &SourceMap,
    ) -> Result<(), StateError> {
        lock(&self.sources).insert(fabric.to_owned(), sources.clone());
        Ok(())
    }

    async fn report(&self, fabric: &str) -> Result<Option<FabricReport>, StateError> {
        Ok(lock(&self.reports).get(fabric).cloned())
    }

    async fn set_report(&self, fabric: &str, report: &FabricReport) -> Result<(), StateError> {
        lock(&self.reports).insert(fabric.to_owned(), report.clone());
        Ok(())
    }

    async fn snapshot_version(&self, fabric: &str) -> Result<u64, StateError> {
        Ok(lock(&self.versions).get(fabric).copied().unwrap_or(0))
    }

    async fn bump_snapshot_version(
        &self,
        fabric: &str,
        seen: u64,
    ) -> Result<Option<u64>, StateError> {
        let mut versions = lock(&self.versions);
        let version = versions.entry(fabric.to_owned()).or_default();
        if *version != seen {
            return Ok(None);
        }
        *version += 1;
        Ok(Some(*version))
    }

    async fn invalidate_snapshots(&self, fabric: &str) -> Result<(), StateError> {
        *lock(&self.versions).entry(fabric.to_owned()).or_default() += 1;
        Ok(())
    }
}
