//! A fabric's NetBox state at one moment: the mapping's whole input.
//!
//! As a file it is one JSON object whose keys hold lists of objects in the shape NetBox's REST
//! API returns them (`{"devices": [...], "interfaces": [...], ...}`), so a snapshot can be saved
//! from a real NetBox and rendered offline.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::types::{
    Cable, CustomFields, Device, Interface, IpAddress, IpRange, MacAddress, NetBoxObject, Prefix,
    RouteTarget, Vlan, VlanGroup, Vrf,
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSnapshot {
    /// Devices of the fabric plus the servers and external devices cabled to them.
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub mac_addresses: Vec<MacAddress>,
    #[serde(default)]
    pub ip_addresses: Vec<IpAddress>,
    #[serde(default)]
    pub cables: Vec<Cable>,
    #[serde(default)]
    pub vlan_groups: Vec<VlanGroup>,
    #[serde(default)]
    pub vlans: Vec<Vlan>,
    #[serde(default)]
    pub vrfs: Vec<Vrf>,
    #[serde(default)]
    pub route_targets: Vec<RouteTarget>,
    #[serde(default)]
    pub prefixes: Vec<Prefix>,
    #[serde(default)]
    pub ip_ranges: Vec<IpRange>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("snapshot file {path} is not a valid NetBox snapshot: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("cannot write snapshot file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl FabricSnapshot {
    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let display = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| SnapshotError::Read {
            path: display.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| SnapshotError::Parse {
            path: display,
            source,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let text = serde_json::to_vec_pretty(self).expect("a snapshot always serialises");
        std::fs::write(path, text).map_err(|source| SnapshotError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Number of NetBox objects held.
    pub fn len(&self) -> usize {
        self.devices.len()
            + self.interfaces.len()
            + self.mac_addresses.len()
            + self.ip_addresses.len()
            + self.cables.len()
            + self.vlan_groups.len()
            + self.vlans.len()
            + self.vrfs.len()
            + self.route_targets.len()
            + self.prefixes.len()
            + self.ip_ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The custom fields of the held object `object_type` `id` (`dcim.device`, 12).
    pub fn custom_fields_mut(&mut self, object_type: &str, id: u64) -> Option<&mut CustomFields> {
        fn find<T: NetBoxObject>(
            list: &mut [T],
            id: u64,
            fields: fn(&mut T) -> &mut CustomFields,
        ) -> Option<&mut CustomFields> {
            list.iter_mut().find(|o| o.id() == id).map(fields)
        }
        match object_type {
            Device::OBJECT_TYPE => find(&mut self.devices, id, |o| &mut o.custom_fields),
            Interface::OBJECT_TYPE => find(&mut self.interfaces, id, |o| &mut o.custom_fields),
            IpAddress::OBJECT_TYPE => find(&mut self.ip_addresses, id, |o| &mut o.custom_fields),
            Cable::OBJECT_TYPE => find(&mut self.cables, id, |o| &mut o.custom_fields),
            VlanGroup::OBJECT_TYPE => find(&mut self.vlan_groups, id, |o| &mut o.custom_fields),
            Vlan::OBJECT_TYPE => find(&mut self.vlans, id, |o| &mut o.custom_fields),
            Vrf::OBJECT_TYPE => find(&mut self.vrfs, id, |o| &mut o.custom_fields),
            RouteTarget::OBJECT_TYPE => find(&mut self.route_targets, id, |o| &mut o.custom_fields),
            Prefix::OBJECT_TYPE => find(&mut self.prefixes, id, |o| &mut o.custom_fields),
            IpRange::OBJECT_TYPE => find(&mut self.ip_ranges, id, |o| &mut o.custom_fields),
            _ => None,
        }
    }
}
