//! The HTTP server: webhook intake, health, metrics and the `/api/v1` operator API.

mod body;
pub mod discovery;
pub mod fabrics;
mod health;
pub(crate) mod jobs;
pub mod metric_catalog;
pub mod metrics;
pub(crate) mod server;
pub(crate) mod state;
mod webhook;

pub use discovery::DiscoveryApi;
pub use server::{AppOptions, FabricsApi, RunningApp, StartError, run, spawn_app};
