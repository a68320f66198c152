//! Everything the sidecar knows about NetBox: its REST objects, snapshots of a fabric, and the
//! client that reads and writes them (the sidecar's own pynetbox).

pub mod changelog;
pub mod client;
pub mod endpoints;
pub(crate) mod error;
pub mod fabric_record;
pub(crate) mod load;
pub mod metrics;
pub(crate) mod pagination;
pub mod seed;
pub mod setup;
pub(crate) mod snapshot;
pub mod token;
pub mod types;
pub mod writeback;

pub use client::{ClientOptions, NetBoxClient};
pub use error::{ErrorResponse, FieldError, NetBoxError};
pub use load::load_fabric;
pub use pagination::ListQuery;
pub use snapshot::{FabricSnapshot, SnapshotError};
