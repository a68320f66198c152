//! A fabric's last report brought up to date after a job's publish, so `/api/v1/fabrics` and
//! the metrics follow every change, not only the periodic reconcile. A publish renders the
//! whole fabric and brings the target to it, so what it did tells each object's state.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::compare::{ObjectReport, ObjectState};
use super::engine::{Desired, FabricReport};
use super::health::SyncStatus;
use crate::model::ObjectKey;
use crate::targets::PublishReport;

/// Updates `report` (a reconcile's) with a successful publish of `desired`.
pub(crate) fn refresh_after_publish(
    report: &mut FabricReport,
    desired: &Desired,
    published: &PublishReport,
    at: DateTime<Utc>,
) {
    let refused: BTreeSet<&ObjectKey> = published.failures.iter().map(|f| &f.key).collect();
    let before = std::mem::take(&mut report.objects);
    let previous = |key: &ObjectKey| {
        before
            .iter()
            .find(|o| &o.key == key && o.state != ObjectState::InSync)
            .map_or(ObjectState::Missing, |o| o.state)
    };
    let mut objects: Vec<ObjectReport> = before
        .iter()
        .filter(|o| o.state == ObjectState::Orphan && !o.managed)
        .cloned()
        .collect();
    for key in desired.manifests.iter().filter_map(|m| m.key()) {
        let state = if refused.contains(&key) {
            previous(&key)
        } else {
            ObjectState::InSync
        };
        objects.push(object(key, state));
    }
    objects.extend(
        desired
            .held_back
            .keys()
            .map(|key| object(key.clone(), ObjectState::HeldBack)),
    );
    let in_sync = objects
        .iter()
        .all(|o| o.state == ObjectState::InSync || (o.state == ObjectState::Orphan && !o.managed));
    report.sync = if in_sync && desired.problems.is_empty() {
        SyncStatus::Synced
    } else {
        SyncStatus::OutOfSync
    };
    report.objects = objects;
    report.problems = desired.problems.clone();
    report.errors = published
        .failures
        .iter()
        .map(|f| format!("the target refused {}: {}", f.key, f.message))
        .collect();
    report.last_publish = Some(at);
}

/// Records a failed publish or write-back on `report`: the fabric reads `error` until a
/// later publish or reconcile succeeds.
pub(crate) fn record_publish_failure(report: &mut FabricReport, message: &str, at: DateTime<Utc>) {
    if !report.errors.iter().any(|e| e == message) {
        report.errors.push(message.to_owned());
    }
    report.last_publish = Some(at);
}

fn object(key: ObjectKey, state: ObjectState) -> ObjectReport {
    ObjectReport {
        key,
        state,
        diffs: vec![],
        managed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Manifest};
    use crate::reconcile::fabric_status::fabric_status;
    use crate::reconcile::writeback::NetBoxStatus;

    fn switch(name: &str) -> Manifest {
        Manifest {
            api_version: Kind::Switch.api_version(),
            kind: "Switch".into(),
            metadata: crate::model::ManifestMeta {
                name: name.into(),
                ..Default::default()
            },
            spec: serde_json::json!({}),
        }
    }

    #[test]
    fn a_publish_refreshes_the_report_and_a_failed_one_reads_error() {
        let mut report = FabricReport::new("lab", "apply", false);
        report.sync = SyncStatus::OutOfSync;
        report
            .objects
            .push(object(switch("old").key().unwrap(), ObjectState::Drifted));
        let desired = Desired {
            manifests: vec![switch("leaf-01")],
            ..Desired::default()
        };
        let now = Utc::now();
        refresh_after_publish(&mut report, &desired, &PublishReport::default(), now);
        assert_eq!(report.sync, SyncStatus::Synced);
        assert_eq!(report.objects.len(), 1);
        assert_eq!(report.last_publish, Some(now));

        record_publish_failure(&mut report, "cannot write status back to NetBox: 503", now);
        assert_eq!(fabric_status(&report), NetBoxStatus::Error);
        refresh_after_publish(&mut report, &desired, &PublishReport::default(), now);
        assert_eq!(
            fabric_status(&report),
            NetBoxStatus::Synced,
            "cleared by the next success"
        );
    }
}
