//! Group commit: concurrent enqueues are gathered into one `enqueue_batch` call (one Lua script
//! round trip for Redis, one fsync'd transaction for redb). Under load, requests that arrive
//! while a batch is being stored form the next batch, so throughput grows with concurrency
//! while each caller still waits for its own job to be durable.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::backend::{CorruptError, EnqueueOutcome, JobQueue, QueueError};
use super::job::NewJob;

type Reply = oneshot::Sender<Result<EnqueueOutcome, QueueError>>;

/// Hands jobs to the batching tasks. Cheap to clone; the tasks end when every clone is dropped.
#[derive(Clone)]
pub struct Enqueuer {
    tx: mpsc::Sender<(NewJob, Reply)>,
}

impl Enqueuer {
    /// Starts `flushers` tasks (one stores a batch while another gathers the next), each
    /// storing at most `max_batch` jobs at a time.
    pub fn start(
        queue: Arc<dyn JobQueue>,
        max_batch: usize,
        flushers: usize,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel(max_batch.max(1) * 16);
        let rx = Arc::new(Mutex::new(rx));
        let tasks = (0..flushers.max(1))
            .map(|_| tokio::spawn(flush_loop(queue.clone(), rx.clone(), max_batch.max(1))))
            .collect();
        (Self { tx }, tasks)
    }

    /// Stores one job; returns once it is durable (or storing failed).
    pub async fn enqueue(&self, job: NewJob) -> Result<EnqueueOutcome, QueueError> {
        let (reply, outcome) = oneshot::channel();
        self.tx
            .send((job, reply))
            .await
            .map_err(|_| QueueError::Closed)?;
        outcome.await.map_err(|_| QueueError::Closed)?
    }
}

async fn flush_loop(
    queue: Arc<dyn JobQueue>,
    rx: Arc<Mutex<mpsc::Receiver<(NewJob, Reply)>>>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, max_batch).await == 0 {
                return;
            }
        }
        let (jobs, replies): (Vec<NewJob>, Vec<Reply>) = batch.drain(..).unzip();
        let count = jobs.len();
        metrics::histogram!(super::metrics::ENQUEUE_BATCH_SIZE).record(count as f64);
        match queue.enqueue_batch(jobs).await {
            Ok(outcomes) if outcomes.len() == count => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(match outcome {
                        EnqueueOutcome::Full(limit) => Err(QueueError::Full(limit)),
                        stored => Ok(stored),
                    });
                }
            }
            Ok(outcomes) => {
                let problem = CorruptError::OutcomeCount {
                    outcomes: outcomes.len(),
                    jobs: count,
                };
                for reply in replies {
                    let _ = reply.send(Err(problem.clone().into()));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
