//! Each fabric's kept snapshot in this process, and the shared version it stands for.
//!
//! A publish checks a snapshot out for the version the replicas share (see
//! [`crate::state::SharedState::snapshot_version`]), brings it up to date, keeps it back
//! unconfirmed, and confirms it with the version its successful bump produced. The sidecar's
//! own custom-field writes (statuses), which NetBox sends no webhook for, are applied to every
//! kept snapshot; a publish whose snapshot was read before such a write keeps nothing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::freeing::drop_in_background;
use crate::netbox::FabricSnapshot;

#[derive(Default)]
struct Kept {
    snapshot: Option<FabricSnapshot>,
    /// The shared version the snapshot stands for; `None` until confirmed.
    version: Option<u64>,
    /// Counts the writes and forgets since the process started: a snapshot read before one
    /// of them is not kept.
    generation: u64,
}

/// A snapshot checked out or read in full, with the generation it was read at.
pub struct KeptSnapshot {
    pub snapshot: FabricSnapshot,
    pub generation: u64,
}

#[derive(Default)]
pub struct SnapshotCache {
    fabrics: Mutex<BTreeMap<String, Kept>>,
}

impl SnapshotCache {
    fn with<R>(&self, fabric: &str, f: impl FnOnce(&mut Kept) -> R) -> R {
        let mut fabrics = self.fabrics.lock().unwrap_or_else(|e| e.into_inner());
        f(fabrics.entry(fabric.to_owned()).or_default())
    }

    /// A copy of the fabric's snapshot when it stands for `version`; else `Err` with the
    /// generation a full read starts at.
    pub fn checkout(&self, fabric: &str, version: Option<u64>) -> Result<KeptSnapshot, u64> {
        self.with(fabric, |kept| {
            match (&kept.snapshot, kept.version, version) {
                (Some(snapshot), Some(held), Some(wanted)) if held == wanted => Ok(KeptSnapshot {
                    snapshot: snapshot.clone(),
                    generation: kept.generation,
                }),
                _ => Err(kept.generation),
            }
        })
    }

    /// Keeps `read` unconfirmed, unless a write or forget happened since it was read.
    pub fn keep(&self, fabric: &str, read: KeptSnapshot) {
        let replaced = self.with(fabric, |kept| {
            kept.version = None;
            let snapshot = (kept.generation == read.generation).then_some(read.snapshot);
            std::mem::replace(&mut kept.snapshot, snapshot)
        });
        drop_in_background(replaced);
    }

    /// The kept snapshot stands for `version`.
    pub fn confirm(&self, fabric: &str, version: u64) {
        self.with(fabric, |kept| {
            kept.version = kept.snapshot.is_some().then_some(version);
        });
    }

    /// Drops the fabric's snapshot: its next publish reads the fabric in full.
    pub fn forget(&self, fabric: &str) {
        self.with(fabric, |kept| {
            *kept = Kept {
                generation: kept.generation + 1,
                ..Kept::default()
            };
        });
    }

    /// Drops every fabric's snapshot.
    pub fn forget_all(&self) {
        let names: Vec<String> = {
            let fabrics = self.fabrics.lock().unwrap_or_else(|e| e.into_inner());
            fabrics.keys().cloned().collect()
        };
        for name in names {
            self.forget(&name);
        }
    }

    /// Whether the fabric's kept snapshot holds the object; `None` when none is kept.
    pub fn holds(&self, fabric: &str, object_type: &str, id: u64) -> Option<bool> {
        self.with(fabric, |kept| {
            let snapshot = kept.snapshot.as_mut()?;
            Some(snapshot.custom_fields_mut(object_type, id).is_some())
        })
    }

    /// The sidecar wrote these custom fields of `object_type` `id`: every kept snapshot
    /// holding the object takes them.
    pub fn wrote(&self, object_type: &str, id: u64, values: &Map<String, Value>) {
        let mut fabrics = self.fabrics.lock().unwrap_or_else(|e| e.into_inner());
        for kept in fabrics.values_mut() {
            kept.generation += 1;
            let Some(snapshot) = kept.snapshot.as_mut() else {
                continue;
            };
            if let Some(fields) = snapshot.custom_fields_mut(object_type, id) {
                for (name, value) in values {
                    fields.0.insert(name.clone(), value.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netbox::types::Device;

    fn snapshot() -> FabricSnapshot {
        FabricSnapshot {
            devices: vec![Device {
                id: 7,
                ..Device::default()
            }],
            ..FabricSnapshot::default()
        }
    }

    fn read(cache: &SnapshotCache, version: Option<u64>) -> Result<KeptSnapshot, u64> {
        cache.checkout("lab", version)
    }

    /// Keeps the test snapshot as read at `generation` and confirms it at `version`.
    fn keep_at(cache: &SnapshotCache, generation: u64, version: Option<u64>) {
        let snapshot = snapshot();
        cache.keep(
            "lab",
            KeptSnapshot {
                snapshot,
                generation,
            },
        );
        if let Some(version) = version {
            cache.confirm("lab", version);
        }
    }

    #[test]
    fn a_snapshot_is_checked_out_only_for_the_version_it_was_confirmed_at() {
        let cache = SnapshotCache::default();
        let generation = read(&cache, Some(1)).err().unwrap();
        keep_at(&cache, generation, None);
        assert!(read(&cache, Some(1)).is_err(), "unconfirmed");
        cache.confirm("lab", 2);
        assert!(read(&cache, Some(1)).is_err(), "an older version");
        assert!(read(&cache, None).is_err(), "an unknown version");
        assert_eq!(read(&cache, Some(2)).ok().unwrap().snapshot, snapshot());
    }

    #[test]
    fn a_snapshot_read_before_a_write_or_forget_is_not_kept() {
        let cache = SnapshotCache::default();
        let generation = read(&cache, Some(1)).err().unwrap();
        cache.wrote("dcim.device", 7, &Map::new());
        keep_at(&cache, generation, Some(1));
        assert!(read(&cache, Some(1)).is_err());
        let generation = read(&cache, Some(1)).err().unwrap();
        cache.forget("lab");
        keep_at(&cache, generation, Some(1));
        assert!(read(&cache, Some(1)).is_err());
    }

    #[test]
    fn the_sidecars_own_writes_reach_the_kept_snapshots() {
        let cache = SnapshotCache::default();
        let generation = read(&cache, Some(1)).err().unwrap();
        keep_at(&cache, generation, Some(1));
        let mut values = Map::new();
        values.insert("hedgehog_status".into(), "invalid".into());
        cache.wrote("dcim.device", 7, &values);
        let kept = read(&cache, Some(1)).ok().unwrap().snapshot;
        assert_eq!(
            kept.devices[0]
                .custom_fields
                .string("hedgehog_status")
                .as_deref(),
            Some("invalid")
        );
        assert_eq!(cache.holds("lab", "dcim.device", 7), Some(true));
        assert_eq!(cache.holds("lab", "dcim.device", 8), Some(false));
        assert_eq!(cache.holds("other", "dcim.device", 7), None);
    }
}
