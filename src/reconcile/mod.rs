//! The periodic reconcile: desired (NetBox) against actual (cluster or Git), drift, self-heal and
//! write-back.

pub mod after_publish;
pub mod compare;
pub mod fabric_status;
pub mod health;
pub mod isolation;
pub mod metrics;

pub use compare::{ObjectReport, ObjectState, compare};
pub use health::{Health, SwitchHealth, SyncStatus, fabric_health, switch_health, sync_status};
pub mod sources;
pub mod writeback;

pub use sources::{SourceMap, SourceRef};
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod netbox_io;
pub mod scheduler;
#[cfg(test)]
pub(crate) mod testing;

pub use engine::{
    Desired, DesiredSource, FabricReport, Problem, ReconcileOptions, Reconciler, SourceError,
    StatusWriter, WriteBackError,
};
