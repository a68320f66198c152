//! After a backlog on the embedded queue drains, the serving binary compacts the queue's file.
//! The process's resident memory before, at and after the backlog is printed, not asserted:
//! the allocator keeps most of the pages the backlog took.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::binary::{ServedBinary, free_port};
use crate::support::{Backend, SECRET, Storage, event};

/// More than the removals after which a drained queue is compacted (10,000).
const BACKLOG: u32 = 11_000;
const CONCURRENCY: usize = 32;

/// Posts `count` events for distinct objects, `CONCURRENCY` at a time; each must get 202.
async fn post_events(url: &str, first: u32, count: u32) {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU32::new(first));
    let senders = (0..CONCURRENCY).map(|_| {
        let (client, url, next) = (client.clone(), url.to_owned(), next.clone());
        tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= first + count {
                    return;
                }
                let body = event("dcim.device", i64::from(n) + 1000, "updated", n);
                let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
                let response = client
                    .post(&url)
                    .header("x-hook-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .expect("intake answers");
                assert_eq!(response.status().as_u16(), 202);
            }
        })
    });
    for sender in futures::future::join_all(senders).await {
        sender.expect("sender");
    }
}

/// The binary serving the embedded queue with 4 workers and no fabric.
fn serve_embedded() -> (Storage, ServedBinary) {
    let storage = Storage::new(Backend::Embedded);
    let log = storage.dir.path().join("serve.log");
    let served = ServedBinary::start(
        &storage,
        free_port(),
        log,
        &[("HEDGEHOG_SIDECAR_QUEUE__WORKERS", "4")],
    );
    (storage, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_backlog_compacts_the_queue_file_in_the_binary() {
    let (storage, served) = serve_embedded();
    let file = storage.dir.path().join("queue").join("queue.redb");
    let url = served.url("/webhooks/netbox");
    post_events(&url, 0, 500).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = served.rss_kib();
    post_events(&url, 500, BACKLOG).await;
    let peak_rss = served.rss_kib();
    let peak_file = std::fs::metadata(&file).expect("queue.redb").len();

    let started = Instant::now();
    while !served.logs().contains("embedded queue compacted") {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the backlog did not drain and compact within 600 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let drained_rss = served.rss_kib();
    let drained_file = std::fs::metadata(&file).expect("queue.redb").len();
    eprintln!(
        "rss before {baseline} KiB, peak {peak_rss} KiB, drained {drained_rss} KiB; file {peak_file} -> {drained_file}"
    );
    assert!(
        drained_file < peak_file / 2,
        "queue.redb was {peak_file} bytes with the backlog and is {drained_file} after it drained"
    );
    served.stop();
}

/// One event for object `n` whose body carries `padding` bytes of description, signed.
fn large_event(n: u32, padding: usize) -> (String, String) {
    let mut event: serde_json::Value =
        serde_json::from_str(&event("dcim.device", i64::from(n) + 100_000, "updated", n))
            .expect("a JSON event");
    event["data"]["description"] = "x".repeat(padding).into();
    let body = event.to_string();
    let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
    (body, signature)
}

/// The queue's depth in `state`, as `/metrics` tells it.
async fn depth(client: &reqwest::Client, url: &str, state: &str) -> Option<f64> {
    let text = client.get(url).send().await.ok()?.text().await.ok()?;
    let prefix = format!("hhs_queue_depth{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// Posts `count` large events, `CONCURRENCY` at a time, and returns how many were accepted and
/// the highest RSS seen meanwhile. Past the intake's budget for unverified bytes a request is
/// refused with 503 and its connection closed, which the client may see as an error instead.
async fn post_large_events(served: &ServedBinary, count: u32, padding: usize) -> (u32, u64) {
    let url = served.url("/webhooks/netbox");
    let client = reqwest::Client::new();
    let (next, accepted) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let senders: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            let (next, accepted) = (next.clone(), accepted.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= count {
                        return;
                    }
                    let (body, signature) = large_event(n, padding);
                    let sent = client
                        .post(&url)
                        .header("x-hook-signature", signature)
                        .body(body)
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().as_u16() == 202) {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    let mut peak = served.rss_kib();
    while senders.iter().any(|s| !s.is_finished()) {
        peak = peak.max(served.rss_kib());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    (accepted.load(Ordering::SeqCst), peak)
}

/// Waits until `/metrics` says nothing is queued or running.
async fn drained(served: &ServedBinary, within: Duration) {
    let (client, metrics) = (reqwest::Client::new(), served.url("/metrics"));
    let started = Instant::now();
    while (
        depth(&client, &metrics, "queued").await,
        depth(&client, &metrics, "running").await,
    ) != (Some(0.0), Some(0.0))
    {
        assert!(
            started.elapsed() < within,
            "the backlog did not drain within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_backlog_of_large_bodies_gives_its_memory_back() {
    let (_storage, served) = serve_embedded();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = served.rss_kib();
    // 4,000 bodies of 150 KB: 600 MB through intake and the queue, with no fabric configured.
    let (accepted, peak) = post_large_events(&served, 4_000, 150_000).await;
    assert!(accepted > 2_000, "only {accepted} of 4,000 accepted");
    drained(&served, Duration::from_secs(300)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = served.rss_kib();
    eprintln!(
        "rss before {baseline} KiB, peak {peak} KiB, drained {after} KiB; {accepted} accepted"
    );
    // What stays is the allocator's pages kept for reuse (about the peak's working set, bounded
    // by the intake's budget and the workers), never the bodies themselves.
    let posted_kib = u64::from(accepted) * 150;
    assert!(
        after - baseline < posted_kib / 3,
        "{} KiB still resident after {posted_kib} KiB of bodies drained",
        after - baseline
    );
    served.stop();
}
