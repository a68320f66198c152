//! What a webhook job costs on a large fabric, with the kept snapshot and with a full read per
//! publish, in one run: the generated bench fabric (about 10,400 NetBox objects, or
//! `HHS_BENCH_FABRIC=small`) in the real NetBox of `netbox-up`, a sidecar per mode served in
//! this process behind `setup`'s webhook and event rules, applying to its own Kubernetes API
//! test server.
//!
//!     eval "$(../shared/netbox/netbox-up)"
//!     cargo bench --bench publish_load    # HHS_BENCH_FABRIC=small, HHS_BENCH_EDITS=50, HHS_BENCH_MODES
//!     RUST_LOG=hedgehog_sidecar=debug cargo bench --bench publish_load   # each publish's timings
//!
//! The fabric is seeded once (see `support/bench_fabric.rs`). Two modes are measured in turn,
//! each alone on the machine and on NetBox (`HHS_BENCH_MODES=kept` or `full` for one only):
//! the kept snapshot (`keep_snapshot = true`, the default debounce), and a full read of the
//! fabric for every publish (`keep_snapshot = false`, no debounce: the comparison). Each mode's
//! sidecar reconciles the fabric into its empty test server, publishes once (so the measured
//! publishes start from a kept snapshot), then NetBox delivers it:
//!
//! 1. One bulk PATCH of 200 of the fabric's devices (their descriptions): from NetBox's last
//!    delivery of them reaching the sidecar to the last of them applied to the cluster (target
//!    10 s) and to the last of their jobs done, and until the sidecar's queue is empty.
//! 2. `HHS_BENCH_EDITS` single device edits (default 50), saved 2 s apart: each from its
//!    delivery reaching the sidecar to its change applied to the cluster (target p50 300 ms,
//!    and p95), and to its job done.
//! 3. NetBox requests the sidecar sent per job it finished in each phase (target 5 for a
//!    device edit); deliveries of others' changes to the shared NetBox are jobs too.
//!
//! Deliveries reach the sidecar through a relay that notes when each arrives. An edit counts
//! as applied when a watch of the test server's switches and servers first shows it, and its
//! job as done when the sidecar's handler returns for it (the cluster holds the change and
//! NetBox the statuses and journal entry written after it); the bench then checks the cluster
//! has every device's last edit. NetBox's one
//! webhook worker is shared with everything else using this NetBox, so the edits may arrive
//! minutes after their save: the figures are the sidecar's, from each delivery on.
//! `HHS_BENCH_DELIVERY=direct` leaves NetBox's worker out: the bench posts each edited device,
//! read back through the REST API, to the sidecar itself, signed, at NetBox's pace.

#[path = "support/bench_fabric.rs"]
mod bench_fabric;
#[path = "support/product_allocator.rs"]
mod product_allocator;
#[path = "../tests/e2e/webhook_counter.rs"]
#[allow(dead_code)]
mod webhook_counter;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bench_fabric::{client, ensure_seeded, spec};
use futures::StreamExt;
use hedgehog_sidecar::api::{AppOptions, RunningApp, spawn_app};
use hedgehog_sidecar::config::{FabricConfig, Settings};
use hedgehog_sidecar::model::Kind;
use hedgehog_sidecar::netbox::setup::{SetupSpec, remove_webhook, run_setup};
use hedgehog_sidecar::netbox::{NetBoxClient, load_fabric};
use hedgehog_sidecar::pipeline::{FabricJobHandler, FabricServices};
use hedgehog_sidecar::queue::{Job, JobError, JobHandler};
use hedgehog_sidecar::reconcile::ReconcileOptions;
use hedgehog_sidecar::reconcile::netbox_io::desired_from_snapshot;
use kube::runtime::{WatchStreamExt, watcher};
use kube_testserver::TestServer;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use webhook_counter::WebhookCounter;

const SECRET: &str = "bench-publish-secret";
const BULK: usize = 200;
/// Between two single edits' saves, so each is published on its own.
const SINGLE_SPACING: Duration = Duration::from_secs(2);
const BULK_LIMIT: Duration = Duration::from_secs(10);
const EDIT_LIMIT: Duration = Duration::from_millis(300);
const REQUESTS_PER_EDIT: f64 = 5.0;
/// How long one phase may take before the bench gives up on it.
const PHASE_LIMIT: Duration = Duration::from_secs(1800);

/// One way of publishing, measured in turn.
struct Mode {
    name: &'static str,
    keep_snapshot: bool,
    debounce_ms: u64,
}

const MODES: [Mode; 2] = [
    Mode {
        name: "kept snapshot",
        keep_snapshot: true,
        debounce_ms: hedgehog_sidecar::config::DEFAULT_PUBLISH_DEBOUNCE_MS,
    },
    Mode {
        name: "full reads",
        keep_snapshot: false,
        debounce_ms: 0,
    },
];

/// A job the sidecar's handler finished.
#[derive(Clone)]
struct Done {
    object_id: i64,
    description: Option<String>,
    ok: bool,
    at: Instant,
}

/// The sidecar's job handler, noting when each job is done.
struct TimedHandler {
    inner: FabricJobHandler,
    done: Mutex<Vec<Done>>,
}

#[async_trait]
impl JobHandler for TimedHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let result = self.inner.handle(job).await;
        let description = job.data.parse()["description"].as_str().map(str::to_owned);
        self.done.lock().unwrap().push(Done {
            object_id: job.object_id,
            description,
            ok: result.is_ok(),
            at: Instant::now(),
        });
        result
    }
}

impl TimedHandler {
    fn done(&self) -> Vec<Done> {
        self.done.lock().unwrap().clone()
    }

    /// When the job carrying `description` for device `id` was done.
    fn done_at(&self, id: u64, description: &str) -> Option<Instant> {
        let done = self.done.lock().unwrap();
        done.iter()
            .find(|d| {
                d.ok && d.object_id == id as i64 && d.description.as_deref() == Some(description)
            })
            .map(|d| d.at)
    }
}

/// When the test server first showed each switch's or server's description, watched.
#[derive(Clone, Default)]
struct Applied(Arc<Mutex<Vec<Shown>>>);

/// An object's description as the watch first showed it.
struct Shown {
    name: String,
    description: String,
    at: Instant,
}

impl Applied {
    /// Watches the switches and servers of `kube` until `stop`.
    fn watch(&self, kube: &kube::Client, stop: &CancellationToken) {
        for kind in [Kind::Switch, Kind::Server] {
            let shown = self.0.clone();
            let api = testkit::kube::objects(kube, kind);
            let stop = stop.clone();
            tokio::spawn(async move {
                let events = watcher(api, watcher::Config::default()).applied_objects();
                let mut events = std::pin::pin!(events.take_until(stop.cancelled_owned()));
                while let Some(event) = events.next().await {
                    let Ok(object) = event else { continue };
                    let value = serde_json::to_value(&object).unwrap_or_default();
                    let Some(description) = value["spec"]["description"].as_str() else {
                        continue;
                    };
                    shown.lock().unwrap().push(Shown {
                        name: object.metadata.name.unwrap_or_default(),
                        description: description.to_owned(),
                        at: Instant::now(),
                    });
                }
            });
        }
    }

    /// When object `name` first showed `description`.
    fn at(&self, name: &str, description: &str) -> Option<Instant> {
        let shown = self.0.lock().unwrap();
        shown
            .iter()
            .find(|s| s.name == name && s.description == description)
            .map(|s| s.at)
    }
}

/// The sidecar of one mode, served in this process behind a relay, applying to its own test
/// server.
struct Sidecar {
    mode: &'static str,
    fabric: FabricConfig,
    services: FabricServices,
    handler: Arc<TimedHandler>,
    relay: WebhookCounter,
    requests: Requests,
    applied: Applied,
    app: RunningApp,
    server: TestServer,
    shutdown: CancellationToken,
    hook: String,
    _dir: tempfile::TempDir,
}

fn settings(fabric: FabricConfig, dir: &std::path::Path) -> Settings {
    bench_fabric::sidecar_settings(fabric, dir, SECRET)
}

/// A test server holding the fabric's configuration, and the fabric applying to it.
async fn cluster(fabric: &FabricConfig, dir: &std::path::Path) -> (TestServer, FabricConfig) {
    let mut fabric = fabric.clone();
    let server = bench_fabric::fabric_cluster(&mut fabric, dir).await;
    (server, fabric)
}

async fn start(fabric: &FabricConfig, mode: &Mode) -> Sidecar {
    let dir = tempfile::tempdir().unwrap();
    let (server, mut fabric) = cluster(fabric, dir.path()).await;
    fabric.keep_snapshot = mode.keep_snapshot;
    fabric.publish_debounce_ms = mode.debounce_ms;
    let settings = settings(fabric.clone(), dir.path());
    let services = FabricServices::build(&settings, None)
        .await
        .expect("services");
    let handler = Arc::new(TimedHandler {
        inner: services.job_handler(),
        done: Mutex::default(),
    });
    let shutdown = CancellationToken::new();
    let app = spawn_app(
        &settings,
        handler.clone(),
        shutdown.clone(),
        AppOptions::default(),
    )
    .await
    .expect("the sidecar starts");
    let relay = WebhookCounter::relaying_to(&format!("http://{}", app.addr)).await;
    let applied = Applied::default();
    let kube = server.client().await.expect("a client of the test server");
    applied.watch(&kube, &shutdown);
    Sidecar {
        mode: mode.name,
        fabric,
        services,
        handler,
        relay,
        requests: Requests::default(),
        applied,
        app,
        server,
        shutdown,
        hook: format!("bench-publish-{:08x}", rand::random::<u32>()),
        _dir: dir,
    }
}

impl Sidecar {
    /// A first reconcile into the empty test server, then setup's webhook and event rules
    /// pointing at the relay.
    async fn onboard(&self, with_webhook: bool) {
        let started = Instant::now();
        let first = self
            .services
            .reconcile(&self.fabric.name, ReconcileOptions::default())
            .await
            .unwrap();
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        eprintln!(
            "{}: first reconcile, {} objects in {:.1}s",
            self.mode,
            first.objects.len(),
            started.elapsed().as_secs_f64()
        );
        if !with_webhook {
            return;
        }
        let spec = SetupSpec {
            sidecar_url: self.relay.url.clone(),
            webhook_secret: Some(SecretString::from(SECRET.to_owned())),
            mappings: vec![self.fabric.mapping.clone()],
            name: self.hook.clone(),
            sidecar_user: None,
            ..SetupSpec::default()
        };
        run_setup(&client(), &spec).await.expect("setup");
    }

    /// Removes the webhook, stops the sidecar and its test server.
    async fn stop(self) {
        remove_webhook(&client(), &self.hook)
            .await
            .expect("remove the webhook");
        self.shutdown.cancel();
        self.app.stopped().await;
        self.server.shutdown().await;
    }
}

impl Sidecar {
    /// Waits until the sidecar's queue holds no job (waiting, running or retrying).
    async fn drained(&self) -> Instant {
        testkit::eventually_some(PHASE_LIMIT, "an empty queue", || async {
            let stats = self.app.queue.stats().await.ok()?;
            (stats.queued + stats.running + stats.retrying == 0).then(Instant::now)
        })
        .await
    }

    /// When the delivery carrying `description` for device `id` reached the sidecar.
    fn arrived(&self, id: u64, description: &str) -> Option<Instant> {
        self.relay
            .deliveries()
            .iter()
            .find(|d| d.object_id() == Some(id) && d.body["data"]["description"] == description)
            .map(|d| d.at)
    }
}

/// The fabric's devices that render into a Hedgehog object (switches and servers): id, name.
async fn edited_devices(client: &NetBoxClient, fabric: &FabricConfig) -> Vec<(u64, String)> {
    let snapshot = load_fabric(client, fabric).await.expect("load");
    let desired = desired_from_snapshot(fabric, snapshot.clone());
    let rendered: std::collections::BTreeSet<u64> = desired
        .sources
        .values()
        .flatten()
        .filter(|s| s.object_type == "dcim.device")
        .map(|s| s.id)
        .collect();
    snapshot
        .devices
        .iter()
        .filter(|d| rendered.contains(&d.id))
        .filter_map(|d| Some((d.id, d.name.clone()?)))
        .collect()
}

/// When each of the sidecar's NetBox requests was sent, sampled.
#[derive(Clone, Default)]
struct Requests(Arc<Mutex<Vec<(Instant, u64)>>>);

impl Requests {
    /// Samples `count` every few milliseconds until `stop`.
    fn sample(&self, count: impl Fn() -> u64 + Send + 'static, stop: CancellationToken) {
        let samples = self.0.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                samples.lock().unwrap().push((Instant::now(), count()));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }

    /// Requests sent by `at` (the last sample before it).
    fn by(&self, at: Instant) -> u64 {
        let samples = self.0.lock().unwrap();
        samples
            .iter()
            .take_while(|(t, _)| *t <= at)
            .last()
            .map_or(0, |(_, n)| *n)
    }
}

/// One edit: when its delivery reached the sidecar, the cluster showed it, and its job was done.
struct Timed {
    arrived: Instant,
    applied: Instant,
    done: Instant,
}

/// Which of an edit's ends a figure measures to.
#[derive(Clone, Copy)]
enum Until {
    /// The cluster shows the edit.
    Applied,
    /// Its job is done: applied, and NetBox holds the statuses and the journal entry.
    Done,
}

impl Timed {
    fn until(&self, end: Until) -> Instant {
        match end {
            Until::Applied => self.applied,
            Until::Done => self.done,
        }
    }
}

/// What the sidecar did for a phase of edits.
struct Phase {
    edits: Vec<Timed>,
    /// NetBox requests from the phase's first delivery to its last publish.
    requests: u64,
    /// Jobs the sidecar finished meanwhile (others' deliveries included).
    jobs: usize,
    /// The sidecar's queue was empty this long after the phase's last delivery (the edits
    /// are all made first, so for the bulk edit this includes the single edits).
    drained_after_last: Duration,
}

impl Phase {
    fn per_job(&self) -> f64 {
        self.requests as f64 / self.jobs.max(1) as f64
    }

    fn last_arrival(&self) -> Instant {
        self.edits.iter().map(|e| e.arrived).max().unwrap()
    }

    fn delivered_over(&self) -> Duration {
        let first = self.edits.iter().map(|e| e.arrived).min().unwrap();
        self.last_arrival() - first
    }

    /// From the last delivery until every edit reached `end`.
    fn after_last(&self, end: Until) -> Duration {
        let last = self.edits.iter().map(|e| e.until(end)).max().unwrap();
        last.saturating_duration_since(self.last_arrival())
    }

    /// Each edit's time from its delivery to `end`, sorted.
    fn latencies(&self, end: Until) -> Vec<Duration> {
        let mut latencies: Vec<Duration> = self
            .edits
            .iter()
            .map(|e| e.until(end).saturating_duration_since(e.arrived))
            .collect();
        latencies.sort();
        latencies
    }

    fn percentile(&self, p: usize, end: Until) -> Duration {
        let latencies = self.latencies(end);
        let index = (latencies.len() * p / 100).min(latencies.len().saturating_sub(1));
        latencies.get(index).copied().unwrap_or_default()
    }
}

impl Sidecar {
    /// Waits for each edit's delivery, its showing in the cluster and its job; then for an
    /// empty queue. `names` are the devices' names by id.
    async fn phase(&self, edits: &[(u64, String)], names: &BTreeMap<u64, String>) -> Phase {
        let mut timed = Vec::new();
        for (id, description) in edits {
            let name = names.get(id).map(String::as_str).unwrap_or_default();
            let (arrived, applied, done) =
                testkit::eventually_some(PHASE_LIMIT, "an edit's publish", || async {
                    Some((
                        self.arrived(*id, description)?,
                        self.applied.at(name, description)?,
                        self.handler.done_at(*id, description)?,
                    ))
                })
                .await;
            timed.push(Timed {
                arrived,
                applied,
                done,
            });
        }
        let drained = self.drained().await;
        let from = timed.iter().map(|e| e.arrived).min().unwrap();
        let to = timed.iter().map(|e| e.done).max().unwrap();
        let jobs = self
            .handler
            .done()
            .iter()
            .filter(|d| d.at >= from && d.at <= to)
            .count();
        let mut phase = Phase {
            edits: timed,
            requests: self.requests.by(to) - self.requests.by(from),
            jobs,
            drained_after_last: Duration::ZERO,
        };
        phase.drained_after_last = drained.saturating_duration_since(phase.last_arrival());
        phase
    }

    /// Publishes the fabric once through the job handler, as a webhook of `device`'s current
    /// state would (without waiting for NetBox's worker): the first publish after start-up or a
    /// reconcile reads in full and keeps the snapshot the measured ones start from.
    async fn warm_up(&self, fabric: &FabricConfig, device: Value) {
        let id = device["id"].as_i64().unwrap_or_default();
        let job = Job {
            id: "warm-up".into(),
            key: format!("dcim.device:{id}"),
            object_type: "dcim.device".into(),
            object_id: id,
            event: "updated".into(),
            request_id: None,
            user: None,
            timestamp: chrono::Utc::now().to_rfc3339(),
            data: device.into(),
            fabric: Some(fabric.name.clone()),
            attempts: 1,
            last_error: None,
        };
        self.handler
            .handle(&job)
            .await
            .expect("the warm-up publish");
    }
}

/// Deliveries the bench makes itself (`HHS_BENCH_DELIVERY=direct`), for a NetBox whose shared
/// webhook worker lags too far behind to measure in reasonable time: each edited device read
/// back through the REST API (the serializer NetBox's webhooks send) and posted, signed, to
/// every sidecar's relay at NetBox's pace.
struct Direct {
    relays: Vec<String>,
    http: reqwest::Client,
}

/// NetBox's webhook worker sends about 11 deliveries per second.
const NETBOX_PACE: Duration = Duration::from_millis(90);

impl Direct {
    async fn deliver(&self, ids: &[u64]) {
        for chunk in ids.chunks(50) {
            let query: Vec<(String, String)> = chunk
                .iter()
                .map(|id| ("id".to_owned(), id.to_string()))
                .collect();
            let page: Value = client()
                .get("dcim/devices/", &query)
                .await
                .expect("read the edited devices");
            for device in page["results"].as_array().into_iter().flatten() {
                self.post(device).await;
                tokio::time::sleep(NETBOX_PACE).await;
            }
        }
    }

    async fn post(&self, device: &Value) {
        let body = json!({
            "event": "updated",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "object_type": "dcim.device",
            "username": "admin",
            "request_id": uuid::Uuid::new_v4().to_string(),
            "data": device,
        })
        .to_string();
        let signature = hedgehog_sidecar::intake::sign(SECRET, body.as_bytes());
        for relay in &self.relays {
            self.http
                .post(format!("{relay}/webhooks/netbox"))
                .header("Content-Type", "application/json")
                .header("X-Hook-Signature", &signature)
                .body(body.clone())
                .send()
                .await
                .expect("a direct delivery");
        }
    }
}

/// One bulk PATCH of up to [`BULK`] devices' descriptions, saved at once. Returns the edits as
/// (device id, description).
async fn edit_in_bulk(
    devices: &[(u64, String)],
    tag: &str,
    direct: Option<&Direct>,
) -> Vec<(u64, String)> {
    let bulk: Vec<(u64, String)> = devices
        .iter()
        .take(BULK)
        .map(|(id, _)| (*id, format!("bulk {tag} {id}")))
        .collect();
    let body: Vec<Value> = bulk
        .iter()
        .map(|(id, d)| json!({"id": id, "description": d}))
        .collect();
    let _: Value = client()
        .patch("dcim/devices/", &body)
        .await
        .expect("the bulk PATCH");
    if let Some(direct) = direct {
        let ids: Vec<u64> = bulk.iter().map(|(id, _)| *id).collect();
        direct.deliver(&ids).await;
    }
    bulk
}

/// `singles` single device edits, [`SINGLE_SPACING`] apart, without waiting for NetBox's
/// worker. Returns them as (device id, description).
async fn edit_one_by_one(
    devices: &[(u64, String)],
    singles: usize,
    tag: &str,
    direct: Option<&Direct>,
) -> Vec<(u64, String)> {
    let mut edits = Vec::new();
    for (i, (id, _)) in devices.iter().cycle().take(singles).enumerate() {
        // Apart, so each is published on its own, as a user's edits are.
        tokio::time::sleep(SINGLE_SPACING).await;
        let description = format!("single {tag} {i}");
        let _: Value = client()
            .patch(
                &format!("dcim/devices/{id}/"),
                &json!({"description": description}),
            )
            .await
            .expect("a device edit");
        if let Some(direct) = direct {
            direct.deliver(&[*id]).await;
        }
        edits.push((*id, description));
    }
    edits
}

/// Devices whose description in the cluster is not their last edit's (`edits` in order).
async fn missing_in_cluster(
    kube: &kube::Client,
    edits: &[(u64, String)],
    devices: &[(u64, String)],
) -> Vec<String> {
    let mut described = BTreeMap::new();
    for kind in [Kind::Switch, Kind::Server] {
        let list = testkit::kube::objects(kube, kind)
            .list(&Default::default())
            .await
            .expect("list the cluster");
        for object in list {
            let value = serde_json::to_value(&object).unwrap_or_default();
            let description = value["spec"]["description"].as_str().map(str::to_owned);
            described.insert(object.metadata.name.unwrap_or_default(), description);
        }
    }
    let names: BTreeMap<u64, &String> = devices.iter().map(|(id, name)| (*id, name)).collect();
    let last: BTreeMap<u64, &String> = edits.iter().map(|(id, edit)| (*id, edit)).collect();
    last.into_iter()
        .filter(|(id, wanted)| {
            let found = names
                .get(id)
                .and_then(|n| described.get(*n))
                .cloned()
                .flatten();
            found.as_deref() != Some(wanted.as_str())
        })
        .map(|(id, _)| id.to_string())
        .collect()
}

/// One mode's figures.
struct Figures {
    mode: &'static str,
    /// Edited devices whose last edit the cluster lacks at the end.
    missing: usize,
    bulk: Phase,
    singles: Phase,
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn print(fabric: &str, objects: usize, devices: usize, figures: &[Figures]) {
    println!("publish load: {fabric}, {objects} NetBox objects, {devices} devices rendered");
    println!(
        "| mode | bulk devices | delivered over | last delivery → all applied | → all jobs done | requests/job (bulk) | single edits | applied p50 | applied p95 | job done p50 | job done p95 | requests/job (single) | last single edit's delivery → queue empty | devices lacking their last edit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        let (b, s) = (&f.bulk, &f.singles);
        let ms = |p, end| s.percentile(p, end).as_millis();
        println!(
            "| {} | {} | {:.1} s | {:.2} s ({}) | {:.2} s | {:.2} ({} requests, {} jobs) | {} | {} ms ({}) | {} ms | {} ms | {} ms | {:.2} ({} requests, {} jobs) ({}) | {:.2} s | {} |",
            f.mode,
            b.edits.len(),
            b.delivered_over().as_secs_f64(),
            b.after_last(Until::Applied).as_secs_f64(),
            verdict(b.after_last(Until::Applied) <= BULK_LIMIT),
            b.after_last(Until::Done).as_secs_f64(),
            b.per_job(),
            b.requests,
            b.jobs,
            s.edits.len(),
            ms(50, Until::Applied),
            verdict(s.percentile(50, Until::Applied) <= EDIT_LIMIT),
            ms(95, Until::Applied),
            ms(50, Until::Done),
            ms(95, Until::Done),
            s.per_job(),
            s.requests,
            s.jobs,
            verdict(s.per_job() <= REQUESTS_PER_EDIT),
            s.drained_after_last.as_secs_f64(),
            f.missing,
        );
    }
    println!(
        "targets: all applied <= {} s after the last delivery; applied p50 <= {} ms; <= {REQUESTS_PER_EDIT} requests per device-edit job",
        BULK_LIMIT.as_secs(),
        EDIT_LIMIT.as_millis()
    );
}

/// Measures one sidecar: the bulk edit until its jobs are done and the queue is empty,
/// then the single edits, then checks the cluster has every device's last edit.
async fn measure(
    sidecar: &Sidecar,
    devices: &[(u64, String)],
    singles: usize,
    direct: Option<&Direct>,
) -> Figures {
    let tag = format!("{:08x}", rand::random::<u32>());
    eprintln!(
        "{}: editing {} devices in bulk",
        sidecar.mode,
        devices.len().min(BULK)
    );
    let bulk = edit_in_bulk(devices, &tag, direct).await;
    let names: BTreeMap<u64, String> = devices.iter().cloned().collect();
    let bulk_phase = sidecar.phase(&bulk, &names).await;
    eprintln!(
        "{}: bulk delivered over {:.1}s, all applied {:.2}s and all jobs done {:.2}s after the last delivery",
        sidecar.mode,
        bulk_phase.delivered_over().as_secs_f64(),
        bulk_phase.after_last(Until::Applied).as_secs_f64(),
        bulk_phase.after_last(Until::Done).as_secs_f64(),
    );
    eprintln!("{}: {singles} single edits", sidecar.mode);
    let edits = edit_one_by_one(devices, singles, &tag, direct).await;
    let singles_phase = sidecar.phase(&edits, &names).await;
    let kube = sidecar.server.client().await.unwrap();
    let all: Vec<(u64, String)> = bulk.iter().chain(&edits).cloned().collect();
    let missing = missing_in_cluster(&kube, &all, devices).await;
    // Reported with the figures rather than ending the run: the other mode's still count.
    if !missing.is_empty() {
        eprintln!(
            "{}: the cluster lacks the last edit of devices {missing:?}",
            sidecar.mode
        );
    }
    Figures {
        mode: sidecar.mode,
        bulk: bulk_phase,
        singles: singles_phase,
        missing: missing.len(),
    }
}

/// One mode, alone on the machine and on NetBox: its sidecar started, onboarded and warmed up,
/// its edits made and measured, the sidecar stopped (its webhook removed even when a step
/// fails, since NetBox would keep sending to a closed port).
async fn run(
    fabric: &FabricConfig,
    mode: &Mode,
    devices: &[(u64, String)],
    singles: usize,
) -> Figures {
    let sidecar = start(fabric, mode).await;
    let netbox = sidecar.services.netbox().clone();
    sidecar
        .requests
        .sample(move || netbox.requests_sent(), sidecar.shutdown.clone());
    let direct = (std::env::var("HHS_BENCH_DELIVERY").as_deref() == Ok("direct")).then(|| Direct {
        relays: vec![sidecar.relay.url.clone()],
        http: reqwest::Client::new(),
    });
    let measured = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        let current: Value = client()
            .get(&format!("dcim/devices/{}/", devices[0].0), &[])
            .await
            .expect("a device");
        sidecar.onboard(direct.is_none()).await;
        sidecar.warm_up(&sidecar.fabric, current).await;
        measure(&sidecar, devices, singles, direct.as_ref()).await
    }))
    .await;
    sidecar.stop().await;
    measured.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The modes to measure: `HHS_BENCH_MODES=kept` or `full` for one of them, else both in turn.
fn modes() -> Vec<&'static Mode> {
    let only = std::env::var("HHS_BENCH_MODES").unwrap_or_default();
    MODES
        .iter()
        .filter(|m| only.is_empty() || m.name.starts_with(only.as_str()))
        .collect()
}

#[tokio::main]
async fn main() {
    // `RUST_LOG=hedgehog_sidecar=debug` shows where each publish's time goes.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let client = client();
    let fabric = spec().fabric_config();
    ensure_seeded(&client, &fabric).await;
    let objects = load_fabric(&client, &fabric).await.expect("load").len();
    let devices = edited_devices(&client, &fabric).await;
    let singles: usize = std::env::var("HHS_BENCH_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let mut figures = Vec::new();
    for mode in modes() {
        figures.push(run(&fabric, mode, &devices, singles).await);
    }
    print(&fabric.name, objects, devices.len(), &figures);
}
