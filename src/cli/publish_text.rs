//! The text form of a publish report, shared by `apply` and `commit`.

use std::fmt::Write as _;

use crate::targets::PublishReport;

/// The diff when there is one (else each changed object), each failure, then the totals.
pub fn text(report: &PublishReport, dry_run: bool) -> String {
    let mut out = String::new();
    match &report.diff {
        Some(diff) => out.push_str(diff),
        None => {
            let changes = [
                ("created", &report.created),
                ("updated", &report.updated),
                ("deleted", &report.deleted),
            ];
            for (verb, keys) in changes {
                for key in keys {
                    let _ = writeln!(out, "{verb} {key}");
                }
            }
        }
    }
    for failure in &report.failures {
        let _ = writeln!(out, "failed {}: {}", failure.key, failure.message);
    }
    let outcome = match (&report.commit, dry_run) {
        (Some(commit), _) => format!("; committed and pushed {commit}"),
        (None, true) => "; dry run: nothing changed".to_owned(),
        (None, false) => String::new(),
    };
    let _ = writeln!(
        out,
        "{} created, {} updated, {} deleted, {} unchanged, {} failed{outcome}",
        report.created.len(),
        report.updated.len(),
        report.deleted.len(),
        report.unchanged,
        report.failures.len()
    );
    out
}
