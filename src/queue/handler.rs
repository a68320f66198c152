//! The work a job does. Rendering and targets plug in here later; for now
//! [`RecordingHandler`] records what it would do.

use std::collections::VecDeque;
use std::error::Error;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::job::Job;

/// Why a job failed, and whether trying again can help. The handler's own error is kept
/// whole (the queue only stores its text), so callers can walk or downcast its sources.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// A passing problem (a target or NetBox unreachable): retried with backoff.
    #[error(transparent)]
    Retryable(Arc<dyn Error + Send + Sync>),
    /// Trying again cannot help (bad data): straight to the dead-letter queue.
    #[error(transparent)]
    Permanent(Arc<dyn Error + Send + Sync>),
}

impl JobError {
    pub fn retryable(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Retryable(Arc::from(error.into()))
    }

    pub fn permanent(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Permanent(Arc::from(error.into()))
    }

    /// Whether running the job again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn handle(&self, job: &Job) -> Result<(), JobError>;
}

/// Jobs a [`RecordingHandler`] remembers; older ones are forgotten so `serve` does not grow.
const RECORDED: usize = 10_000;

/// Logs and remembers the jobs it is given, and always succeeds.
#[derive(Debug, Default)]
pub struct RecordingHandler {
    seen: Mutex<VecDeque<Job>>,
}

impl RecordingHandler {
    pub fn new() -> Self {
        Self::default()
    }

    /// The jobs handled so far (the last 10 000), in order.
    pub fn jobs(&self) -> Vec<Job> {
        self.seen
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl JobHandler for RecordingHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        tracing::info!(
            key = %job.key,
            event = %job.event,
            fabric = job.fabric.as_deref().unwrap_or("-"),
            "would render and publish the fabric for this change"
        );
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() == RECORDED {
                seen.pop_front();
            }
            seen.push_back(job.clone());
        }
        Ok(())
    }
}
