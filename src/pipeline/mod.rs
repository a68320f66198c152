//! From a queued NetBox change to the fabric's target: the worker's job handler.
//!
//! A job names one NetBox object; the jobs of a fabric waiting at the same time join one round
//! (`rounds`), which reads the fabric's current state from NetBox, renders and validates it,
//! publishes it to the fabric's target (cluster or Git) and writes the outcome back into NetBox.

pub mod build;
mod credits;
mod handler;
mod kept;
pub mod metrics;
mod publisher;
pub mod recent;
mod rounds;
mod timings;

#[cfg(test)]
mod kept_tests;
#[cfg(test)]
mod rounds_tests;
#[cfg(test)]
mod tests;

pub use build::{FabricServices, redis_pool};
pub use handler::{FabricJobHandler, FabricPublishFailed};
pub use publisher::{FabricPublisher, PublishError, PublishOutcome, describe};
pub use recent::{PublishRecord, RecentPublishes};
