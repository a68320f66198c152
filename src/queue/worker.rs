//! Workers: claim a job, run the handler while heartbeating, then ack, retry with backoff, or
//! dead-letter it. On shutdown a worker stops claiming, lets its jobs finish within the grace
//! period, and otherwise hands them back to the queue.
//!
//! A handler whose job waits for work shared with other jobs (a fabric's round of publishes)
//! says so with [`waiting_for_others`]: its worker then claims the next job while that one
//! waits, so the shared work gathers every job that arrives meanwhile instead of at most one
//! per worker. At most [`MAX_WAITING`] jobs of a pool wait so at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::backend::{JobQueue, Lease};
use super::backoff::retry_delay;
use super::handler::{JobError, JobHandler};
use super::metrics as m;
use crate::config::QueueSettings;

/// How long one claim call waits for a job before checking for shutdown again.
const CLAIM_WAIT: Duration = Duration::from_millis(500);
/// Most jobs of a pool that wait for others' shared work while their workers claim more.
pub const MAX_WAITING: usize = 1024;

tokio::task_local! {
    /// Told when the running job waits for work shared with other jobs.
    static WAITING: Arc<Notify>;
}

/// The running job now waits for work other jobs share (see the module's documentation): its
/// worker may claim the next job meanwhile. Outside a worker this does nothing.
pub fn waiting_for_others() {
    let _ = WAITING.try_with(|waiting| waiting.notify_one());
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub workers: usize,
    pub max_attempts: u32,
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
    pub visibility: Duration,
    pub shutdown_grace: Duration,
}

impl From<&QueueSettings> for WorkerConfig {
    fn from(q: &QueueSettings) -> Self {
        Self {
            workers: q.workers,
            max_attempts: q.max_attempts,
            backoff_initial_ms: q.backoff_initial_ms,
            backoff_max_ms: q.backoff_max_ms,
            visibility: Duration::from_secs(q.visibility_timeout_secs),
            shutdown_grace: Duration::from_secs(q.shutdown_grace_secs),
        }
    }
}

pub struct WorkerPool {
    tasks: Vec<JoinHandle<()>>,
    /// Hands running jobs back once the grace period after shutdown has passed.
    grace_timer: JoinHandle<()>,
}

struct Worker {
    queue: Arc<dyn JobQueue>,
    handler: Arc<dyn JobHandler>,
    config: WorkerConfig,
    consumer: String,
    /// Cancelled when the grace period after shutdown is over: unfinished jobs are handed back.
    hard_stop: CancellationToken,
    /// The pool's places for jobs waiting for others' work (see [`waiting_for_others`]).
    waiting: Arc<Semaphore>,
}

impl WorkerPool {
    /// Starts `config.workers` workers; they stop claiming when `shutdown` is cancelled.
    pub fn spawn(
        queue: Arc<dyn JobQueue>,
        handler: Arc<dyn JobHandler>,
        config: WorkerConfig,
        shutdown: CancellationToken,
    ) -> Self {
        let process = uuid::Uuid::new_v4().simple().to_string();
        let hard_stop = CancellationToken::new();
        let waiting = Arc::new(Semaphore::new(MAX_WAITING));
        let grace_timer = {
            let (shutdown, hard_stop, grace) =
                (shutdown.clone(), hard_stop.clone(), config.shutdown_grace);
            tokio::spawn(async move {
                shutdown.cancelled().await;
                tokio::time::sleep(grace).await;
                hard_stop.cancel();
            })
        };
        let tasks = (0..config.workers)
            .map(|i| {
                let worker = Worker {
                    queue: queue.clone(),
                    handler: handler.clone(),
                    config: config.clone(),
                    consumer: format!("{}-{i}", &process[..12]),
                    hard_stop: hard_stop.clone(),
                    waiting: waiting.clone(),
                };
                tokio::spawn(Arc::new(worker).run(shutdown.clone()))
            })
            .collect();
        Self { tasks, grace_timer }
    }

    /// Waits until every worker has stopped; the grace period's timer ends with them.
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
        self.grace_timer.abort();
        let _ = self.grace_timer.await;
    }
}

impl Worker {
    async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut waiting = JoinSet::new();
        while !shutdown.is_cancelled() {
            match self.queue.claim(&self.consumer, CLAIM_WAIT).await {
                Ok(Some(lease)) => self.clone().start(lease, &mut waiting).await,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(consumer = %self.consumer, %error, "cannot claim a job");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            while waiting.try_join_next().is_some() {}
        }
        while waiting.join_next().await.is_some() {}
    }

    /// Processes the job until it is done, or until it waits for others' work and the pool
    /// has a place for it: it then goes on in `waiting` and the worker claims the next job.
    async fn start(self: Arc<Self>, lease: Lease, waiting: &mut JoinSet<()>) {
        let told = Arc::new(Notify::new());
        let worker = self.clone();
        let mut job =
            tokio::spawn(WAITING.scope(told.clone(), async move { worker.process(lease).await }));
        loop {
            let waits = tokio::select! {
                _ = &mut job => false,
                _ = told.notified() => true,
            };
            if !waits {
                return;
            }
            // Without a place the job keeps its worker until it is done.
            if let Ok(place) = self.waiting.clone().try_acquire_owned() {
                waiting.spawn(async move {
                    let _ = job.await;
                    drop(place);
                });
                return;
            }
        }
    }

    async fn process(&self, lease: Lease) {
        let job = &lease.job;
        let span = tracing::info_span!(
            "job",
            request_id = job.request_id.as_deref().unwrap_or("-"),
            job_id = %job.id,
            key = %job.key,
            attempt = job.attempts,
        );
        async {
            tracing::debug!("job started");
            let started = Instant::now();
            let outcome = self.run_handler(&lease).await;
            let elapsed = started.elapsed().as_secs_f64();
            let result = match outcome {
                None => {
                    metrics::counter!(m::JOBS_HANDED_BACK, "fabric" => fabric_label(job)).increment(1);
                    tracing::info!("shutting down: job handed back unfinished");
                    self.queue.release(&lease).await
                }
                Some(Ok(())) => {
                    metrics::counter!(m::JOBS_DONE, "fabric" => fabric_label(job)).increment(1);
                    metrics::histogram!(m::JOB_PROCESSING_SECONDS, "fabric" => fabric_label(job), "outcome" => "done")
                        .record(elapsed);
                    tracing::info!(seconds = elapsed, "job done");
                    self.queue.ack(&lease).await
                }
                Some(Err(error)) => {
                    metrics::histogram!(m::JOB_PROCESSING_SECONDS, "fabric" => fabric_label(job), "outcome" => "failed")
                        .record(elapsed);
                    self.fail(&lease, error).await
                }
            };
            if let Err(error) = result {
                tracing::warn!(%error, "cannot record the job's outcome; it will run again");
            }
        }
        .instrument(span)
        .await
    }

    /// Runs the handler, heartbeating; None when the grace period ran out first.
    async fn run_handler(&self, lease: &Lease) -> Option<Result<(), JobError>> {
        let work = self.handler.handle(&lease.job);
        tokio::pin!(work);
        let mut beat =
            tokio::time::interval((self.config.visibility / 3).max(Duration::from_millis(100)));
        beat.tick().await;
        loop {
            tokio::select! {
                result = &mut work => return Some(result),
                _ = beat.tick() => {
                    if let Err(error) = self.queue.heartbeat(lease).await {
                        tracing::warn!(%error, "heartbeat failed");
                    }
                }
                _ = self.hard_stop.cancelled() => return None,
            }
        }
    }

    async fn fail(&self, lease: &Lease, error: JobError) -> Result<(), super::QueueError> {
        let attempts = lease.job.attempts;
        let message = error.to_string();
        if error.is_retryable() && attempts < self.config.max_attempts {
            let delay = retry_delay(
                attempts,
                self.config.backoff_initial_ms,
                self.config.backoff_max_ms,
            );
            metrics::counter!(m::JOBS_RETRIED, "fabric" => fabric_label(&lease.job)).increment(1);
            tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
            self.queue.retry_later(lease, &message, delay).await
        } else {
            metrics::counter!(m::JOBS_DEAD_LETTERED, "fabric" => fabric_label(&lease.job))
                .increment(1);
            tracing::error!(error = %message, attempts, "job failed; moved to the dead-letter queue");
            self.queue.dead_letter(lease, &message).await
        }
    }
}

/// The job's fabric as a metric label; `-` when intake could not tell (the handler decides).
fn fabric_label(job: &super::Job) -> String {
    job.fabric.clone().unwrap_or_else(|| "-".to_owned())
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;
    use crate::api::metrics::capture::assert_lines;
    use crate::queue::embedded::EmbeddedQueue;
    use crate::queue::{Job, NewJob};

    /// Does fabric `lab`'s jobs, fails `east`'s for now and `west`'s for good.
    struct ByFabric;

    #[async_trait]
    impl JobHandler for ByFabric {
        async fn handle(&self, job: &Job) -> Result<(), JobError> {
            match job.fabric.as_deref() {
                Some("east") => Err(JobError::retryable("the cluster is unreachable")),
                Some("west") => Err(JobError::permanent("the event cannot be read")),
                _ => Ok(()),
            }
        }
    }

    fn job(object_id: i64, fabric: &str) -> NewJob {
        NewJob {
            fabric: Some(fabric.into()),
            ..NewJob::device_update(object_id)
        }
    }

    #[tokio::test]
    async fn done_retried_and_dead_lettered_jobs_are_counted_per_fabric() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let exposition = recorder.handle();
        let _recording = metrics::set_default_local_recorder(&recorder);
        let dir = tempfile::tempdir().unwrap();
        let second = Duration::from_secs(1);
        let queue: Arc<dyn JobQueue> =
            Arc::new(EmbeddedQueue::open(dir.path(), second, second, 10).unwrap());
        let jobs = vec![job(1, "lab"), job(2, "east"), job(3, "west")];
        queue.enqueue_batch(jobs).await.unwrap();
        let worker = Worker {
            queue: queue.clone(),
            handler: Arc::new(ByFabric),
            config: WorkerConfig::from(&QueueSettings::default()),
            consumer: "c".into(),
            hard_stop: CancellationToken::new(),
            waiting: Arc::new(Semaphore::new(1)),
        };
        for _ in 0..3 {
            let lease = queue
                .claim("c", Duration::ZERO)
                .await
                .unwrap()
                .expect("a job");
            worker.process(lease).await;
        }
        let expected = [
            r#"hhs_jobs_done_total{fabric="lab"} 1"#,
            r#"hhs_jobs_retried_total{fabric="east"} 1"#,
            r#"hhs_jobs_dead_lettered_total{fabric="west"} 1"#,
            r#"hhs_job_processing_seconds_count{fabric="lab",outcome="done"} 1"#,
            r#"hhs_job_processing_seconds_count{fabric="east",outcome="failed"} 1"#,
        ];
        assert_lines(&exposition.render(), &expected);
    }
}
