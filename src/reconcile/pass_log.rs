//! The log line of one scheduled reconcile: INFO when it succeeded, WARN when objects were
//! held back by problems, ERROR when it failed, each with the problems' own text so the log
//! alone says what to fix.

use super::engine::FabricReport;

/// At most this many problems are quoted in one line (the API has them all).
const QUOTED: usize = 10;

pub(crate) fn log_pass(report: &FabricReport) {
    let fabric = report.fabric.as_str();
    let (sync, health) = (format!("{:?}", report.sync), format!("{:?}", report.health));
    let duration_ms = report.duration_ms;
    if !report.succeeded() {
        let errors = report.errors.join("; ");
        tracing::error!(
            fabric,
            sync,
            health,
            duration_ms,
            errors,
            "reconcile failed"
        );
    } else if !report.problems.is_empty() {
        let problems = quoted(report.problems.iter().map(|p| p.message.as_str()));
        let count = report.problems.len();
        tracing::warn!(
            fabric,
            sync,
            health,
            duration_ms,
            count,
            problems,
            "reconciled with problems"
        );
    } else {
        tracing::info!(fabric, sync, health, duration_ms, "reconciled");
    }
}

/// The first [`QUOTED`] messages joined, and how many more there are.
fn quoted<'a>(messages: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = messages.len();
    let mut text: Vec<&str> = messages.take(QUOTED).collect();
    let more = format!("and {} more", total.saturating_sub(QUOTED));
    if total > QUOTED {
        text.push(&more);
    }
    text.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{Problem, SyncStatus};
    use testkit::logs::logs_of;

    fn report(sync: SyncStatus) -> FabricReport {
        let mut report = FabricReport::new("lab", "cluster", false);
        report.sync = sync;
        report
    }

    fn line_of(report: &FabricReport, message: &str) -> serde_json::Value {
        let logs = logs_of(|| log_pass(report));
        let line = logs.lines().find(|l| l.contains(message));
        let line = line.unwrap_or_else(|| panic!("no {message:?} line in:\n{logs}"));
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn a_failed_pass_is_an_error_with_its_errors_text() {
        let mut failed = report(SyncStatus::Unknown);
        failed.errors = vec!["NetBox did not answer".into()];
        let line = line_of(&failed, "reconcile failed");
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["fabric"], "lab");
        assert_eq!(line["errors"], "NetBox did not answer");
    }

    #[test]
    fn a_pass_with_problems_is_a_warning_quoting_them() {
        let mut held = report(SyncStatus::OutOfSync);
        held.problems = vec![Problem {
            objects: vec![],
            message: "switch leaf-01: ASN 70000 is outside the leaf range".into(),
        }];
        let line = line_of(&held, "reconciled with problems");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["count"], 1);
        assert_eq!(
            line["problems"],
            "switch leaf-01: ASN 70000 is outside the leaf range"
        );
    }

    #[test]
    fn a_clean_pass_is_information() {
        let line = line_of(&report(SyncStatus::Synced), "reconciled");
        assert_eq!(line["level"], "INFO");
    }

    #[test]
    fn many_problems_are_quoted_up_to_a_limit() {
        let messages: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        let text = quoted(messages.iter().map(String::as_str));
        assert!(text.starts_with("p0; p1"), "{text}");
        assert!(text.ends_with("p9; and 2 more"), "{text}");
    }
}
