//! Per-fabric reconcile metrics (Prometheus, `hhs_*` like the queue's): what a dashboard or an
//! alert needs without calling the API: the fabric's sync status and health as one-hot gauges
//! (Argo CD's `argocd_app_info` style), its objects by state, its switches by health, and how
//! long the last pass took.

use super::compare::ObjectState;
use super::engine::FabricReport;
use super::fabric_status::fabric_status;
use super::health::{Health, SyncStatus};
use super::writeback::NetBoxStatus;

pub(crate) const RUNS: &str = "hhs_reconcile_runs_total";
pub(crate) const DURATION: &str = "hhs_reconcile_last_duration_seconds";
pub(crate) const SYNC: &str = "hhs_fabric_sync_status";
pub(crate) const HEALTH: &str = "hhs_fabric_health";
pub const OBJECTS: &str = "hhs_fabric_objects";
pub const SWITCHES: &str = "hhs_fabric_switches";
/// One-hot over the fabric record's status values (`synced`, `pending`, `drifted`, `error`,
/// `unknown`): a failed write-back or pass reads `error` here as on the fabric's record.
pub(crate) const STATUS: &str = "hhs_fabric_status";
pub(crate) const LAST_RUN: &str = "hhs_reconcile_last_run_timestamp_seconds";
pub(crate) const LAST_SUCCESS: &str = "hhs_reconcile_last_success_timestamp_seconds";

const FABRIC_STATUSES: [NetBoxStatus; 5] = [
    NetBoxStatus::Synced,
    NetBoxStatus::Pending,
    NetBoxStatus::Drifted,
    NetBoxStatus::Error,
    NetBoxStatus::Unknown,
];

const SYNC_STATES: [SyncStatus; 3] = [
    SyncStatus::Synced,
    SyncStatus::OutOfSync,
    SyncStatus::Unknown,
];
const HEALTH_STATES: [Health; 5] = [
    Health::Healthy,
    Health::Progressing,
    Health::Missing,
    Health::Degraded,
    Health::Unknown,
];
const OBJECT_STATES: [ObjectState; 5] = [
    ObjectState::InSync,
    ObjectState::Drifted,
    ObjectState::Missing,
    ObjectState::Orphan,
    ObjectState::HeldBack,
];

/// Records one finished pass (dry runs too: they read the same truth).
pub fn record(report: &FabricReport) {
    let fabric = report.fabric.clone();
    metrics::counter!(RUNS, "fabric" => fabric.clone(), "sync" => label(report.sync)).increment(1);
    metrics::gauge!(DURATION, "fabric" => fabric).set(report.duration_ms as f64 / 1000.0);
    record_state(report);
}

/// Sets the fabric's state gauges from a report (this replica's pass, or the shared report
/// another replica wrote).
pub(crate) fn record_state(report: &FabricReport) {
    let fabric = report.fabric.clone();
    let status = fabric_status(report);
    for state in FABRIC_STATUSES {
        metrics::gauge!(STATUS, "fabric" => fabric.clone(), "status" => state.as_str())
            .set(f64::from(u8::from(state == status)));
    }
    if report.duration_ms > 0 || report.sync != SyncStatus::Unknown {
        metrics::gauge!(LAST_RUN, "fabric" => fabric.clone())
            .set(report.started_at.timestamp() as f64);
    }
    if let Some(success) = report.last_success {
        metrics::gauge!(LAST_SUCCESS, "fabric" => fabric.clone()).set(success.timestamp() as f64);
    }
    // Every state is set (1 for the current one, 0 for the others) so a state that ends does
    // not linger in Prometheus.
    for state in SYNC_STATES {
        metrics::gauge!(SYNC, "fabric" => fabric.clone(), "status" => label(state))
            .set(f64::from(u8::from(state == report.sync)));
    }
    for state in HEALTH_STATES {
        metrics::gauge!(HEALTH, "fabric" => fabric.clone(), "health" => label(state))
            .set(f64::from(u8::from(state == report.health)));
        let switches = report.switches.iter().filter(|s| s.health == state).count();
        metrics::gauge!(SWITCHES, "fabric" => fabric.clone(), "health" => label(state))
            .set(switches as f64);
    }
    // An Unknown pass compared nothing: keep the last known counts rather than claim zero.
    if report.sync != SyncStatus::Unknown {
        for state in OBJECT_STATES {
            let count = report.objects.iter().filter(|o| o.state == state).count();
            metrics::gauge!(OBJECTS, "fabric" => fabric.clone(), "state" => label(state))
                .set(count as f64);
        }
    }
}

/// The serialised (API) name of a state, so metrics and `/api/v1` agree.
fn label(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::metrics::capture::{assert_lines, rendered_by};
    use crate::model::{Kind, ObjectKey};
    use crate::reconcile::compare::ObjectReport;

    fn object(state: ObjectState) -> ObjectReport {
        ObjectReport {
            key: ObjectKey {
                kind: Kind::Switch,
                name: "spine-01".into(),
            },
            state,
            diffs: vec![],
            managed: true,
        }
    }

    #[test]
    fn a_pass_sets_one_hot_status_and_counts_objects_by_state() {
        let expected = [
            r#"hhs_fabric_sync_status{fabric="lab",status="OutOfSync"} 1"#,
            r#"hhs_fabric_sync_status{fabric="lab",status="Synced"} 0"#,
            r#"hhs_fabric_health{fabric="lab",health="Healthy"} 1"#,
            r#"hhs_fabric_objects{fabric="lab",state="in_sync"} 2"#,
            r#"hhs_fabric_objects{fabric="lab",state="drifted"} 1"#,
            r#"hhs_fabric_objects{fabric="lab",state="orphan"} 0"#,
            r#"hhs_reconcile_runs_total{fabric="lab",sync="OutOfSync"} 1"#,
            r#"hhs_fabric_status{fabric="lab",status="drifted"} 1"#,
            r#"hhs_fabric_status{fabric="lab",status="synced"} 0"#,
        ];
        let mut report = FabricReport::new("lab", "apply", false);
        report.sync = SyncStatus::OutOfSync;
        report.health = Health::Healthy;
        report.objects = vec![
            object(ObjectState::InSync),
            object(ObjectState::InSync),
            object(ObjectState::Drifted),
        ];
        let text = rendered_by(|| record(&report));
        assert_lines(&text, &expected);
    }

    #[test]
    fn an_unknown_pass_does_not_zero_the_object_counts() {
        let expected = [
            r#"hhs_fabric_objects{fabric="lab",state="in_sync"} 1"#,
            r#"hhs_fabric_sync_status{fabric="lab",status="Unknown"} 1"#,
        ];
        let mut known = FabricReport::new("lab", "apply", false);
        known.sync = SyncStatus::Synced;
        known.objects = vec![object(ObjectState::InSync)];
        let unknown = FabricReport::new("lab", "apply", false);
        let text = rendered_by(|| {
            record(&known);
            record(&unknown);
        });
        assert_lines(&text, &expected);
    }
}
