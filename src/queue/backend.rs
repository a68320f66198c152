//! The contract both queue back-ends (Redis Streams, embedded redb) fulfil. One shared
//! conformance suite (tests/intake/queue_conformance.rs) runs against both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::job::{Job, JobState, NewJob};

#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    #[error("queue back-end unavailable: {0}")]
    Unavailable(#[source] StoreError),
    #[error("queue data is corrupt: {0}")]
    Corrupt(#[source] CorruptError),
    #[error("the queue is shutting down")]
    Closed,
    /// The queue holds its configured maximum of waiting jobs; the event was not stored.
    #[error("the queue is full ({0} jobs waiting); try again later")]
    Full(usize),
    /// The job was taken over by another worker (this one was too slow) or removed.
    #[error("job {job_id} is no longer held by this worker")]
    LeaseLost { job_id: String },
}

/// Why a queue back-end could not be used. Sources are shared so a group commit can hand one
/// error to every caller of its batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] Arc<redis::RedisError>),
    #[error("redis: {0}")]
    RedisPool(#[from] Arc<deadpool_redis::PoolError>),
    /// The URL may hold a password: the error describes it, never quotes it.
    #[error("redis: invalid redis_url ({0})")]
    RedisUrl(#[source] Arc<dyn std::error::Error + Send + Sync>),
    #[error("embedded queue: {0}")]
    Embedded(#[from] Arc<redb::Error>),
    #[error("embedded queue: cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Arc<redb::DatabaseError>,
    },
    #[error("embedded queue: cannot {action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A thread panicked while holding the queue's `what` lock.
    #[error("embedded queue: {0} lock poisoned")]
    Poisoned(&'static str),
    #[error("embedded queue: task failed: {0}")]
    Task(#[from] Arc<tokio::task::JoinError>),
}

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        Self::Redis(Arc::new(error))
    }
}

impl From<deadpool_redis::PoolError> for StoreError {
    fn from(error: deadpool_redis::PoolError) -> Self {
        Self::RedisPool(Arc::new(error))
    }
}

impl From<StoreError> for QueueError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error)
    }
}

/// Stored data the queue cannot read back, or a back-end answer it does not expect.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CorruptError {
    #[error("job {id}: {source}")]
    Job {
        id: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
    #[error("body of job {id}: {source}")]
    Body {
        id: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
    #[error("{0}")]
    Encode(#[source] Arc<serde_json::Error>),
    /// The enqueue script answered with an outcome it does not define.
    #[error("enqueue replied `{0}`")]
    Reply(String),
    #[error("{outcomes} outcomes for {jobs} jobs")]
    OutcomeCount { outcomes: usize, jobs: usize },
}

impl From<CorruptError> for QueueError {
    fn from(error: CorruptError) -> Self {
        Self::Corrupt(error)
    }
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
