//! Prometheus metrics: the process-wide recorder (every metric described on installation, see
//! `metric_catalog`) and the webhook metric names.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub(crate) const WEBHOOKS_RECEIVED: &str = "hhs_webhooks_received_total";
pub(crate) const WEBHOOKS_REJECTED: &str = "hhs_webhooks_rejected_total";
pub(crate) const WEBHOOKS_IGNORED: &str = "hhs_webhooks_ignored_total";
pub(crate) const WEBHOOK_SECONDS: &str = "hhs_webhook_seconds";

/// Latency buckets (seconds) for every `*_seconds` histogram: 100 µs to 5 minutes.
const BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 300.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder, installed on first use. Several apps in one process (tests) share it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        super::metric_catalog::describe();
        handle
    })
}

/// Captures what metrics code records, for unit tests.
#[cfg(test)]
pub(crate) mod capture {
    use metrics_exporter_prometheus::PrometheusBuilder;

    /// Runs `record` against a fresh recorder of its own and returns the exposition text.
    pub(crate) fn rendered_by(record: impl FnOnce()) -> String {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, record);
        handle.render()
    }

    /// Fails, showing the whole text, when a line of `expected` is missing from it.
    pub(crate) fn assert_lines(text: &str, expected: &[&str]) {
        for line in expected {
            assert!(text.contains(line), "missing {line} in:\n{text}");
        }
    }
}
