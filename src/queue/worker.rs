//! Workers: claim a job, run the handler while heartbeating, then ack, retry with backoff, or
//! dead-letter it. On shutdown a worker stops claiming, lets its job finish within the grace
//! period, and otherwise hands it back to the queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::backend::{JobQueue, Lease};
use super::backoff::retry_delay;
use super::handler::{JobError, JobHandler};
use super::metrics as m;
use crate::config::QueueSettings;

/// How long one claim call waits for a job before checking for shutdown again.
const CLAIM_WAIT: Duration = Duration::from_millis(500);

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
                };
                tokio::spawn(worker.run(shutdown.clone()))
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
    async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.queue.claim(&self.consumer, CLAIM_WAIT).await {
                Ok(Some(lease)) => self.process(lease).await,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(consumer = %self.consumer, %error, "cannot claim a job");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
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
