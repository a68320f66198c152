//! A backlog on the embedded queue, in the serving binary: once it drains, the queue's file is
//! compacted and the process's resident memory is back near where it was before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::binary::{ServedBinary, free_port};
use crate::support::{Backend, SECRET, Storage, event};

/// More than the removals after which a drained queue is compacted (10,000).
const BACKLOG: u32 = 11_000;
const CONCURRENCY: usize = 32;

/// About 300 MB of bodies: far more than the process holds when idle.
const LARGE_BACKLOG: u32 = 2_000;
const LARGE_BODY_PADDING: usize = 150 * 1024;
/// What a drained backlog may leave resident on top of the process's memory before it.
const DRAINED_GROWTH_LIMIT_KIB: u64 = 96 * 1024;
/// `hhs_queue_depth` is refreshed every 5 s: a reading this long after the last post is the
/// queue's depth after it.
const DEPTH_REFRESHED: Duration = Duration::from_secs(6);

/// An event for object `n` whose body carries `padding` bytes more in its `data`.
fn padded_event(n: u32, padding: usize) -> String {
    let mut event: serde_json::Value =
        serde_json::from_str(&event("dcim.device", i64::from(n) + 1000, "updated", n)).unwrap();
    event["data"]["comments"] = "x".repeat(padding).into();
    event.to_string()
}

/// Posts the events `body(n)` for `n` in `first..first + count`, `concurrency` at a time;
/// each must get 202. A send the server's side cut short (a kept-alive connection it had
/// just closed) is sent once more.
async fn post_events(
    url: &str,
    first: u32,
    count: u32,
    concurrency: usize,
    body: fn(u32) -> String,
) {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU32::new(first));
    let senders = (0..concurrency).map(|_| {
        let (client, url, next) = (client.clone(), url.to_owned(), next.clone());
        tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= first + count {
                    return;
                }
                let body = body(n);
                let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
                let send = || {
                    client
                        .post(&url)
                        .header("x-hook-signature", &signature)
                        .body(body.clone())
                        .send()
                };
                let response = match send().await {
                    Ok(response) => response,
                    Err(error) if error.is_request() => send().await.expect("intake answers"),
                    Err(error) => panic!("intake answers: {error}"),
                };
                assert_eq!(response.status().as_u16(), 202);
            }
        })
    });
    for sender in futures::future::join_all(senders).await {
        sender.expect("sender");
    }
}

/// Waiting, running and retrying jobs, as `GET /metrics` shows them.
async fn queue_depth(served: &ServedBinary) -> f64 {
    let exposition = reqwest::get(served.url("/metrics"))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("/metrics has a body");
    ["queued", "running", "retrying"]
        .iter()
        .filter_map(|state| {
            let series = format!("hhs_queue_depth{{state=\"{state}\"}}");
            exposition
                .lines()
                .find_map(|line| line.strip_prefix(&series))
                .and_then(|value| value.trim().parse::<f64>().ok())
        })
        .sum()
}

/// Waits until `/metrics` shows an empty queue in a reading taken after `posted`.
async fn wait_until_drained(served: &ServedBinary, posted: Instant, within: Duration) {
    loop {
        if posted.elapsed() > DEPTH_REFRESHED && queue_depth(served).await == 0.0 {
            return;
        }
        assert!(
            posted.elapsed() < within,
            "the backlog did not drain within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Samples the process's resident memory until stopped; returns the highest reading.
struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    fn sample(served: &ServedBinary) -> Self {
        let pid = served.pid();
        let (peak, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (sampled, stopped) = (peak.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !stopped.load(Ordering::SeqCst) {
                if let Some(rss) = crate::binary::rss_kib_of(pid) {
                    sampled.fetch_max(rss, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { peak, stop, task }
    }

    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.task.await;
        self.peak.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_backlog_of_large_bodies_gives_its_memory_back() {
    let storage = Storage::new(Backend::Embedded);
    let log = storage.dir.path().join("serve.log");
    let served = ServedBinary::start(
        &storage,
        free_port(),
        log,
        &[("HEDGEHOG_SIDECAR_QUEUE__WORKERS", "4")],
    );
    let url = served.url("/webhooks/netbox");
    let large = |n| padded_event(n, LARGE_BODY_PADDING);
    // The process's memory once every path (intake, queue, workers) has run.
    post_events(&url, 0, 50, 8, large).await;
    wait_until_drained(&served, Instant::now(), Duration::from_secs(30)).await;
    let before = served.rss_kib();

    let sampler = PeakRss::sample(&served);
    post_events(&url, 50, LARGE_BACKLOG, 16, large).await;
    wait_until_drained(&served, Instant::now(), Duration::from_secs(120)).await;
    let peak = sampler.stop().await;
    let drained = served.rss_kib();
    eprintln!("rss before {before} KiB, peak {peak} KiB, drained {drained} KiB");
    assert!(
        drained < before + DRAINED_GROWTH_LIMIT_KIB,
        "{LARGE_BACKLOG} bodies of {LARGE_BODY_PADDING} bytes left {drained} KiB resident \
         after draining ({before} KiB before, {peak} KiB at the peak)"
    );
    served.stop();
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
    let small = |n| event("dcim.device", i64::from(n) + 1000, "updated", n);
    post_events(&url, 0, 500, CONCURRENCY, small).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = served.rss_kib();
    post_events(&url, 500, BACKLOG, CONCURRENCY, small).await;
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
