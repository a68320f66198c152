//! The contract both queue back-ends (Redis Streams, embedded redb) fulfil. One shared
//! conformance suite (tests/intake/queue_conformance.rs) runs against both.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::job::{Job, JobState, NewJob};

#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    #[error("queue back-end unavailable: {0}")]
    Unavailable(String),
    #[error("queue data is corrupt: {0}")]
    Corrupt(String),
    #[error("the queue is shutting down")]
    Closed,
    /// The queue holds its configured maximum of waiting jobs; the event was not stored.
    #[error("the queue is full ({0} jobs waiting); try again later")]
    Full(usize),
    /// The job was taken over by another worker (this one was too slow) or removed.
    #[error("job {0} is no longer held by this worker")]
    LeaseLost(String),
}

/// What happened to an enqueued event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "job_id", rename_all = "lowercase")]
pub enum EnqueueOutcome {
    /// Stored as a new job.
    Queued(String),
    /// Merged into this job, which was still waiting for a worker.
    Coalesced(String),
    /// An identical delivery was already accepted (as this job).
    Duplicate(String),
    /// Not stored: the queue already holds this many waiting jobs (`queue.max_queued`).
    Full(usize),
}

impl EnqueueOutcome {
    pub fn job_id(&self) -> &str {
        match self {
            Self::Queued(id) | Self::Coalesced(id) | Self::Duplicate(id) => id,
            Self::Full(_) => "",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Queued(_) => "queued",
            Self::Coalesced(_) => "coalesced",
            Self::Duplicate(_) => "duplicate",
            Self::Full(_) => "full",
        }
    }
}

/// A job held by a worker. Ack, retry, dead-letter or release it; if the worker dies instead,
/// another worker takes the job over once the visibility timeout has passed.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job: Job,
    pub consumer: String,
    /// Back-end specific handle (the stream entry id for Redis, a claim id for redb).
    pub token: String,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub queued: u64,
    pub running: u64,
    pub retrying: u64,
    pub dead: u64,
}

#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Stores jobs durably, all in one round trip / transaction (group commit). One outcome
    /// per job, in order. Nothing is acknowledged before it is stored.
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>, QueueError>;

    /// Takes the next runnable job for `consumer`, waiting up to `wait` for one. A job is
    /// runnable when no other job for the same key is running or waiting to retry.
    async fn claim(&self, consumer: &str, wait: Duration) -> Result<Option<Lease>, QueueError>;

    /// Tells the queue the worker is still alive, so the job is not taken over.
    async fn heartbeat(&self, lease: &Lease) -> Result<(), QueueError>;

    /// The work succeeded: forget the job.
    async fn ack(&self, lease: &Lease) -> Result<(), QueueError>;

    /// The work failed: run the job again after `delay`, still ahead of later jobs for its key.
    async fn retry_later(
        &self,
        lease: &Lease,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError>;

    /// Give up on the job: keep it with `error` in the dead-letter queue.
    async fn dead_letter(&self, lease: &Lease, error: &str) -> Result<(), QueueError>;

    /// Hand the job back unfinished (shutdown): it is runnable again at once, and this attempt
    /// does not count.
    async fn release(&self, lease: &Lease) -> Result<(), QueueError>;

    /// Jobs in `state`, oldest first, at most `limit`.
    async fn list(&self, state: JobState, limit: usize) -> Result<Vec<Job>, QueueError>;

    /// One job and its state.
    async fn show(&self, id: &str) -> Result<Option<(JobState, Job)>, QueueError>;

    /// Moves a dead job back to the queue with its attempts reset. False if it is not dead.
    async fn retry_dead(&self, id: &str) -> Result<bool, QueueError>;

    /// Deletes a dead job. False if it is not dead.
    async fn drop_dead(&self, id: &str) -> Result<bool, QueueError>;

    async fn stats(&self) -> Result<QueueStats, QueueError>;

    /// Succeeds when the back-end can store jobs (readiness).
    async fn ping(&self) -> Result<(), QueueError>;
}
