//! The discovery sources, one folder each with files named by role: `source.rs` (the
//! [`Source`](super::Source) implementation and where it reads from), `observe.rs` (what it
//! reads, turned into observations) and, for the HTTP sources, `api.rs` (the answers' types).

pub mod configured;
pub mod fabric;
#[cfg(feature = "home-assistant")]
pub mod home_assistant;
pub mod host;
pub mod host_source;
pub mod http;
#[cfg(feature = "inventory-source")]
pub mod inventory;
#[cfg(feature = "proxmox")]
pub mod proxmox;
#[cfg(feature = "scanner-source")]
pub mod scanner;
#[cfg(feature = "truenas")]
pub mod truenas;
