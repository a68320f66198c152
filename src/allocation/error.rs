//! Why allocation could not run.

use crate::netbox::NetBoxError;

#[derive(Debug, thiserror::Error)]
pub enum AllocationError {
    #[error("cannot allocate in NetBox: {0}")]
    NetBox(#[from] NetBoxError),
    /// NetBox has no pool object the allocation needs (`setup` creates them).
    #[error("NetBox has no {what} for fabric {fabric}: run `hedgehog-sidecar setup`")]
    NoPool { fabric: String, what: String },
    /// NetBox answered with a value outside the pool (the answer was deleted again).
    #[error("NetBox allocated {value} for {object}, which {problem}")]
    Refused {
        object: String,
        value: String,
        problem: String,
    },
}

impl AllocationError {
    /// Whether trying again later may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::NetBox(e) if e.is_retryable())
    }
}
