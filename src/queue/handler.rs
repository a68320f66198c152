//! The work a job does ([`JobHandler`]), and how it fails ([`JobError`]).

use async_trait::async_trait;

use super::job::Job;

/// Why a job failed, and whether trying again can help.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// A passing problem (a target or NetBox unreachable): retried with backoff.
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help (bad data): straight to the dead-letter queue.
    #[error("{0}")]
    Permanent(String),
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
