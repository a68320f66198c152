//! The durable job queue (Redis Streams or embedded on disk) and its workers.

pub(crate) mod backend;
pub(crate) mod backoff;
pub(crate) mod batcher;
pub(crate) mod embedded;
pub mod handler;
pub mod job;
pub mod metrics;
pub(crate) mod open;
pub(crate) mod redis;
pub mod worker;

pub use backend::{
    CorruptError, EnqueueOutcome, JobQueue, Lease, QueueError, QueueStats, StoreError,
};
pub use batcher::Enqueuer;
pub use handler::{JobError, JobHandler, LoggingHandler};
pub use job::{Job, JobState, JobSummary, NewJob};
pub(crate) use open::open_queue;
pub use worker::{WorkerPool, waiting_for_others};
