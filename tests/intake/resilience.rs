//! Faults in the middle of a burst of webhooks, on loopback and bounded in time: every event
//! that got 202 runs, whatever dies.
//! - the sidecar killed with SIGKILL (both back-ends), then started again;
//! - Redis (with `appendonly yes`, `appendfsync always`) killed and started again while the
//!   sidecar keeps running: 503 while it is down, never a 2xx that is then lost, and intake
//!   and workers recover without a restart.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use testkit::handler::RecordingHandler;
use tokio::sync::Mutex;

use crate::binary::{ServedBinary, free_port};
use crate::support::{Backend, PrivateRedis, SECRET, Storage, TestApp, event, eventually};

/// Events in one burst: 300 objects, a few events each, so coalescing is part of it.
const BURST: u32 = 600;
const CONCURRENCY: usize = 24;

/// What a burst got back: job ids of 202s, and how many of each other status.
#[derive(Default)]
struct Tally {
    accepted: BTreeSet<String>,
    unavailable: usize,
    failed: usize,
    other: Vec<u16>,
}

/// Posts the burst to `url`, `CONCURRENCY` at a time; `sent` counts answered requests.
async fn burst(url: String, sent: Arc<AtomicUsize>) -> Tally {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, tally, next, sent) = (
                client.clone(),
                url.clone(),
                tally.clone(),
                next.clone(),
                sent.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst) as u32;
                    if n >= BURST {
                        return;
                    }
                    let body = event("dcim.device", i64::from(n % 300), "updated", n);
                    let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
                    let answer = client
                        .post(&url)
                        .header("x-hook-signature", signature)
                        .body(body)
                        .send()
                        .await;
                    let mut tally = tally.lock().await;
                    match answer {
                        Ok(response) if response.status().as_u16() == 202 => {
                            let json: serde_json::Value = response.json().await.unwrap_or_default();
                            if let Some(id) = json["job_id"].as_str() {
                                tally.accepted.insert(id.to_owned());
                            } else {
                                tally.other.push(202);
                            }
                        }
                        Ok(response) if response.status().as_u16() == 503 => tally.unavailable += 1,
                        Ok(response) => tally.other.push(response.status().as_u16()),
                        Err(_) => tally.failed += 1,
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner();
    // Whatever fails, intake answers 202 or 503 (or the connection drops): nothing else.
    assert!(
        tally.other.is_empty(),
        "unexpected answers: {:?}",
        tally.other
    );
    tally
}

/// Waits until the burst has had `count` answers.
async fn until_answered(sent: &Arc<AtomicUsize>, count: usize) {
    eventually(
        Duration::from_secs(30),
        &format!("{count} requests answered"),
        || {
            let sent = sent.clone();
            async move { sent.load(Ordering::SeqCst) >= count }
        },
    )
    .await;
}

/// Job ids the binary's logs say were done.
fn done_in(logs: &str) -> BTreeSet<String> {
    logs.lines()
        .filter(|l| l.contains("\"job done\""))
        .filter_map(|l| {
            let value: serde_json::Value = serde_json::from_str(l).ok()?;
            let spans = value["spans"].as_array()?;
            let job_id = spans.iter().find_map(|s| s["job_id"].as_str())?;
            Some(job_id.to_owned())
        })
        .collect()
}

async fn killed_mid_burst_then_restarted(backend: Backend) {
    let storage = Storage::new(backend);
    let log = storage.dir.path().join("serve.log");
    let port = free_port();
    let env = [("HEDGEHOG_SIDECAR_QUEUE__VISIBILITY_TIMEOUT_SECS", "2")];
    let served = ServedBinary::start(&storage, port, log.clone(), &env);
    let sent = Arc::new(AtomicUsize::new(0));
    let posting = tokio::spawn(burst(served.url("/webhooks/netbox"), sent.clone()));
    until_answered(&sent, BURST as usize / 2).await;
    served.kill9();
    let tally = posting.await.unwrap();
    assert!(
        tally.accepted.len() > 10,
        "the burst was under way when it died"
    );

    let restarted = ServedBinary::start(&storage, free_port(), log, &env);
    let expected = tally.accepted.clone();
    eventually(
        Duration::from_secs(40),
        "every accepted job is done",
        || {
            let done = done_in(&restarted.logs());
            let expected = expected.clone();
            async move { expected.is_subset(&done) }
        },
    )
    .await;
    restarted.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn sigkill_mid_burst_loses_no_accepted_job_on_redis() {
    killed_mid_burst_then_restarted(Backend::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_accepted_job_on_embedded() {
    killed_mid_burst_then_restarted(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn redis_killed_mid_burst_with_aof_loses_nothing_and_recovers() {
    let mut redis = PrivateRedis::start();
    let storage = Storage::with_redis(Backend::Redis, redis.url());
    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let posting = tokio::spawn(burst(app.url("/webhooks/netbox"), sent.clone()));
    until_answered(&sent, BURST as usize / 3).await;
    redis.stop();
    until_answered(&sent, 2 * BURST as usize / 3).await;
    redis.restart();
    let tally = posting.await.unwrap();
    assert!(tally.unavailable > 0, "503 while Redis was down");
    assert_eq!(tally.failed, 0, "intake answered every request");

    // Recovery without a restart: intake takes events again, workers drain everything.
    app.wait_ready(Duration::from_secs(15)).await;
    let (status, json) = app
        .post_signed(&event("dcim.device", 999, "created", 1))
        .await;
    assert_eq!(status, 202, "{json}");
    let mut expected = tally.accepted.clone();
    expected.insert(json["job_id"].as_str().unwrap().to_owned());
    eventually(Duration::from_secs(40), "every accepted job ran", || {
        let done: BTreeSet<String> = handler.jobs().into_iter().map(|j| j.id).collect();
        let expected = expected.clone();
        async move { expected.is_subset(&done) }
    })
    .await;
    app.stop().await;
}
