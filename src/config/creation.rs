//! What a discovery source needs to create NetBox objects for what it observes and NetBox
//! lacks: where a new device or virtual machine goes. An observation's own placement wins over
//! these; missing sites, roles, manufacturers, device types, platforms, cluster types and
//! clusters are created (named after their slug) when a run applies.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct CreateDefaults {
    /// Site slug of created devices (and of clusters created for virtual machines).
    pub site: String,
    /// Device role slug of created devices and virtual machines.
    pub role: String,
    /// Manufacturer slug of the device type below, when that is created.
    pub manufacturer: String,
    /// Device type slug of created devices.
    pub device_type: String,
    /// Platform slug, when set.
    pub platform: Option<String>,
    /// Status value of created objects.
    pub status: String,
    /// Cluster type slug of clusters created for virtual machines that name none.
    pub cluster_type: String,
}

impl Default for CreateDefaults {
    fn default() -> Self {
        Self {
            site: "discovered".into(),
            role: "discovered".into(),
            manufacturer: "generic".into(),
            device_type: "discovered-host".into(),
            platform: None,
            status: "active".into(),
            cluster_type: "discovered".into(),
        }
    }
}
