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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_backlog_compacts_the_queue_file_in_the_binary() {
    let storage = Storage::new(Backend::Embedded);
    let log = storage.dir.path().join("serve.log");
    let served = ServedBinary::start(
        &storage,
        free_port(),
        log,
        &[("HEDGEHOG_SIDECAR_QUEUE__WORKERS", "4")],
    );
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
            started.elapsed() < Duration::from_secs(180),
            "the backlog did not drain and compact within 180 s"
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
