//! Redis stops: webhooks get 503 (never a 2xx), readiness fails; Redis comes back: nothing
//! that was accepted is lost and intake works again.

use std::sync::Arc;
use std::time::Duration;

use testkit::handler::RecordingHandler;

use crate::support::{Backend, PrivateRedis, Storage, TestApp, event, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn redis_down_gives_503_and_loses_nothing() {
    let mut redis = PrivateRedis::start();
    let storage = Storage::with_redis(Backend::Redis, redis.url());
    let handler = Arc::new(RecordingHandler::new());
    // Intake only first, so the accepted job is still queued when Redis dies.
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let (status, before) = app
        .post_signed(&event("dcim.device", 1, "updated", 1))
        .await;
    assert_eq!(status, 202);

    redis.stop();
    let (status, json) = app
        .post_signed(&event("dcim.device", 2, "updated", 1))
        .await;
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["error"], "queue_unavailable");
    let logs = crate::support::captured_logs();
    let refused = logs
        .lines()
        .find(|l| l.contains("cannot store the webhook"))
        .expect("the refusal is logged");
    assert_eq!(
        refused.matches("queue back-end unavailable").count(),
        1,
        "the error's prefix is repeated: {refused}"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);

    redis.restart();
    app.wait_ready(Duration::from_secs(10)).await;
    let (status, after) = app
        .post_signed(&event("dcim.device", 3, "updated", 1))
        .await;
    assert_eq!(status, 202);
    app.stop().await;

    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    eventually(
        Duration::from_secs(10),
        "both accepted jobs run",
        || async { handler.jobs().len() == 2 },
    )
    .await;
    let ids: Vec<String> = handler.jobs().into_iter().map(|j| j.id).collect();
    assert!(ids.contains(&before["job_id"].as_str().unwrap().to_owned()));
    assert!(ids.contains(&after["job_id"].as_str().unwrap().to_owned()));
    app.stop().await;
}
