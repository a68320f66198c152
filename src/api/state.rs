//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use tokio_util::sync::CancellationToken;

use crate::intake::{OwnWrites, SignatureVerifier};
use crate::queue::{Enqueuer, JobQueue};
use crate::state::SharedState;

pub(crate) struct AppState {
    pub verifier: SignatureVerifier,
    /// Events intake recognises as the sidecar's own write-backs.
    pub own_writes: OwnWrites,
    pub max_body_bytes: usize,
    /// Bytes of not yet verified bodies that may still be buffered (one permit per byte).
    pub unverified_budget: Arc<Semaphore>,
    pub body_timeout: Duration,
    pub enqueuer: Enqueuer,
    /// Where queued changes are recorded for attribution (none: not recorded).
    pub shared: Option<Arc<dyn SharedState>>,
    pub queue: Arc<dyn JobQueue>,
    /// Cancelled when shutdown starts: readiness fails so load balancers stop sending.
    pub stopping: CancellationToken,
    /// Closes its channel when the last copy of the state is dropped, which the service waits
    /// for at shutdown (the HTTP worker threads drop theirs a moment after the server stops),
    /// so the queue the state holds is closed once the service has stopped.
    pub _in_use: tokio::sync::mpsc::Sender<()>,
}
