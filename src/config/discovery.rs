//! `[discovery]`: what the discovery run may write, when an object counts as stale, and each
//! source's own table (`[discovery.fabric]`, `[discovery.scanner]`, `[[discovery.inventory]]`,
//! `[[discovery.proxmox]]`, `[[discovery.truenas]]`, `[[discovery.home_assistant]]`).

use std::path::PathBuf;

use serde::Deserialize;

use super::CreateDefaults;
use super::discovery_hosts::HostSourceSettings;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct DiscoverySettings {
    /// Objects a source owned and stopped reporting are tagged stale after this many seconds
    /// (never deleted) with the mapping's `tag_stale`.
    pub stale_after_secs: u64,
    pub fabric: FabricSourceSettings,
    pub scanner: super::ScannerSourceSettings,
    /// Inventory files, one source each (`inventory:<name>`).
    pub inventory: Vec<InventorySourceSettings>,
    /// Proxmox VE clusters: nodes as devices, QEMU VMs and LXC containers as virtual machines.
    pub proxmox: Vec<HostSourceSettings>,
    /// TrueNAS systems: the system as a device, its interfaces, pools and shares.
    pub truenas: Vec<HostSourceSettings>,
    /// Home Assistant instances: the networked devices of the device registry.
    pub home_assistant: Vec<HostSourceSettings>,
}

impl Default for DiscoverySettings {
    fn default() -> Self {
        Self {
            stale_after_secs: 7 * 24 * 3600,
            fabric: FabricSourceSettings::default(),
            scanner: super::ScannerSourceSettings::default(),
            inventory: Vec::new(),
            proxmox: Vec::new(),
            truenas: Vec::new(),
            home_assistant: Vec::new(),
        }
    }
}

/// The fabric source: every configured fabric's Agents.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct FabricSourceSettings {
    /// Run on `serve`'s scheduler every `interval_secs` (`discover` runs it regardless).
    pub enabled: bool,
    pub interval_secs: u64,
    /// Create the cables LLDP proves where NetBox has none on either end; never deletes one.
    pub create_cables: bool,
}

impl Default for FabricSourceSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            interval_secs: 600,
            create_cables: false,
        }
    }
}

/// One inventory source: YAML, JSON and CSV files describing devices and virtual machines.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InventorySourceSettings {
    /// The source is `inventory:<name>`, recorded as the owner of what it writes.
    pub name: String,
    /// Files, or directories whose `*.yaml`, `*.yml`, `*.json` and `*.csv` files are read.
    pub paths: Vec<PathBuf>,
    /// Run on `serve`'s scheduler every `interval_secs` (`discover` runs it regardless).
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_inventory_interval")]
    pub interval_secs: u64,
    /// Create what the files list and NetBox lacks (otherwise it is only listed).
    #[serde(default = "default_true")]
    pub create: bool,
    /// Where created objects go when a file does not say.
    #[serde(default)]
    pub defaults: CreateDefaults,
}

fn default_inventory_interval() -> u64 {
    3600
}

fn default_true() -> bool {
    true
}
