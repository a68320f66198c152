//! The embedded queue's bound: past `queue.max_queued` waiting jobs a new event gets 503 with
//! `Retry-After` and is not stored; events that merge into a waiting job are still taken, and
//! intake takes new events again once workers have made room.

use std::time::Duration;

use crate::support::{Backend, Storage, TestApp, event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_embedded_queue_answers_503_with_retry_after() {
    let storage = Storage::new(Backend::Embedded);
    let mut settings = storage.settings();
    settings.queue.max_queued = 2;
    let app = TestApp::spawn_without_workers(&settings).await;
    for id in [1, 2] {
        let (status, _) = app
            .post_signed(&event("dcim.device", id, "updated", 1))
            .await;
        assert_eq!(status, 202);
    }
    let body = event("dcim.device", 3, "updated", 1);
    let signature = hedgehog_sidecar::intake::sign(crate::support::SECRET, body.as_bytes());
    let response = app
        .client
        .post(app.url("/webhooks/netbox"))
        .header("x-hook-signature", &signature)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"], "queue_full", "{json}");
    let (status, json) = app
        .post_signed(&event("dcim.device", 1, "updated", 2))
        .await;
    assert_eq!((status, json["status"].as_str()), (202, Some("coalesced")));
    assert_eq!(app.queue.stats().await.unwrap().queued, 2);

    let lease = app
        .queue
        .claim("test", Duration::ZERO)
        .await
        .unwrap()
        .expect("a job");
    app.queue.ack(&lease).await.unwrap();
    let (status, json) = app.post(&body, Some(&signature)).await;
    assert_eq!(
        (status, json["status"].as_str()),
        (202, Some("queued")),
        "{json}"
    );
    app.stop().await;
}
