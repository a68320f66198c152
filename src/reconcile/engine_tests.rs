//! Engine behaviour with an in-memory target and recorded NetBox state.

use std::sync::Mutex;

use serde_json::json;

use super::engine::*;
use super::health::SyncStatus;
use super::sources::SourceRef;
use super::testing::{FixedSource, MemoryTarget, RecordingWriter, reconciler};
use super::writeback::{NetBoxStatus, WritebackPlan};
use crate::config::FabricConfig;
use crate::model::{Kind, Manifest, ManifestMeta, ObjectKey};
use crate::netbox::types::Device;

fn fabric() -> FabricConfig {
    toml_fabric("name = \"lab\"")
}

fn toml_fabric(text: &str) -> FabricConfig {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        fabric: Vec<FabricConfig>,
    }
    let wrapper: Wrapper = figment::Figment::new()
        .merge(
            <figment::providers::Toml as figment::providers::Format>::string(&format!(
                "[[fabric]]\n{text}"
            )),
        )
        .extract()
        .unwrap();
    wrapper.fabric.into_iter().next().unwrap()
}

fn desired() -> Desired {
    let mut meta = ManifestMeta {
        name: "leaf-01".into(),
        ..Default::default()
    };
    meta.labels.insert(
        "app.kubernetes.io/managed-by".into(),
        "hedgehog-sidecar".into(),
    );
    meta.labels
        .insert("hedgehog-sidecar.io/fabric".into(), "lab".into());
    let switch = Manifest {
        api_version: Kind::Switch.api_version(),
        kind: "Switch".into(),
        metadata: meta,
        spec: json!({"role": "server-leaf", "asn": 65101}),
    };
    let device = SourceRef {
        object_type: "dcim.device".into(),
        id: 7,
        name: "leaf-01".into(),
    };
    let mut desired = Desired::default();
    desired.snapshot.devices.push(Device {
        id: 7,
        name: Some("leaf-01".into()),
        ..Default::default()
    });
    desired.sources.insert(
        ObjectKey {
            kind: Kind::Switch,
            name: "leaf-01".into(),
        },
        vec![device.clone()],
    );
    desired.switch_devices.insert("leaf-01".into(), device);
    desired.manifests.push(switch);
    desired
}

/// Writes the plan's fields into the snapshot, as NetBox would store them.
fn store(desired: &mut Desired, plan: &WritebackPlan) {
    for update in &plan.updates {
        let device = desired
            .snapshot
            .devices
            .iter_mut()
            .find(|d| d.id == update.object.id)
            .unwrap();
        for (k, v) in &update.custom_fields {
            device.custom_fields.0.insert(k.clone(), v.clone());
        }
    }
}

#[tokio::test]
async fn drift_is_detected_healed_and_a_steady_fabric_writes_nothing() {
    let fabric = fabric();
    let mut drifted = desired().manifests[0].to_value();
    drifted["spec"]["asn"] = json!(65199);
    let target = MemoryTarget {
        objects: Mutex::new(vec![drifted]),
        reachable: true,
        publishes: Mutex::new(0),
    };
    let source = FixedSource(Mutex::new(Some(desired())));
    let writer = RecordingWriter::default();
    let r = reconciler(&fabric, &source, &target, &writer);

    let dry = r.run(ReconcileOptions { dry_run: true }).await;
    assert_eq!(dry.sync, SyncStatus::OutOfSync);
    assert_eq!(dry.objects[0].diffs[0].path, "spec.asn");
    assert_eq!(
        *target.publishes.lock().unwrap(),
        0,
        "a dry run never publishes"
    );
    assert!(
        writer.0.lock().unwrap().is_empty(),
        "a dry run never writes to NetBox"
    );

    let first = r.run(ReconcileOptions::default()).await;
    assert_eq!(first.sync, SyncStatus::Synced, "{first:?}");
    assert!(first.healed.is_some());
    assert_eq!(*target.publishes.lock().unwrap(), 1);
    let plan = writer.0.lock().unwrap()[0].clone();
    assert!(
        plan.updates.is_empty(),
        "an object in sync carries no status: {:?}",
        plan.updates
    );
    assert!(
        plan.journal
            .iter()
            .any(|j| j.comments.contains("Drift detected") && j.comments.contains("spec.asn")),
        "the repaired drift is journalled: {:?}",
        plan.journal
    );

    // NetBox now holds the written status: the next pass compares clean and writes nothing.
    let mut held = desired();
    store(&mut held, &plan);
    *source.0.lock().unwrap() = Some(held);
    let second = r.run(ReconcileOptions::default()).await;
    assert_eq!(second.sync, SyncStatus::Synced);
    assert_eq!(
        second.netbox_updates + second.journal_entries,
        0,
        "{second:?}"
    );
    assert_eq!(writer.0.lock().unwrap().len(), 1);
    assert_eq!(*target.publishes.lock().unwrap(), 1, "nothing to heal");
}

#[tokio::test]
async fn unreadable_cluster_or_netbox_is_unknown_never_synced() {
    let fabric = fabric();
    let target = MemoryTarget {
        objects: Mutex::new(vec![]),
        reachable: false,
        publishes: Mutex::new(0),
    };
    let source = FixedSource(Mutex::new(Some(desired())));
    let writer = RecordingWriter::default();
    let report = reconciler(&fabric, &source, &target, &writer)
        .run(ReconcileOptions::default())
        .await;
    assert_eq!(report.sync, SyncStatus::Unknown);
    assert!(
        report.errors[0].contains("connection refused"),
        "{:?}",
        report.errors
    );
    assert!(
        writer.0.lock().unwrap().is_empty(),
        "no object gets the fabric-wide condition"
    );
    let fabric_outcome = writer.1.lock().unwrap()[0].clone();
    assert_eq!(fabric_outcome.status, NetBoxStatus::Unknown);
    assert!(fabric_outcome.message.contains("connection refused"));

    let source = FixedSource(Mutex::new(None));
    let target = MemoryTarget {
        objects: Mutex::new(vec![]),
        reachable: true,
        publishes: Mutex::new(0),
    };
    let report = reconciler(&fabric, &source, &target, &writer)
        .run(ReconcileOptions::default())
        .await;
    assert_eq!(report.sync, SyncStatus::Unknown);
    assert!(report.errors[0].contains("NetBox"), "{:?}", report.errors);
}

#[tokio::test]
async fn an_invalid_object_is_held_back_named_in_the_report_and_marked_invalid() {
    let fabric = toml_fabric("name = \"lab\"\nself_heal = true");
    let mut bad = desired();
    bad.problems.push(Problem {
        objects: vec![SourceRef {
            object_type: "dcim.device".into(),
            id: 7,
            name: "leaf-01".into(),
        }],
        message: "ASN 70000 is outside 65101-65533".into(),
    });
    let key = bad.manifests[0].key().unwrap();
    bad.held_back
        .insert(key.clone(), "invalid: ASN 70000".into());
    bad.manifests.clear();
    let target = MemoryTarget {
        objects: Mutex::new(vec![]),
        reachable: true,
        publishes: Mutex::new(0),
    };
    let source = FixedSource(Mutex::new(Some(bad)));
    let writer = RecordingWriter::default();
    let report = reconciler(&fabric, &source, &target, &writer)
        .run(ReconcileOptions::default())
        .await;
    assert_eq!(report.sync, SyncStatus::OutOfSync);
    assert_eq!(report.objects.len(), 1, "{:?}", report.objects);
    assert_eq!(report.objects[0].key, key);
    assert_eq!(
        report.objects[0].state,
        super::compare::ObjectState::HeldBack,
        "held back, never an orphan"
    );
    assert_eq!(*target.publishes.lock().unwrap(), 0, "nothing else to heal");
    let plan = writer.0.lock().unwrap()[0].clone();
    assert_eq!(
        plan.updates[0].custom_fields["hedgehog_status"],
        json!("invalid")
    );
    assert!(
        plan.journal
            .iter()
            .any(|j| j.comments.contains("ASN 70000"))
    );
    let fabric_outcome = writer.1.lock().unwrap()[0].clone();
    assert!(
        fabric_outcome.message.contains("leaf-01"),
        "{fabric_outcome:?}"
    );
}

#[tokio::test]
async fn a_pruned_object_is_journalled_on_the_fabrics_record() {
    let fabric = fabric();
    let mut orphan = desired().manifests[0].clone();
    orphan.metadata.name = "old-leaf".into();
    let target = MemoryTarget::new(vec![desired().manifests[0].to_value(), orphan.to_value()]);
    let writer = RecordingWriter::default();
    let source = FixedSource(Mutex::new(Some(desired())));
    let pass = reconciler(&fabric, &source, &target, &writer);
    let report = pass.run(ReconcileOptions::default()).await;
    assert_eq!(report.sync, SyncStatus::Synced, "{report:?}");
    let journal = writer.2.lock().unwrap().clone();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert!(journal[0].contains("Switch/old-leaf"), "{journal:?}");
}

/// A NetBox that refuses the objects' status writes for the first `failures` passes (the
/// fabric's record still takes its status).
struct RefusingWriter {
    failures: Mutex<u32>,
    inner: RecordingWriter,
}

#[async_trait::async_trait]
impl StatusWriter for RefusingWriter {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), WriteBackError> {
        {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(WriteBackError::Unavailable(super::WriteFailure::new(
                    "updating dcim.device status",
                    crate::netbox::NetBoxError::Unreachable {
                        url: "http://netbox".into(),
                        message: "503 Service Unavailable".into(),
                        sent: false,
                    },
                )));
            }
        }
        self.inner.write(plan).await
    }

    async fn write_fabric(
        &self,
        fabric: &FabricConfig,
        outcome: &super::writeback::Outcome,
    ) -> Result<bool, WriteBackError> {
        self.inner.write_fabric(fabric, outcome).await
    }
}

#[tokio::test]
async fn a_failed_write_back_reads_error_and_is_written_by_the_next_pass() {
    let fabric = toml_fabric("name = \"lab\"\nself_heal = false");
    let mut drifted = desired().manifests[0].to_value();
    drifted["spec"]["asn"] = json!(65199);
    let target = MemoryTarget::new(vec![drifted]);
    let source = FixedSource(Mutex::new(Some(desired())));
    let writer = RefusingWriter {
        failures: Mutex::new(1),
        inner: RecordingWriter::default(),
    };
    let r = reconciler(&fabric, &source, &target, &writer);

    let failed = r.run(ReconcileOptions::default()).await;
    assert!(
        failed
            .errors
            .iter()
            .any(|e| e.contains("cannot write status back to NetBox") && e.contains("503")),
        "{:?}",
        failed.errors
    );
    assert!(!failed.succeeded(), "the scheduler retries it soon");
    assert_eq!(
        super::fabric_status::fabric_status(&failed),
        NetBoxStatus::Error,
        "the API and the metrics read error"
    );
    let record = writer.inner.1.lock().unwrap().last().cloned().unwrap();
    assert_eq!(record.status, NetBoxStatus::Error, "the fabric's record");
    assert!(record.message.contains("503"), "{}", record.message);
    assert!(writer.inner.0.lock().unwrap().is_empty());

    // NetBox takes writes again: the next pass plans the same status and writes it.
    let next = r.run(ReconcileOptions::default()).await;
    assert!(next.succeeded(), "{:?}", next.errors);
    let written = writer.inner.0.lock().unwrap().clone();
    assert_eq!(written.len(), 1);
    assert_eq!(
        written[0].updates[0].custom_fields["hedgehog_status"],
        json!("drifted")
    );
    let record = writer.inner.1.lock().unwrap().last().cloned().unwrap();
    assert_eq!(record.status, NetBoxStatus::Drifted);
}
