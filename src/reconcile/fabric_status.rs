//! A reconcile pass summed up for the fabric's own NetBox record: conditions that concern the
//! whole fabric (the target or NetBox unreadable, a pass that could not finish) are stated
//! there once, never copied onto every object.

use std::collections::BTreeSet;

use super::compare::ObjectState;
use super::engine::FabricReport;
use super::health::SyncStatus;
use super::writeback::{NetBoxStatus, Outcome};

/// How many object names a fabric message lists before it only counts.
const NAMED: usize = 5;

/// The fabric-wide outcome of a pass. The message only changes when the condition does, so a
/// steady fabric writes nothing.
pub(crate) fn fabric_outcome(report: &FabricReport, target: &str) -> Outcome {
    let (status, message) = if report.sync == SyncStatus::Unknown {
        (
            NetBoxStatus::Unknown,
            format!("state unknown: {}", report.errors.join("; ")),
        )
    } else if !report.errors.is_empty() {
        (
            NetBoxStatus::Error,
            format!(
                "the reconcile could not finish: {}",
                report.errors.join("; ")
            ),
        )
    } else if !report.problems.is_empty() {
        let objects: BTreeSet<String> = report
            .problems
            .iter()
            .flat_map(|p| {
                p.objects
                    .iter()
                    .map(|o| format!("{} {}", o.object_type, o.name))
            })
            .collect();
        (
            NetBoxStatus::Pending,
            format!(
                "changes held back: {} break the fabric's rules (see their {})",
                named(&objects),
                "hedgehog_message"
            ),
        )
    } else if report.sync == SyncStatus::OutOfSync {
        let objects: BTreeSet<String> = report
            .objects
            .iter()
            .filter(|o| {
                o.state != ObjectState::InSync && (o.managed || o.state != ObjectState::Orphan)
            })
            .map(|o| format!("{} ({})", o.key, o.state.as_str()))
            .collect();
        (
            NetBoxStatus::Drifted,
            format!("out of sync with the {target}: {}", named(&objects)),
        )
    } else {
        (NetBoxStatus::Synced, format!("in sync with the {target}"))
    };
    Outcome { status, message }
}

/// The fabric's status value alone, named after its target by its mode.
pub(crate) fn fabric_status(report: &FabricReport) -> NetBoxStatus {
    fabric_outcome(report, target_of(report)).status
}

/// What a report's mode publishes to: `cluster` or `git`.
pub(crate) fn target_of(report: &FabricReport) -> &'static str {
    if report.mode == "commit" {
        "git"
    } else {
        "cluster"
    }
}

/// `a, b, c and 4 more`.
fn named(items: &BTreeSet<String>) -> String {
    let shown: Vec<&str> = items.iter().take(NAMED).map(String::as_str).collect();
    match items.len().saturating_sub(NAMED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::engine::Problem;
    use crate::reconcile::sources::SourceRef;

    #[test]
    fn each_condition_reads_as_one_fabric_status() {
        let mut report = FabricReport::new("lab", "apply", false);
        report
            .errors
            .push("cannot read the cluster: connection refused".into());
        let unknown = fabric_outcome(&report, "cluster");
        assert_eq!(unknown.status, NetBoxStatus::Unknown);
        assert!(
            unknown.message.contains("connection refused"),
            "{}",
            unknown.message
        );

        report.sync = SyncStatus::Synced;
        assert_eq!(
            fabric_outcome(&report, "cluster").status,
            NetBoxStatus::Error
        );

        report.errors.clear();
        report.problems.push(Problem {
            objects: vec![SourceRef {
                object_type: "ipam.prefix".into(),
                id: 3,
                name: "10.0.1.0/24".into(),
            }],
            message: "overlaps".into(),
        });
        let held = fabric_outcome(&report, "cluster");
        assert_eq!(held.status, NetBoxStatus::Pending);
        assert!(
            held.message.contains("ipam.prefix 10.0.1.0/24"),
            "{}",
            held.message
        );

        report.problems.clear();
        assert_eq!(
            fabric_outcome(&report, "cluster").status,
            NetBoxStatus::Synced
        );
    }
}
