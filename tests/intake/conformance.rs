//! The queue's guarantees, proven through the running service on both back-ends: durability
//! across restarts, visibility-timeout takeover, retries into the dead-letter queue and back,
//! coalescing, per-object order, graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use hedgehog_sidecar::intake::{Decision, OwnWrites, decide};
use hedgehog_sidecar::queue::worker::WorkerConfig;
use hedgehog_sidecar::queue::{
    EnqueueOutcome, Job, JobError, JobHandler, JobState, NewJob, WorkerPool,
};

use crate::support::{Backend, SlowHandler, Storage, TestApp, both_backends, event, eventually};
use testkit::handler::RecordingHandler;

both_backends!(
    accepted_jobs_survive_a_restart,
    a_dead_workers_job_is_taken_over_and_finished,
    failures_retry_then_dead_letter_and_jobs_retry_brings_them_back,
    permanent_failures_go_straight_to_dead_letters,
    events_for_a_waiting_job_coalesce,
    one_batch_dedupes_and_coalesces_within_itself,
    redeliveries_are_recognised_for_the_dedupe_ttl_only,
    jobs_for_one_object_run_in_order_never_concurrently,
    a_retried_job_still_holds_its_object_and_releases_it,
    shutdown_finishes_running_jobs,
    shutdown_hands_back_jobs_that_overrun_the_grace_period,
);

async fn accepted_jobs_survive_a_restart(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let (status, json) = app
        .post_signed(&event("ipam.prefix", 3, "created", 1))
        .await;
    assert_eq!(status, 202);
    app.stop().await;

    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    eventually(
        Duration::from_secs(10),
        "the job runs after the restart",
        || async { handler.jobs().iter().any(|j| j.id == json["job_id"]) },
    )
    .await;
    app.stop().await;
}

/// A worker claims a job and dies (never acks, never heartbeats). Once the visibility timeout
/// (1 s here) has passed, a live worker takes it over and finishes it.
async fn a_dead_workers_job_is_taken_over_and_finished(backend: Backend) {
    let storage = Storage::new(backend);
    let settings = storage.settings();
    let app = TestApp::spawn_without_workers(&settings).await;
    let (_, json) = app
        .post_signed(&event("dcim.device", 9, "updated", 1))
        .await;
    let lease = app
        .queue
        .claim("worker-that-dies", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("the dead worker got the job");
    assert_eq!(lease.job.id, json["job_id"]);
    assert!(
        app.queue
            .claim("other", Duration::from_millis(300))
            .await
            .unwrap()
            .is_none(),
        "nobody else gets the job before the visibility timeout"
    );

    let handler = Arc::new(RecordingHandler::new());
    let stop_workers = tokio_util::sync::CancellationToken::new();
    let workers = WorkerPool::spawn(
        app.queue.clone(),
        handler.clone(),
        WorkerConfig::from(&settings.queue),
        stop_workers.clone(),
    );
    let job = &first_job(&handler, "a live worker finishes the job").await;
    assert_eq!(job.id, lease.job.id);
    assert_eq!(job.attempts, 2, "the dead worker's attempt counts");
    // The dead worker's late ack is refused: the job is no longer its own.
    assert!(app.queue.ack(&lease).await.is_err());
    stop_workers.cancel();
    workers.join().await;
    app.stop().await;
}

/// Fails with a retryable error until `healed`.
#[derive(Default)]
struct FlakyHandler {
    healed: AtomicBool,
    calls: AtomicU32,
    succeeded: AtomicU32,
}

#[async_trait::async_trait]
impl JobHandler for FlakyHandler {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.healed.load(Ordering::SeqCst) {
            self.succeeded.fetch_add(1, Ordering::SeqCst);
            Ok(())
        } else {
            Err(JobError::retryable("target unreachable"))
        }
    }
}

async fn failures_retry_then_dead_letter_and_jobs_retry_brings_them_back(backend: Backend) {
    let storage = Storage::new(backend);
    let settings = storage.settings();
    let handler = Arc::new(FlakyHandler::default());
    let app = TestApp::spawn(&settings, handler.clone()).await;
    let (_, json) = app.post_signed(&event("ipam.vrf", 4, "updated", 1)).await;
    let id = json["job_id"].as_str().unwrap().to_owned();
    until_a_dead_letter(&app).await;
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3, "max_attempts = 3");
    let (state, dead) = app.queue.show(&id).await.unwrap().unwrap();
    assert_eq!(state, JobState::Dead);
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("target unreachable"));
    app.stop().await;

    // The operator looks and re-queues with the CLI, on the queue itself while serve is stopped.
    let list = run_cli(&storage, &["jobs", "--offline", "list", "--state", "dead"]);
    assert!(
        list.contains(&id) && list.contains("target unreachable"),
        "{list}"
    );
    let show = run_cli(&storage, &["jobs", "--offline", "show", &id]);
    assert!(show.contains("\"state\": \"dead\""), "{show}");
    run_cli(&storage, &["jobs", "--offline", "retry", &id]);

    handler.healed.store(true, Ordering::SeqCst);
    let app = TestApp::spawn(&settings, handler.clone()).await;
    eventually(
        Duration::from_secs(10),
        "the re-queued job succeeds",
        || async { handler.succeeded.load(Ordering::SeqCst) == 1 },
    )
    .await;
    let queue = app.queue.clone();
    eventually(Duration::from_secs(5), "the job is gone", || async {
        queue.show(&id).await.unwrap().is_none()
    })
    .await;
    app.stop().await;
}

fn run_cli(storage: &Storage, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .args(args)
        .env_remove("HEDGEHOG_SIDECAR_CONFIG")
        .env_remove("HEDGEHOG_SIDECAR_REDIS_URL")
        .envs(storage.cli_env())
        .output()
        .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

struct BrokenDataHandler;

#[async_trait::async_trait]
impl JobHandler for BrokenDataHandler {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        Err(JobError::permanent("interface has no device"))
    }
}

async fn permanent_failures_go_straight_to_dead_letters(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn(&storage.settings(), Arc::new(BrokenDataHandler)).await;
    app.post_signed(&event("dcim.interface", 4, "created", 1))
        .await;
    until_a_dead_letter(&app).await;
    let dead = &app.queue.list(JobState::Dead, 10).await.unwrap()[0];
    assert_eq!(dead.attempts, 1);
    assert_eq!(dead.last_error.as_deref(), Some("interface has no device"));
    let id = dead.id.clone();
    assert!(app.queue.drop_dead(&id).await.unwrap());
    assert!(app.queue.show(&id).await.unwrap().is_none());
    app.stop().await;
}

async fn events_for_a_waiting_job_coalesce(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let (_, first) = app
        .post_signed(&event("dcim.device", 1, "created", 1))
        .await;
    let (_, second) = app
        .post_signed(&event("dcim.device", 1, "updated", 2))
        .await;
    let (_, third) = app
        .post_signed(&event("dcim.device", 1, "updated", 3))
        .await;
    let (_, other) = app
        .post_signed(&event("dcim.device", 2, "updated", 1))
        .await;
    assert_eq!(first["status"], "queued");
    assert_eq!(second["status"], "coalesced");
    assert_eq!(third["status"], "coalesced");
    assert_eq!(second["job_id"], first["job_id"]);
    assert_eq!(third["job_id"], first["job_id"]);
    assert_ne!(other["job_id"], first["job_id"]);
    let jobs = app.queue.list(JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    let merged = jobs.iter().find(|j| j.id == first["job_id"]).unwrap();
    assert_eq!(
        merged.data.parse()["version"],
        3,
        "the job carries the newest event"
    );
    assert_eq!(merged.request_id.as_deref(), Some("req-1-3"));
    app.stop().await;
}

fn new_job(body: &str) -> NewJob {
    match decide(body.as_bytes(), &OwnWrites::default()) {
        Ok(Decision::Queue(job)) => *job,
        other => panic!("not a job: {other:?}"),
    }
}

/// Group commit stores many deliveries at once: within one batch, as across batches, a
/// redelivery is a duplicate, later events for a waiting job coalesce into it (its body
/// becomes the newest), and other objects get their own jobs.
async fn one_batch_dedupes_and_coalesces_within_itself(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let device_v1 = new_job(&event("dcim.device", 1, "created", 1));
    let batch = vec![
        device_v1.clone(),
        device_v1.clone(),
        new_job(&event("dcim.device", 1, "updated", 2)),
        new_job(&event("ipam.vlan", 1, "created", 1)),
        new_job(&event("dcim.device", 1, "updated", 3)),
    ];
    let outcomes = app.queue.enqueue_batch(batch).await.unwrap();
    let labels: Vec<&str> = outcomes.iter().map(|o| o.label()).collect();
    assert_eq!(
        labels,
        ["queued", "duplicate", "coalesced", "queued", "coalesced"]
    );
    let device = outcomes[0].job_id();
    for outcome in [&outcomes[1], &outcomes[2], &outcomes[4]] {
        assert_eq!(
            outcome.job_id(),
            device,
            "{outcome:?} names the device's job"
        );
    }
    assert_ne!(outcomes[3].job_id(), device);

    // A later batch sees what the first one recorded.
    let again = app
        .queue
        .enqueue_batch(vec![
            new_job(&event("dcim.device", 1, "updated", 2)),
            new_job(&event("dcim.device", 1, "updated", 4)),
        ])
        .await
        .unwrap();
    assert_eq!(again[0], EnqueueOutcome::Duplicate(device.into()));
    assert_eq!(again[1], EnqueueOutcome::Coalesced(device.into()));

    let jobs = app.queue.list(JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let merged = jobs.iter().find(|j| j.id == device).unwrap();
    assert_eq!(
        merged.data.parse()["version"],
        4,
        "the job carries the newest event"
    );
    app.stop().await;
}

/// A redelivery is recognised while its mark lives (`queue.dedupe_ttl_secs`, here 1 s); once the
/// mark has expired the same delivery counts as a new event (it coalesces into the waiting job).
async fn redeliveries_are_recognised_for_the_dedupe_ttl_only(backend: Backend) {
    let storage = Storage::new(backend);
    let mut settings = storage.settings();
    settings.queue.dedupe_ttl_secs = 1;
    let app = TestApp::spawn_without_workers(&settings).await;
    let body = event("ipam.vrf", 3, "created", 1);
    let (_, first) = app.post_signed(&body).await;
    let (_, again) = app.post_signed(&body).await;
    assert_eq!(first["status"], "queued");
    assert_eq!(again["status"], "duplicate");
    // Marks live at least the TTL and at most twice it (Redis keeps them per TTL window).
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (_, late) = app.post_signed(&body).await;
    assert_eq!(late["status"], "coalesced", "{late}");
    assert_eq!(late["job_id"], first["job_id"]);
    app.stop().await;
}

/// Events for one object arrive while its job runs: they become one later job (not a
/// concurrent one), and the handler sees the object's versions in order.
async fn jobs_for_one_object_run_in_order_never_concurrently(backend: Backend) {
    let storage = Storage::new(backend);
    let mut settings = storage.settings();
    settings.queue.workers = 4;
    let handler = SlowHandler::new(Duration::from_millis(150));
    let app = TestApp::spawn(&settings, handler.clone()).await;
    app.post_signed(&event("dcim.interface", 1, "updated", 1))
        .await;
    eventually(Duration::from_secs(5), "the first job runs", || async {
        !handler.started().is_empty()
    })
    .await;
    for version in 2..=6 {
        app.post_signed(&event("dcim.interface", 1, "updated", version))
            .await;
        app.post_signed(&event(
            "dcim.interface",
            100 + i64::from(version),
            "updated",
            1,
        ))
        .await;
    }
    eventually(
        Duration::from_secs(10),
        "every version is handled",
        || async {
            handler
                .finished()
                .iter()
                .any(|j| j.key == "dcim.interface:1" && j.data.parse()["version"] == 6)
        },
    )
    .await;
    let versions: Vec<i64> = handler
        .started()
        .iter()
        .filter(|j| j.key == "dcim.interface:1")
        .map(|j| j.data.parse()["version"].as_i64().unwrap())
        .collect();
    assert!(versions.is_sorted(), "out of order: {versions:?}");
    assert_eq!(versions.first(), Some(&1));
    assert!(
        versions.len() < 6,
        "events that waited coalesced: {versions:?}"
    );
    assert!(
        handler.overlaps.lock().unwrap().is_empty(),
        "ran concurrently"
    );
    app.stop().await;
}

/// Fails the first attempt at each object, and records what it runs.
#[derive(Default)]
struct FailsFirstAttempt {
    failed: std::sync::Mutex<Vec<String>>,
    ran: std::sync::Mutex<Vec<(String, i64)>>,
}

#[async_trait::async_trait]
impl JobHandler for FailsFirstAttempt {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let version = job.data.parse()["version"].as_i64().unwrap_or(0);
        self.ran.lock().unwrap().push((job.key.clone(), version));
        let mut failed = self.failed.lock().unwrap();
        if !failed.contains(&job.key) {
            failed.push(job.key.clone());
            return Err(JobError::retryable("NetBox unreachable"));
        }
        Ok(())
    }
}

/// A job that fails and is retried later must come back under its object's key: the object's
/// next event waits for it, and runs after the retry succeeded. Two objects are retried, so a
/// retry under a wrong (shared) key would leave the second one waiting forever.
async fn a_retried_job_still_holds_its_object_and_releases_it(backend: Backend) {
    let storage = Storage::new(backend);
    let handler = Arc::new(FailsFirstAttempt::default());
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    app.post_signed(&event("ipam.vlan", 9, "updated", 1)).await;
    eventually(
        Duration::from_secs(5),
        "the first attempt failed",
        || async { !handler.failed.lock().unwrap().is_empty() },
    )
    .await;
    app.post_signed(&event("ipam.vlan", 9, "updated", 2)).await;
    app.post_signed(&event("ipam.vlan", 10, "updated", 1)).await;
    let ran = |key: &str| -> Vec<i64> {
        let ran = handler.ran.lock().unwrap();
        ran.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    eventually(Duration::from_secs(10), "both objects are done", || async {
        ran("ipam.vlan:9").len() == 3 && ran("ipam.vlan:10").len() == 2
    })
    .await;
    assert_eq!(
        ran("ipam.vlan:9"),
        vec![1, 1, 2],
        "the retry ran before the object's next event"
    );
    assert_eq!(ran("ipam.vlan:10"), vec![1, 1]);
    app.stop().await;
}

async fn shutdown_finishes_running_jobs(backend: Backend) {
    let storage = Storage::new(backend);
    let handler = SlowHandler::new(Duration::from_millis(500));
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    let (_, json) = app.post_signed(&event("ipam.vlan", 7, "created", 1)).await;
    eventually(Duration::from_secs(5), "the job runs", || async {
        !handler.started().is_empty()
    })
    .await;
    let (queue, addr) = (app.queue.clone(), app.addr);
    app.stop().await;
    assert_eq!(handler.finished().len(), 1, "the running job was finished");
    assert!(
        queue
            .show(json["job_id"].as_str().unwrap())
            .await
            .unwrap()
            .is_none(),
        "and acked"
    );
    assert!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err(),
        "no more requests are taken"
    );
}

async fn shutdown_hands_back_jobs_that_overrun_the_grace_period(backend: Backend) {
    let storage = Storage::new(backend);
    let mut settings = storage.settings();
    settings.queue.shutdown_grace_secs = 1;
    let slow = SlowHandler::new(Duration::from_secs(3600));
    let app = TestApp::spawn(&settings, slow.clone()).await;
    let (_, json) = app.post_signed(&event("ipam.vlan", 8, "created", 1)).await;
    eventually(Duration::from_secs(5), "the job runs", || async {
        !slow.started().is_empty()
    })
    .await;
    app.stop().await;
    assert!(slow.finished().is_empty());

    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn(&settings, handler.clone()).await;
    let job = &first_job(&handler, "the handed-back job runs").await;
    assert_eq!(job.id, json["job_id"]);
    assert_eq!(job.attempts, 1, "a handed-back attempt does not count");
    app.stop().await;
}

/// The first job `handler` ran, once it ran one.
async fn first_job(handler: &RecordingHandler, what: &str) -> Job {
    eventually(Duration::from_secs(10), what, || async {
        !handler.jobs().is_empty()
    })
    .await;
    handler.jobs()[0].clone()
}

/// Waits until the queue of `app` holds a dead letter.
async fn until_a_dead_letter(app: &TestApp) {
    eventually(
        Duration::from_secs(10),
        "the job is a dead letter",
        || async { !app.queue.list(JobState::Dead, 10).await.unwrap().is_empty() },
    )
    .await;
}
