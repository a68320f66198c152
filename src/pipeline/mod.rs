//! From a queued NetBox change to the fabric's target: the worker's job handler.
//!
//! A job names one NetBox object; the handler re-reads its fabric's current state from NetBox
//! (never the possibly stale webhook body), renders and validates it, publishes it to the
//! fabric's target (cluster or Git) and writes the outcome back into NetBox.

pub mod build;
mod credits;
mod handler;
pub mod metrics;
mod publisher;
pub mod recent;

#[cfg(test)]
mod tests;

pub use build::FabricServices;
pub use handler::{FabricJobHandler, FabricPublishFailed};
pub use publisher::{FabricPublisher, PublishError, PublishOutcome, describe};
pub use recent::{PublishRecord, RecentPublishes};
