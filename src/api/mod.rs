//! The HTTP server: webhook intake, health, metrics and the `/api/v1` operator API.

mod body;
pub mod fabrics;
mod health;
pub(crate) mod jobs;
pub mod metrics;
pub(crate) mod server;
pub(crate) mod state;
mod webhook;

pub use server::{AppOptions, FabricsApi, RunningApp, StartError, run, spawn_app};
