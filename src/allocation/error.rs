//! Why allocation could not run.

use std::time::Duration;

use crate::lease::LeaseError;
use crate::netbox::NetBoxError;

#[derive(Debug, thiserror::Error)]
pub enum AllocationError {
    #[error("cannot allocate in NetBox: {0}")]
    NetBox(#[from] NetBoxError),
    /// NetBox has no pool object the allocation needs (`setup` creates them).
    #[error("NetBox has no {what} for fabric {fabric}: run `hedgehog-sidecar setup`")]
    NoPool { fabric: String, what: String },
    /// The allocator lease cannot be asked for (Redis is unavailable).
    #[error("cannot take the allocator lease: {0}")]
    Lease(#[from] LeaseError),
    /// Another allocator of the fabric held the lease the whole time.
    #[error("fabric {fabric}'s allocator is busy: waited {waited:?} for another allocation")]
    Busy { fabric: String, waited: Duration },
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
        match self {
            Self::NetBox(e) => e.is_retryable(),
            Self::Lease(_) | Self::Busy { .. } => true,
            Self::NoPool { .. } | Self::Refused { .. } => false,
        }
    }
}
