//! Every metric the sidecar exports, described once (`# HELP`) and registered at start with
//! the label values known then (each configured fabric, each fixed reason), so a dashboard or
//! an alert sees a zero rather than no series before the first event.

use crate::netbox::metrics as netbox;
use crate::pipeline::metrics as publish;
use crate::queue::metrics as queue;
use crate::reconcile::metrics as reconcile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported metric: its name, kind, help text and labels. A label is `fabric` (one
/// value per configured fabric) or lists its values; a label with no listed values (known
/// only when events happen) leaves the metric unregistered until then.
pub struct Metric {
    pub name: &'static str,
    pub kind: MetricKind,
    pub help: &'static str,
    pub labels: &'static [(&'static str, &'static [&'static str])],
}

use MetricKind::{Counter, Gauge, Histogram};

const FABRIC: (&str, &[&str]) = ("fabric", &[]);
const BUILD_INFO: &str = "hhs_build_info";

macro_rules! m {
    ($name:expr, $kind:expr, $help:literal $(, $label:expr)* $(,)?) => {
        Metric { name: $name, kind: $kind, help: $help, labels: &[$($label),*] }
    };
}

/// The catalog (`tests` check that each exported name is in it).
pub const METRICS: &[Metric] = &[
    m!(
        BUILD_INFO,
        Gauge,
        "Always 1; its labels say which build runs",
        ("version", &[env!("CARGO_PKG_VERSION")])
    ),
    m!(
        super::metrics::WEBHOOKS_RECEIVED,
        Counter,
        "Webhook requests received from NetBox"
    ),
    m!(
        super::metrics::WEBHOOKS_REJECTED,
        Counter,
        "Webhook requests refused, by reason (bad signature, body, size, queue unavailable)",
        ("reason", &[])
    ),
    m!(
        super::metrics::WEBHOOKS_IGNORED,
        Counter,
        "Webhooks accepted but not queued, by reason",
        (
            "reason",
            &[
                "unhandled_event",
                "unhandled_object_type",
                "own_user",
                "own_fields"
            ]
        )
    ),
    m!(
        super::metrics::WEBHOOK_SECONDS,
        Histogram,
        "Time to verify and queue one webhook"
    ),
    m!(
        queue::JOBS_QUEUED,
        Counter,
        "Jobs offered to the queue, by outcome",
        ("outcome", &["queued", "coalesced", "duplicate", "full"])
    ),
    m!(
        queue::JOBS_DONE,
        Counter,
        "Jobs finished, per fabric",
        FABRIC
    ),
    m!(
        queue::JOBS_RETRIED,
        Counter,
        "Job attempts that failed and will be retried, per fabric",
        FABRIC
    ),
    m!(
        queue::JOBS_DEAD_LETTERED,
        Counter,
        "Jobs moved to the dead-letter queue, per fabric",
        FABRIC
    ),
    m!(
        queue::JOBS_HANDED_BACK,
        Counter,
        "Jobs handed back unfinished at shutdown, per fabric",
        FABRIC
    ),
    m!(
        queue::QUEUE_DEPTH,
        Gauge,
        "Jobs in the queue, by state",
        ("state", &["queued", "running", "retrying", "dead"])
    ),
    m!(
        queue::JOB_PROCESSING_SECONDS,
        Histogram,
        "Time to process one job, per fabric and outcome",
        FABRIC,
        ("outcome", &["done", "failed"])
    ),
    m!(
        queue::ENQUEUE_BATCH_SIZE,
        Histogram,
        "Jobs written to the queue in one batch"
    ),
    m!(
        netbox::REQUEST_SECONDS,
        Histogram,
        "NetBox REST requests (each attempt), by method and outcome",
        ("method", &[]),
        ("outcome", &[])
    ),
    m!(
        netbox::REQUEST_ERRORS,
        Counter,
        "NetBox REST attempts that failed, by method and outcome",
        ("method", &[]),
        ("outcome", &[])
    ),
    m!(
        netbox::RETRIES,
        Counter,
        "NetBox REST requests sent again after a retryable failure, by method",
        ("method", &["GET", "POST", "PATCH", "DELETE"])
    ),
    m!(
        publish::PUBLISHES,
        Counter,
        "Applies (cluster) and commits (Git) per fabric and outcome",
        FABRIC,
        ("outcome", &["ok", "partial", "failed"])
    ),
    m!(
        publish::OBJECTS,
        Counter,
        "Objects created, updated, deleted or refused by publishes, per fabric",
        FABRIC,
        ("change", &["created", "updated", "deleted", "refused"])
    ),
    m!(
        publish::PUSHES,
        Counter,
        "Git pushes per fabric and outcome",
        FABRIC,
        ("outcome", &["ok", "failed"])
    ),
    m!(
        reconcile::RUNS,
        Counter,
        "Reconcile passes per fabric and sync status",
        FABRIC,
        ("sync", &["Synced", "OutOfSync", "Unknown"])
    ),
    m!(
        reconcile::DURATION,
        Gauge,
        "How long the fabric's last reconcile took",
        FABRIC
    ),
    m!(
        reconcile::SYNC,
        Gauge,
        "1 for the fabric's current sync status (Argo CD style), else 0",
        FABRIC,
        ("status", &[])
    ),
    m!(
        reconcile::HEALTH,
        Gauge,
        "1 for the fabric's current health, else 0",
        FABRIC,
        ("health", &[])
    ),
    m!(
        reconcile::OBJECTS,
        Gauge,
        "The fabric's rendered objects by state at the last reconcile",
        FABRIC,
        ("state", &[])
    ),
    m!(
        reconcile::SWITCHES,
        Gauge,
        "The fabric's switches by health at the last reconcile",
        FABRIC,
        ("health", &[])
    ),
    m!(
        reconcile::STATUS,
        Gauge,
        "1 for the status on the fabric's NetBox record, else 0",
        FABRIC,
        ("status", &[])
    ),
    m!(
        reconcile::LAST_RUN,
        Gauge,
        "When the fabric was last reconciled (Unix time)",
        FABRIC
    ),
    m!(
        reconcile::LAST_SUCCESS,
        Gauge,
        "When a reconcile of the fabric last succeeded (Unix time)",
        FABRIC
    ),
];

/// Gives every metric its help text; needs the recorder installed.
pub fn describe() {
    for metric in METRICS {
        match metric.kind {
            Counter => metrics::describe_counter!(metric.name, metric.help),
            Gauge => metrics::describe_gauge!(metric.name, metric.help),
            Histogram => metrics::describe_histogram!(metric.name, metric.help),
        }
    }
}

/// Creates the series known at start: `build_info` at 1, everything else at zero.
pub fn register(fabrics: &[String]) {
    for metric in METRICS {
        for labels in label_sets(metric, fabrics) {
            let labels: Vec<metrics::Label> = labels
                .into_iter()
                .map(|(k, v)| metrics::Label::new(k, v))
                .collect();
            match metric.kind {
                Counter => metrics::counter!(metric.name, labels).increment(0),
                Gauge if metric.name == BUILD_INFO => metrics::gauge!(metric.name, labels).set(1.0),
                Gauge => metrics::gauge!(metric.name, labels).increment(0.0),
                // A histogram's series appear with its first observation.
                Histogram => {
                    let _ = metrics::histogram!(metric.name, labels);
                }
            }
        }
    }
}

/// Every combination of the metric's label values; none when a label's values are unknown.
fn label_sets(metric: &Metric, fabrics: &[String]) -> Vec<Vec<(&'static str, String)>> {
    let mut sets: Vec<Vec<(&'static str, String)>> = vec![vec![]];
    for (label, values) in metric.labels {
        let values: Vec<String> = if *label == "fabric" {
            fabrics.to_vec()
        } else {
            values.iter().map(|v| (*v).to_owned()).collect()
        };
        sets = sets
            .into_iter()
            .flat_map(|set| {
                values.iter().map(move |v| {
                    let mut set = set.clone();
                    set.push((*label, v.clone()));
                    set
                })
            })
            .collect();
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::metrics::capture::{assert_lines, rendered_by};

    #[test]
    fn every_metric_is_described_and_the_known_series_exist_before_any_event() {
        let text = rendered_by(|| {
            describe();
            register(&["lab".into()]);
        });
        let expected = [
            concat!(
                "hhs_build_info{version=\"",
                env!("CARGO_PKG_VERSION"),
                "\"} 1"
            ),
            "hhs_webhooks_received_total 0",
            r#"hhs_jobs_dead_lettered_total{fabric="lab"} 0"#,
            r#"hhs_publishes_total{fabric="lab"#,
            r#"hhs_netbox_retries_total{method="PATCH"} 0"#,
            "# HELP hhs_jobs_done_total Jobs finished, per fabric",
        ];
        assert_lines(&text, &expected);
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split(' ').nth(2).unwrap();
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no help"
            );
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
