//! The periodic reconcile: desired (NetBox) against actual (cluster or Git), drift, self-heal and
//! write-back.

pub(crate) mod after_publish;
pub mod compare;
pub(crate) mod fabric_status;
pub(crate) mod health;
pub(crate) mod isolation;
pub mod metrics;
pub mod object_view;
mod pass_log;

pub use compare::{ObjectReport, ObjectState, compare};
pub use health::{Health, SwitchHealth, SyncStatus};
pub use object_view::{ObjectReadError, ObjectView};
pub mod sources;
pub mod writeback;

pub use sources::{SourceMap, SourceRef};
pub(crate) mod engine;
#[cfg(test)]
mod engine_tests;
pub mod netbox_io;
pub mod scheduler;
#[cfg(test)]
pub(crate) mod testing;

pub use engine::{
    Basis, Desired, DesiredSource, FabricReport, Problem, ReconcileOptions, Reconciler,
    SourceError, StatusWriter, WriteBackError, WriteFailure,
};
