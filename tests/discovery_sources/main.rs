//! The host discovery sources (Proxmox VE, TrueNAS, Home Assistant) against recorded
//! responses in the shape each public API documents (`tests/fixtures/discovery/<source>`),
//! served by a local server: what becomes devices, virtual machines, interfaces, MACs and IPs,
//! which credential is sent, how lists are paged, and that a failed read fails the source
//! instead of yielding an empty list.

#[cfg(feature = "home-assistant")]
mod home_assistant;
#[cfg(all(feature = "proxmox", feature = "inventory-source"))]
mod netbox_e2e;
#[cfg(feature = "proxmox")]
mod proxmox;
mod support;
#[cfg(feature = "truenas")]
mod truenas;
