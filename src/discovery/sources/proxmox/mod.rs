//! The Proxmox VE source: a cluster's nodes as devices, its QEMU VMs and LXC containers as
//! virtual machines in the cluster, with their interfaces, MACs and IPs (the QEMU guest
//! agent's and the containers' interfaces endpoint). Reads the API `/api2/json` with an API
//! token (`Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`).

pub mod api;
mod observe;
mod source;

pub use observe::{Guest, GuestKind, observe_guest, observe_node};
pub use source::ProxmoxSource;
