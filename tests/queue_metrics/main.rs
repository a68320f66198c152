//! `hhs_queue_depth` on `GET /metrics` counts every waiting job, one parked behind a running
//! job of its object included, on both back-ends.
//!
//! A test binary of its own: the metrics recorder is process-wide, so services started by
//! other tests in the same process would overwrite the gauge this test reads. The two tests
//! here take turns for the same reason.

#[path = "../intake/support.rs"]
#[allow(unused_imports)]
mod support;

use std::time::Duration;

use hedgehog_sidecar::queue::metrics::QUEUE_DEPTH;

use support::{Backend, Storage, TestApp, both_backends, claims_next, park_behind_a_running_job};

both_backends!(parked_jobs_are_counted_in_the_queue_depth_metric);

/// One service at a time reports the gauge.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The value of `hhs_queue_depth{state="<state>"}` in a Prometheus text exposition.
fn depth(exposition: &str, state: &str) -> Option<f64> {
    let series = format!("{QUEUE_DEPTH}{{state=\"{state}\"}}");
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("/metrics has a body")
}

/// Waits (the gauge is refreshed every 5 s) until the metric shows `queued` waiting and
/// `running` running jobs, and fails with the last exposition otherwise.
async fn wait_for_depth(app: &TestApp, queued: f64, running: f64) {
    let last = tokio::sync::Mutex::new(String::new());
    let shown = || async {
        let text = metrics(app).await;
        let now = (depth(&text, "queued"), depth(&text, "running"));
        *last.lock().await = text;
        now == (Some(queued), Some(running))
    };
    let within = Duration::from_secs(12);
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if shown().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "{QUEUE_DEPTH} did not show {queued} queued and {running} running within {within:?}:\n{}",
        last.lock().await
    );
}

async fn parked_jobs_are_counted_in_the_queue_depth_metric(backend: Backend) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let (running, waiting) = park_behind_a_running_job(&app).await;

    wait_for_depth(&app, 1.0, 1.0).await;

    app.queue.ack(&running).await.unwrap();
    claims_next(&app, &waiting).await;
    wait_for_depth(&app, 0.0, 1.0).await;
    app.stop().await;
}
