//! Batching per fabric: jobs waiting together are published by one render, and each job still
//! gets its own outcome, acknowledgement, retry or dead letter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::*;
use crate::config::FabricConfig;
use crate::queue::job::NewJob;
use crate::queue::worker::WorkerConfig;
use crate::queue::{Job, JobError, JobHandler, JobQueue, WorkerPool};
use crate::reconcile::netbox_io::desired_from_snapshot;
use crate::reconcile::testing::{MemoryTarget, RecordingWriter};
use crate::reconcile::{Desired, DesiredSource, SourceError};

fn fabric(debounce_ms: u64) -> FabricConfig {
    let mut fabric = super::tests::fabric();
    fabric.publish_debounce_ms = debounce_ms;
    fabric
}

fn desired() -> Desired {
    desired_from_snapshot(&fabric(0), super::tests::snapshot())
}

/// Renders the docs fabric and counts how often it was asked to (each is a NetBox read).
#[derive(Default)]
struct CountingSource(AtomicUsize);

#[async_trait]
impl DesiredSource for CountingSource {
    async fn desired(&self, _: &FabricConfig) -> Result<Desired, SourceError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(desired())
    }
}

/// A change to device `device` (leaf-0N) by `user`, made now.
fn new_job(device: i64, user: &str) -> NewJob {
    let now = chrono::Utc::now().to_rfc3339();
    NewJob {
        key: format!("dcim.device:{device}"),
        object_type: "dcim.device".into(),
        object_id: device,
        event: "updated".into(),
        request_id: Some(format!("request-of-{user}")),
        user: Some(user.into()),
        timestamp: now.clone(),
        data: json!({"id": device}).into(),
        fabric: Some("docs".into()),
        dedupe_key: format!("{device}-{now}"),
    }
}

struct Setup {
    handler: Arc<FabricJobHandler>,
    source: Arc<CountingSource>,
    target: Arc<MemoryTarget>,
    writer: Arc<RecordingWriter>,
}

fn setup(debounce_ms: u64, target: MemoryTarget) -> Setup {
    let source = Arc::new(CountingSource::default());
    let target = Arc::new(target);
    let writer = Arc::new(RecordingWriter::default());
    let publisher = FabricPublisher {
        fabric: fabric(debounce_ms),
        source: source.clone(),
        target: target.clone(),
        writer: writer.clone(),
        shared: Arc::new(crate::state::MemoryState::default()),
    };
    Setup {
        handler: Arc::new(FabricJobHandler::new(vec![publisher])),
        source,
        target,
        writer,
    }
}

/// Runs the jobs' handlers at the same time; their outcomes in order.
async fn handle_together(
    handler: &Arc<FabricJobHandler>,
    jobs: Vec<Job>,
) -> Vec<Result<(), JobError>> {
    let tasks: Vec<_> = jobs
        .into_iter()
        .map(|job| {
            let handler = handler.clone();
            tokio::spawn(async move { handler.handle(&job).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

fn held(new: NewJob, id: usize) -> Job {
    Job::from_parts(id.to_string(), new, 1, None)
}

#[tokio::test(start_paused = true)]
async fn jobs_waiting_together_are_published_by_one_read_and_render() {
    let s = setup(200, MemoryTarget::new(vec![]));
    let jobs = (1..=4)
        .map(|d| held(new_job(d, "alice"), d as usize))
        .collect();
    let outcomes = handle_together(&s.handler, jobs).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        s.source.0.load(Ordering::SeqCst),
        1,
        "one NetBox read for four jobs"
    );
    assert_eq!(
        *s.target.publishes.lock().unwrap(),
        1,
        "one publish for four jobs"
    );
}

/// A round outlives a job that stopped waiting for it (a worker hands its job back when the
/// shutdown grace ends): the round's owner waits until it has published.
#[tokio::test(start_paused = true)]
async fn a_round_whose_job_stopped_waiting_is_waited_for_by_its_owner() {
    let tasks = tokio_util::task::TaskTracker::new();
    let target = Arc::new(MemoryTarget::new(vec![]));
    let publisher = FabricPublisher {
        fabric: fabric(200),
        source: Arc::new(CountingSource::default()),
        target: target.clone(),
        writer: Arc::new(RecordingWriter::default()),
        shared: Arc::new(crate::state::MemoryState::default()),
    };
    let handler = FabricJobHandler::new(vec![publisher]).with_rounds_owned_by(tasks.clone());
    let job = held(new_job(1, "alice"), 1);
    let gave_up = tokio::time::timeout(Duration::from_millis(50), handler.handle(&job)).await;
    assert!(
        gave_up.is_err(),
        "the job stopped waiting during the debounce"
    );
    assert_eq!(*target.publishes.lock().unwrap(), 0);
    tasks.close();
    tasks.wait().await;
    assert_eq!(
        *target.publishes.lock().unwrap(),
        1,
        "the round published before its owner's wait returned"
    );
}

#[tokio::test(start_paused = true)]
async fn jobs_arriving_while_a_round_publishes_form_the_next_round() {
    let s = setup(200, MemoryTarget::new(vec![]));
    let first = {
        let handler = s.handler.clone();
        tokio::spawn(async move { handler.handle(&held(new_job(1, "alice"), 1)).await })
    };
    // After the first round's debounce: these two wait for it and then publish together.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = (2..=3)
        .map(|d| held(new_job(d, "bob"), d as usize))
        .collect();
    let outcomes = handle_together(&s.handler, later).await;
    assert!(first.await.unwrap().is_ok());
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        s.source.0.load(Ordering::SeqCst),
        2,
        "two rounds, two reads"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_round_fails_each_of_its_jobs_retryably() {
    let mut target = MemoryTarget::new(vec![]);
    target.reachable = false;
    let s = setup(200, target);
    let jobs = (1..=3)
        .map(|d| held(new_job(d, "alice"), d as usize))
        .collect();
    let outcomes = handle_together(&s.handler, jobs).await;
    assert_eq!(outcomes.len(), 3);
    for outcome in outcomes {
        assert!(
            matches!(outcome, Err(JobError::Retryable(_))),
            "{outcome:?}"
        );
    }
    assert_eq!(s.source.0.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_round_credits_each_switch_with_its_own_jobs_change() {
    let s = setup(200, MemoryTarget::new(vec![]));
    let jobs = vec![held(new_job(1, "alice"), 1), held(new_job(2, "bob"), 2)];
    let outcomes = handle_together(&s.handler, jobs).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let plans = s.writer.0.lock().unwrap().clone();
    assert_eq!(plans.len(), 1, "one publish, one write-back");
    let entry_of = |switch: &str| {
        plans[0]
            .journal
            .iter()
            .find(|j| j.comments.contains(&format!("Switch/{switch} (created;")))
            .unwrap_or_else(|| panic!("{switch} is journalled"))
            .comments
            .clone()
    };
    let (leaf1, leaf2) = (entry_of("leaf-01"), entry_of("leaf-02"));
    assert!(
        leaf1.contains("request request-of-alice by alice"),
        "{leaf1}"
    );
    assert!(!leaf1.contains("bob"), "{leaf1}");
    assert!(leaf2.contains("request request-of-bob by bob"), "{leaf2}");
    assert!(!leaf2.contains("alice"), "{leaf2}");
}

/// The real embedded queue and workers around the handler: each job of a round is
/// acknowledged (or dead-lettered) on its own.
async fn run_through_queue(
    s: &Setup,
    jobs: usize,
    workers: usize,
    max_attempts: u32,
) -> crate::queue::QueueStats {
    let dir = tempfile::tempdir().unwrap();
    let queue: Arc<dyn JobQueue> = Arc::new(
        crate::queue::embedded::EmbeddedQueue::open(
            dir.path(),
            Duration::from_secs(15),
            Duration::from_secs(60),
            1000,
        )
        .unwrap(),
    );
    let news = (1..=jobs as i64).map(|d| new_job(d, "alice")).collect();
    queue.enqueue_batch(news).await.unwrap();
    let config = WorkerConfig {
        workers,
        max_attempts,
        backoff_initial_ms: 60_000,
        backoff_max_ms: 60_000,
        visibility: Duration::from_secs(15),
        shutdown_grace: Duration::from_secs(5),
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let pool = WorkerPool::spawn(queue.clone(), s.handler.clone(), config, shutdown.clone());
    let settled = |stats: &crate::queue::QueueStats| stats.queued + stats.running == 0;
    let mut stats = queue.stats().await.unwrap();
    for _ in 0..100 {
        if settled(&stats) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stats = queue.stats().await.unwrap();
    }
    shutdown.cancel();
    pool.join().await;
    stats
}

/// Also with fewer workers than jobs: a job waiting in a round frees its worker for the next.
#[tokio::test]
async fn each_job_of_a_round_is_acknowledged_by_the_queue() {
    for (jobs, workers) in [(4, 4), (12, 2)] {
        let s = setup(500, MemoryTarget::new(vec![]));
        let stats = run_through_queue(&s, jobs, workers, 3).await;
        assert_eq!(
            stats,
            crate::queue::QueueStats::default(),
            "every job acknowledged"
        );
        assert_eq!(
            s.source.0.load(Ordering::SeqCst),
            1,
            "one NetBox read for {jobs} jobs and {workers} workers"
        );
    }
}

#[tokio::test]
async fn each_job_of_a_failed_round_is_retried_or_dead_lettered_on_its_own() {
    let mut target = MemoryTarget::new(vec![]);
    target.reachable = false;
    let s = setup(500, target);
    let retried = run_through_queue(&s, 3, 3, 3).await;
    assert_eq!((retried.retrying, retried.dead), (3, 0), "{retried:?}");
    let s = {
        let mut target = MemoryTarget::new(vec![]);
        target.reachable = false;
        setup(500, target)
    };
    let dead = run_through_queue(&s, 3, 3, 1).await;
    assert_eq!((dead.retrying, dead.dead), (0, 3), "{dead:?}");
    assert_eq!(s.source.0.load(Ordering::SeqCst), 1);
}
