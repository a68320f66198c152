//! What the Redis back-end leaves in Redis: one stored body per job while it exists
//! (duplicates and coalesced events add none), and nothing of a job once it is done but the
//! dedupe marks, which expire.

use std::sync::Arc;
use std::time::Duration;

use hedgehog_sidecar::queue::JobState;
use testkit::handler::RecordingHandler;

use crate::support::{Backend, Storage, TestApp, event, eventually};

fn hlen(storage: &Storage, hash: &str) -> u64 {
    let client = redis::Client::open(storage.redis_url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("HLEN")
        .arg(format!("{}:{hash}", storage.prefix))
        .query(&mut conn)
        .unwrap()
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn one_body_per_job_and_nothing_left_once_done() {
    let storage = Storage::new(Backend::Redis);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let first = event("dcim.device", 1, "updated", 1);
    app.post_signed(&first).await;
    app.post_signed(&first).await; // an identical redelivery
    app.post_signed(&event("dcim.device", 1, "updated", 2))
        .await; // coalesces
    app.post_signed(&event("dcim.device", 2, "updated", 1))
        .await;
    let queued = app.queue.list(JobState::Queued, 10).await.unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(
        hlen(&storage, "jobs"),
        2,
        "one body per job: the duplicate and the coalesced event add none"
    );
    assert_eq!(hlen(&storage, "pending"), 2);
    let merged = queued.iter().find(|j| j.object_id == 1).unwrap();
    assert_eq!(merged.data.parse()["version"], 2);
    app.stop().await;

    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    let queue = app.queue.clone();
    eventually(Duration::from_secs(10), "both jobs are done", || async {
        queue
            .stats()
            .await
            .is_ok_and(|s| s.queued == 0 && s.running == 0)
            && handler.jobs().len() == 2
    })
    .await;
    app.stop().await;
    for hash in ["jobs", "pending", "attempts", "errors", "locks"] {
        assert_eq!(hlen(&storage, hash), 0, "{hash} still holds a finished job");
    }
}
