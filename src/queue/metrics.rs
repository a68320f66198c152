//! Names of the queue's Prometheus metrics (exported by `GET /metrics`).

pub(crate) const JOBS_QUEUED: &str = "hhs_jobs_queued_total";
pub(crate) const JOBS_DONE: &str = "hhs_jobs_done_total";
pub(crate) const JOBS_RETRIED: &str = "hhs_jobs_retried_total";
pub(crate) const JOBS_DEAD_LETTERED: &str = "hhs_jobs_dead_lettered_total";
pub(crate) const JOBS_HANDED_BACK: &str = "hhs_jobs_handed_back_total";
pub const QUEUE_DEPTH: &str = "hhs_queue_depth";
pub(crate) const JOB_PROCESSING_SECONDS: &str = "hhs_job_processing_seconds";
pub(crate) const ENQUEUE_BATCH_SIZE: &str = "hhs_enqueue_batch_size";
