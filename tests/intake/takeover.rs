//! A dead worker's jobs are taken over within seconds under the default settings, and every
//! job waiting for a worker, parked behind a running job of its object included, is counted
//! and listed as queued.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hedgehog_sidecar::api::AppOptions;
use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::config::QueueSettings;
use hedgehog_sidecar::queue::worker::WorkerConfig;
use hedgehog_sidecar::queue::{JobState, WorkerPool};
use secrecy::SecretString;
use testkit::handler::RecordingHandler;

use crate::support::{
    Backend, Storage, TestApp, both_backends, claims_next, event, eventually,
    park_behind_a_running_job,
};

both_backends!(jobs_parked_behind_a_running_job_are_counted_and_listed);

const API_TOKEN: &str = "operator-token";

/// A worker that died holding three jobs (no heartbeat, no ack): with the default visibility
/// timeout, live workers finish all three within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn a_dead_workers_jobs_are_taken_over_in_seconds_by_default() {
    let storage = Storage::new(Backend::Redis);
    let mut settings = storage.settings();
    settings.queue.visibility_timeout_secs = QueueSettings::default().visibility_timeout_secs;
    let app = TestApp::spawn_without_workers(&settings).await;
    for id in 1..=3 {
        app.post_signed(&event("dcim.device", id, "updated", 1))
            .await;
    }
    let mut held = Vec::new();
    for _ in 0..3 {
        let lease = app
            .queue
            .claim("dies", Duration::from_secs(2))
            .await
            .unwrap();
        held.push(lease.expect("the dying worker got a job"));
    }
    let died = Instant::now();

    let handler = Arc::new(RecordingHandler::new());
    let stop = tokio_util::sync::CancellationToken::new();
    let workers = WorkerPool::spawn(
        app.queue.clone(),
        handler.clone(),
        WorkerConfig::from(&settings.queue),
        stop.clone(),
    );
    eventually(Duration::from_secs(30), "all three jobs run", || async {
        handler.jobs().len() == 3
    })
    .await;
    let took = died.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "take-over took {took:?} (visibility timeout {} s)",
        settings.queue.visibility_timeout_secs
    );
    stop.cancel();
    workers.join().await;
    app.stop().await;
}

async fn jobs_parked_behind_a_running_job_are_counted_and_listed(backend: Backend) {
    let storage = Storage::new(backend);
    let options = AppOptions {
        workers: false,
        api_token: ApiToken(Some(SecretString::from(API_TOKEN))),
        ..AppOptions::default()
    };
    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn_with(&storage.settings(), handler, options).await;
    let (running, waiting) = park_behind_a_running_job(&app).await;

    let stats = app.queue.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (1, 1), "{stats:?}");
    let listed: Vec<String> = app
        .queue
        .list(JobState::Queued, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&waiting));
    let api = testkit::http::get_json(
        &app.client,
        &app.url("/api/v1/jobs?state=queued"),
        API_TOKEN,
    )
    .await;
    assert_eq!(api["counts"]["queued"], 1, "{api}");
    assert_eq!(api["jobs"][0]["id"], waiting.as_str(), "{api}");
    let anonymous = app
        .client
        .get(app.url("/api/v1/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    app.queue.ack(&running).await.unwrap();
    claims_next(&app, &waiting).await;
    let stats = app.queue.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (0, 1), "{stats:?}");
    app.stop().await;
}
