//! A job handler for tests of the queue: it remembers every job it is given.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use hedgehog_sidecar::queue::{Job, JobError, JobHandler};

/// Jobs a [`RecordingHandler`] remembers; older ones are forgotten.
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
        // Inside the job's span, like a real handler's lines.
        tracing::info!(key = %job.key, event = %job.event, "job recorded");
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() == RECORDED {
                seen.pop_front();
            }
            seen.push_back(job.clone());
        }
        Ok(())
    }
}
