//! The work a job does ([`JobHandler`]), and how it fails ([`JobError`]).

use std::error::Error;
use std::sync::Arc;

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

/// Acknowledges each job once it is logged, and keeps nothing: what `serve` runs when no fabric
/// is configured, so a backlog of webhooks leaves no memory behind once it has drained.
#[derive(Debug, Default)]
pub struct LoggingHandler;

#[async_trait]
impl JobHandler for LoggingHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        tracing::info!(
            key = %job.key,
            event = %job.event,
            fabric = job.fabric.as_deref().unwrap_or("-"),
            "no fabric is configured: the change is acknowledged and dropped"
        );
        Ok(())
    }
}
