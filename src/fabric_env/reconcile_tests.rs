//! A fabric whose configuration cannot be read is not rendered, and the fabric's status in
//! NetBox says why.

use super::FabricEnvSource;
use crate::config::FabricConfig;
use crate::reconcile::netbox_io::NetBoxDesired;
use crate::reconcile::testing::{MemoryTarget, RecordingWriter, absent_netbox, reconciler};
use crate::reconcile::writeback::NetBoxStatus;
use crate::reconcile::{ReconcileOptions, SyncStatus};
use std::collections::BTreeMap;

#[tokio::test]
async fn a_missing_configuration_file_is_reported_on_the_fabrics_status() {
    let mut fabric: FabricConfig =
        serde_json::from_value(serde_json::json!({"name": "lab", "mode": "commit"})).unwrap();
    fabric.fabric_config_file = Some("/nonexistent/fabric-config.yaml".into());
    let source = NetBoxDesired {
        client: absent_netbox(),
        environments: BTreeMap::from([("lab".to_owned(), FabricEnvSource::Local)]),
        allocator: crate::allocation::AllocatorLease::local(),
        kept: Default::default(),
    };
    let target = MemoryTarget::new(vec![]);
    let writer = RecordingWriter::default();
    let report = reconciler(&fabric, &source, &target, &writer)
        .run(ReconcileOptions::default())
        .await;
    assert_eq!(report.sync, SyncStatus::Unknown);
    assert_eq!(*target.publishes.lock().unwrap(), 0, "nothing published");
    let outcomes = writer.1.lock().unwrap();
    let outcome = outcomes.last().expect("the fabric's record is written");
    assert_eq!(outcome.status, NetBoxStatus::Unknown);
    let message = &outcome.message;
    assert!(
        message.contains(
            "cannot read the fabric's configuration file /nonexistent/fabric-config.yaml"
        ),
        "{message}"
    );
}
