//! The kept snapshot and the shared version: a publish keeps its snapshot for the version its
//! bump produced, and one rendered from a kept snapshot while another replica published fails
//! so its jobs run again from a full read.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::tests::{fabric, snapshot};
use super::*;
use crate::config::FabricConfig;
use crate::netbox::incremental::{ObjectChange, SnapshotCache};
use crate::reconcile::netbox_io::desired_from_snapshot;
use crate::reconcile::testing::{MemoryTarget, RecordingWriter};
use crate::reconcile::{Basis, Desired, DesiredSource, SourceError};
use crate::state::{MemoryState, SharedState};

/// Keeps snapshots like the NetBox source, reading "in full" from the fixture; `rival` bumps
/// the shared version while it reads, as another replica's publish would.
struct KeepingSource {
    kept: SnapshotCache,
    rival: Option<Arc<MemoryState>>,
}

#[async_trait]
impl DesiredSource for KeepingSource {
    async fn desired(&self, fabric: &FabricConfig) -> Result<Desired, SourceError> {
        Ok(desired_from_snapshot(fabric, snapshot()))
    }

    async fn desired_after(
        &self,
        fabric: &FabricConfig,
        _: &[ObjectChange],
        version: Option<u64>,
    ) -> Result<(Desired, Basis), SourceError> {
        let (snapshot, basis) = match self.kept.checkout(&fabric.name, version) {
            Ok(kept) => (
                kept.snapshot,
                Basis {
                    incremental: true,
                    generation: Some(kept.generation),
                },
            ),
            Err(generation) => (
                snapshot(),
                Basis {
                    incremental: false,
                    generation: Some(generation),
                },
            ),
        };
        if let Some(rival) = &self.rival {
            rival.invalidate_snapshots(&fabric.name).await.unwrap();
        }
        Ok((desired_from_snapshot(fabric, snapshot), basis))
    }

    fn kept(&self) -> Option<&SnapshotCache> {
        Some(&self.kept)
    }
}

fn publisher(source: Arc<KeepingSource>, shared: Arc<MemoryState>) -> FabricPublisher {
    FabricPublisher {
        fabric: fabric(),
        source,
        target: Arc::new(MemoryTarget::new(vec![])),
        writer: Arc::new(RecordingWriter::default()),
        shared,
    }
}

#[tokio::test]
async fn a_publish_keeps_its_snapshot_for_the_version_its_bump_produced() {
    let shared = Arc::new(MemoryState::default());
    let source = Arc::new(KeepingSource {
        kept: SnapshotCache::default(),
        rival: None,
    });
    let publisher = publisher(source.clone(), shared.clone());
    let cause = crate::targets::Cause::default();
    publisher.publish(&cause, &[]).await.unwrap();
    assert_eq!(shared.snapshot_version("docs").await.unwrap(), 1);
    assert!(
        source.kept.checkout("docs", Some(1)).is_ok(),
        "kept at version 1"
    );
    publisher.publish(&cause, &[]).await.unwrap();
    assert_eq!(shared.snapshot_version("docs").await.unwrap(), 2);
    assert!(
        source.kept.checkout("docs", Some(1)).is_err(),
        "not kept for an old version"
    );
    assert!(
        source.kept.checkout("docs", Some(2)).is_ok(),
        "kept at version 2"
    );
}

#[tokio::test]
async fn a_publish_from_a_kept_snapshot_fails_when_another_replica_published_meanwhile() {
    let shared = Arc::new(MemoryState::default());
    let quiet = Arc::new(KeepingSource {
        kept: SnapshotCache::default(),
        rival: None,
    });
    publisher(quiet.clone(), shared.clone())
        .publish(&Default::default(), &[])
        .await
        .unwrap();
    let generation = quiet.kept.checkout("docs", Some(1)).ok().unwrap();
    let raced = Arc::new(KeepingSource {
        kept: SnapshotCache::default(),
        rival: Some(shared.clone()),
    });
    raced.kept.keep("docs", generation);
    raced.kept.confirm("docs", 1);

    let error = publisher(raced.clone(), shared.clone())
        .publish(&Default::default(), &[])
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::Superseded), "{error:?}");
    assert!(error.is_retryable());
    let version = shared.snapshot_version("docs").await.unwrap();
    assert!(
        raced.kept.checkout("docs", Some(version)).is_err(),
        "the snapshot is dropped"
    );

    // The same race on a full read loses nothing: the publish read NetBox after every change
    // acknowledged so far.
    publisher(raced.clone(), shared.clone())
        .publish(&Default::default(), &[])
        .await
        .unwrap();
}

/// What a device edit costs NetBox: its publish renders from the kept snapshot and the
/// webhook's body, against a NetBox that is not there, so it reads nothing.
#[tokio::test]
async fn a_device_edit_is_published_from_the_kept_snapshot_without_reading_netbox() {
    let kept = Arc::new(SnapshotCache::default());
    let generation = kept.checkout("docs", Some(0)).err().unwrap();
    let snapshot = snapshot();
    let mut device = serde_json::to_value(&snapshot.devices[0]).unwrap();
    kept.keep(
        "docs",
        crate::netbox::incremental::KeptSnapshot {
            snapshot,
            generation,
        },
    );
    kept.confirm("docs", 0);
    let source = crate::reconcile::netbox_io::NetBoxDesired {
        client: crate::reconcile::testing::absent_netbox(),
        environments: Default::default(),
        allocator: crate::allocation::AllocatorLease::local(),
        kept: kept.clone(),
    };
    let publisher = FabricPublisher {
        fabric: fabric(),
        source: Arc::new(source),
        target: Arc::new(MemoryTarget::new(vec![])),
        writer: Arc::new(RecordingWriter::default()),
        shared: Arc::new(MemoryState::default()),
    };
    device["description"] = json!("edited");
    let change = ObjectChange {
        object_type: "dcim.device".into(),
        event: "updated".into(),
        data: device,
    };
    publisher
        .publish(&Default::default(), &[change])
        .await
        .unwrap();
    let after = kept
        .checkout("docs", Some(1))
        .expect("kept at the bumped version");
    assert_eq!(
        after.snapshot.devices[0].description.as_deref(),
        Some("edited")
    );
}

#[tokio::test]
async fn a_fabric_configured_not_to_keep_its_snapshot_reads_every_publish_in_full() {
    let shared = Arc::new(MemoryState::default());
    let source = Arc::new(KeepingSource {
        kept: SnapshotCache::default(),
        rival: None,
    });
    let mut publisher = publisher(source.clone(), shared.clone());
    publisher.fabric.keep_snapshot = false;
    let cause = crate::targets::Cause::default();
    for version in [1, 2] {
        publisher.publish(&cause, &[]).await.unwrap();
        assert_eq!(shared.snapshot_version("docs").await.unwrap(), version);
        assert!(
            source.kept.checkout("docs", Some(version)).is_err(),
            "nothing kept at version {version}"
        );
    }
}
