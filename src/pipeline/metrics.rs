//! Per-fabric outcomes of applies (cluster), commits (Git) and pushes: what a dashboard shows
//! of the fabric's publishing without reading the journal.

use crate::targets::{PublishReport, TargetError};

pub const PUBLISHES: &str = "hhs_publishes_total";
pub const OBJECTS: &str = "hhs_published_objects_total";
pub const PUSHES: &str = "hhs_git_pushes_total";

/// Counts one publish of `fabric`: `ok`, `partial` (some objects refused) or `failed`, and
/// the objects it changed or had refused.
pub fn record_publish(fabric: &str, result: &Result<PublishReport, TargetError>) {
    let outcome = match result {
        Ok(report) if report.failures.is_empty() => "ok",
        Ok(_) => "partial",
        Err(_) => "failed",
    };
    let fabric = fabric.to_owned();
    metrics::counter!(PUBLISHES, "fabric" => fabric.clone(), "outcome" => outcome).increment(1);
    let Ok(report) = result else { return };
    for (change, count) in [
        ("created", report.created.len()),
        ("updated", report.updated.len()),
        ("deleted", report.deleted.len()),
        ("refused", report.failures.len()),
    ] {
        metrics::counter!(OBJECTS, "fabric" => fabric.clone(), "change" => change)
            .increment(count as u64);
    }
}

/// Counts one push to `fabric`'s repository.
pub fn record_push(fabric: &str, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!(PUSHES, "fabric" => fabric.to_owned(), "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::metrics::capture::{assert_lines, rendered_by};
    use crate::model::{Kind, ObjectKey};
    use crate::targets::ObjectFailure;

    #[test]
    fn a_partly_refused_apply_counts_as_partial_with_its_objects() {
        let key = ObjectKey {
            kind: Kind::Switch,
            name: "leaf-01".into(),
        };
        let report = PublishReport {
            created: vec![key.clone()],
            failures: vec![ObjectFailure {
                key,
                message: "denied".into(),
            }],
            ..PublishReport::default()
        };
        let text = rendered_by(|| {
            record_publish("lab", &Ok(report));
            record_push("lab", false);
        });
        let expected = [
            r#"hhs_publishes_total{fabric="lab",outcome="partial"} 1"#,
            r#"hhs_published_objects_total{fabric="lab",change="created"} 1"#,
            r#"hhs_published_objects_total{fabric="lab",change="refused"} 1"#,
            r#"hhs_git_pushes_total{fabric="lab",outcome="failed"} 1"#,
        ];
        assert_lines(&text, &expected);
    }
}
