//! The TrueNAS source: the system as a device with its interfaces, MACs and IPs, its pools and
//! shares as facts. Reads the REST API `/api/v2.0` with an API key (`Authorization: Bearer`).

pub mod api;
mod observe;
mod source;

pub use observe::{Inventory, observe_system};
pub use source::TrueNasSource;
