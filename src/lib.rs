//! hedgehog-sidecar: runs a Hedgehog open network fabric from stock NetBox.
//!
//! The modules follow the data flow:
//! NetBox webhook → [`intake`] → [`queue`] → worker → [`mapping`] (NetBox → [`model`]) →
//! [`targets`] (cluster or Git); the [`reconcile`] scheduler compares desired and actual state and
//! writes the result back through the [`netbox`] client; [`api`] serves HTTP, and `ui` the web UI.

pub mod allocation;
pub mod api;
pub(crate) mod attribution;
pub mod cli;
pub mod config;
pub mod discovery;
pub mod fabric_env;
pub(crate) mod freeing;
pub mod import;
pub mod intake;
pub mod lease;
pub mod mapping;
pub mod model;
pub mod netbox;
pub mod pipeline;
pub mod profiles;
pub mod queue;
pub mod reconcile;
pub mod state;
pub mod targets;
pub(crate) mod telemetry;
pub(crate) mod ui;
