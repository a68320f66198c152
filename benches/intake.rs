//! Intake throughput and latency: many concurrent clients POST signed ~3 KB NetBox deliveries
//! to a running service (HTTP + signature + parse + durable group-committed enqueue), workers
//! off. Every request is a distinct object, so each one is a new stored job (no dedupe, no
//! coalescing). The load generator is wrk-like (support/raw_load.rs): requests are prepared and
//! signed before the clock starts, and only a 202 that says `queued` counts.
//!
//! cargo bench --bench intake                       # Redis (127.0.0.1:6379/3 or HHS_TEST_REDIS_URL)
//! BENCH_BACKEND=embedded cargo bench --bench intake
//! Knobs: BENCH_CLIENTS (default 32), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
//! BENCH_HTTP_THREADS (2), BENCH_LOAD_THREADS (1), BENCH_REQUESTS (40,000/s of the run).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hedgehog_sidecar::api::{AppOptions, spawn_app};
use hedgehog_sidecar::config::Settings;
use hedgehog_sidecar::intake::sign;
use secrecy::SecretString;
use testkit::handler::RecordingHandler;
use tokio_util::sync::CancellationToken;

#[path = "support/raw_load.rs"]
mod raw_load;

#[path = "support/product_allocator.rs"]
mod product_allocator;

const SECRET: &str = "netbox-webhook-secret";

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first real delivery (a 3.1 KB device), split around its object id and request id so
/// each request can be a different object.
struct Template {
    parts: Vec<String>,
}

impl Template {
    fn load() -> Self {
        let path = testkit::paths::shared("netbox/webhook-samples/fabric-lifecycle.jsonl");
        let text = std::fs::read_to_string(path).expect("webhook samples");
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a sample")).expect("JSON");
        let body = first["body"].as_str().expect("body").to_owned();
        let body = body
            .replacen(r#""data": {"id": 2,"#, r#""data": {"id": @@,"#, 1)
            .replacen("60d334b1-8c1e-41b9-a412-2675816e7996", "bench-@@", 1);
        Self {
            parts: body.split("@@").map(str::to_owned).collect(),
        }
    }

    fn render(&self, n: u64) -> String {
        let n = n.to_string();
        self.parts.join(&n)
    }
}

/// The bench's knobs, from the environment.
struct Knobs {
    backend: String,
    clients: usize,
    seconds: u64,
    warmup: u64,
    http_threads: usize,
    load_threads: usize,
    requests_total: usize,
}

impl Knobs {
    fn from_env() -> Self {
        let seconds = knob("BENCH_SECONDS", 10) as u64;
        let warmup = knob("BENCH_WARMUP_SECONDS", 2) as u64;
        Self {
            backend: std::env::var("BENCH_BACKEND").unwrap_or_else(|_| "redis".into()),
            clients: knob("BENCH_CLIENTS", 32),
            seconds,
            warmup,
            http_threads: knob("BENCH_HTTP_THREADS", 2),
            load_threads: knob("BENCH_LOAD_THREADS", 1),
            requests_total: knob("BENCH_REQUESTS", 40_000 * (seconds + warmup) as usize),
        }
    }

    fn redis(&self) -> bool {
        self.backend == "redis"
    }
}

/// What the measured window saw.
struct Measured {
    failed: u64,
    latencies_us: Vec<u32>,
    elapsed: Duration,
    exhausted: bool,
}

fn main() {
    let knobs = Knobs::from_env();
    let redis_url = testkit::redis::redis_url();
    if knobs.redis() {
        wait_for_lazy_free(&redis_url);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = format!("hhs-bench-{}", uuid::Uuid::new_v4().simple());
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Settings::default()
    };
    settings.webhook.secret = Some(SecretString::from(SECRET));
    settings.queue.key_prefix = prefix.clone();
    settings.queue.data_dir = dir.path().join("queue");
    if knobs.redis() {
        settings.redis_url = Some(SecretString::from(redis_url.clone()));
    }

    // The service: its own runtime (the group-commit flushers and the queue client) plus
    // actix's HTTP threads.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let shutdown = CancellationToken::new();
    let app = server_rt
        .block_on(spawn_app(
            &settings,
            Arc::new(RecordingHandler::new()),
            shutdown.clone(),
            AppOptions {
                workers: false,
                http_threads: Some(knobs.http_threads),
                ..AppOptions::default()
            },
        ))
        .expect("service starts");

    let template = Template::load();
    let body_len = template.render(1_000_000).len();
    let load = prepare_load(&template, app.addr, knobs.requests_total);
    let measured = measure(&knobs, &load, app.addr);
    if measured.exhausted {
        eprintln!(
            "warning: all {} prepared requests were sent before the window ended; \
             raise BENCH_REQUESTS",
            knobs.requests_total
        );
    }

    shutdown.cancel();
    server_rt.block_on(app.stopped());
    if knobs.redis() {
        clean_redis(&redis_url, &prefix);
    }
    report(&knobs, body_len, measured);
}

/// Every request built and signed before the clock starts (see support/raw_load.rs); only a
/// 202 saying the job was newly stored counts (not a duplicate or an ignored event).
fn prepare_load(template: &Template, addr: SocketAddr, total: usize) -> Arc<raw_load::Load> {
    let prepared = Instant::now();
    let requests: Vec<Vec<u8>> = (0..total as u64)
        .map(|n| {
            let body = template.render(1_000_000 + n);
            let signature = sign(SECRET, body.as_bytes());
            raw_load::post_request(
                addr,
                "/webhooks/netbox",
                &[
                    ("Content-Type", "application/json"),
                    ("X-Hook-Signature", &signature),
                ],
                body.as_bytes(),
            )
        })
        .collect();
    eprintln!(
        "prepared {total} signed requests in {:.1}s",
        prepared.elapsed().as_secs_f64()
    );
    raw_load::Load::new(requests, 202, br#""queued""#)
}

/// Runs the clients through the warm-up, then measures for the configured window.
fn measure(knobs: &Knobs, load: &Arc<raw_load::Load>, addr: SocketAddr) -> Measured {
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(knobs.load_threads)
        .enable_all()
        .build()
        .expect("runtime");
    load_rt.block_on(async {
        let tasks: Vec<_> = (0..knobs.clients)
            .map(|_| tokio::spawn(load.clone().client(addr)))
            .collect();
        tokio::time::sleep(Duration::from_secs(knobs.warmup)).await;
        load.measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(knobs.seconds) && !load.exhausted() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        load.measuring.store(false, Ordering::Relaxed);
        let elapsed = started.elapsed();
        load.running.store(false, Ordering::Relaxed);
        let (mut failed, mut latencies_us) = (0, Vec::new());
        for task in tasks {
            let report = task.await.expect("client task");
            failed += report.failed;
            latencies_us.extend(report.latencies_us);
        }
        Measured {
            failed,
            latencies_us,
            elapsed,
            exhausted: load.exhausted(),
        }
    })
}

fn report(knobs: &Knobs, body_len: usize, mut measured: Measured) {
    let latencies_us = &mut measured.latencies_us;
    let accepted = latencies_us.len();
    latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((latencies_us.len() as f64 * p) as usize).min(latencies_us.len() - 1);
        f64::from(latencies_us[i]) / 1000.0
    };
    let seconds = measured.elapsed.as_secs_f64();
    println!(
        "intake bench: backend={} clients={} http_threads={} load_threads={} body={body_len} B \
         measured={seconds:.1}s",
        knobs.backend, knobs.clients, knobs.http_threads, knobs.load_threads
    );
    println!(
        "accepted {accepted} ({:.0}/s), failed {}; latency ms p50 {:.2} p90 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}",
        accepted as f64 / seconds,
        measured.failed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0),
    );
}

/// Deletes the bench's keys (one per accepted webhook for dedupe, plus the queue's own).
fn clean_redis(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(10_000)
            .query(&mut conn)
            .unwrap_or((0, Vec::new()));
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(keys).query(&mut conn);
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    wait_for_lazy_free(url);
}

/// Waits until Redis has freed what UNLINK handed to its background thread (hundreds of MB
/// after a run), so that work does not compete with the next measurement.
fn wait_for_lazy_free(url: &str) {
    let Ok(mut conn) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query(&mut conn)
            .unwrap_or_default();
        let pending = info
            .lines()
            .find_map(|line| line.strip_prefix("lazyfree_pending_objects:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if pending == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
