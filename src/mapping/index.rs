//! Lookups over a snapshot, built once per render so no mapping step scans a whole list.

use std::collections::HashMap;

use crate::config::{FabricConfig, MappingConfig};
use crate::netbox::FabricSnapshot;
use crate::netbox::types::{
    Cable, CustomFields, Device, Interface, IpAddress, IpRange, Prefix, Vlan, Vrf, has_tag,
};

const INTERFACE: &str = "dcim.interface";

/// What a device is to the fabric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRole {
    /// A switch of this fabric, with its Hedgehog role.
    Switch(String),
    Server,
    External,
    StaticExternal,
    Gateway,
    Other,
}

/// One cabled pair of interfaces.
#[derive(Debug, Clone, Copy)]
pub struct CableLink<'a> {
    pub cable: &'a Cable,
    pub a: &'a Interface,
    pub b: &'a Interface,
}

pub struct Index<'a> {
    pub fabric: &'a FabricConfig,
    pub snapshot: &'a FabricSnapshot,
    pub devices: HashMap<u64, &'a Device>,
    pub roles: HashMap<u64, DeviceRole>,
    pub interfaces: HashMap<u64, &'a Interface>,
    pub interfaces_by_device: HashMap<u64, Vec<&'a Interface>>,
    /// Sub-interfaces by parent interface id.
    pub children: HashMap<u64, Vec<&'a Interface>>,
    pub ips_by_interface: HashMap<u64, Vec<&'a IpAddress>>,
    pub ips_by_id: HashMap<u64, &'a IpAddress>,
    pub macs_by_interface: HashMap<u64, Vec<&'a str>>,
    pub vlans: HashMap<u64, &'a Vlan>,
    pub vrfs: HashMap<u64, &'a Vrf>,
    pub prefixes_by_vrf: HashMap<u64, Vec<&'a Prefix>>,
    pub ranges_by_vrf: HashMap<u64, Vec<&'a IpRange>>,
    pub ips_by_vrf: HashMap<u64, Vec<&'a IpAddress>>,
    /// Cabled interface pairs, in cable id order.
    pub links: Vec<CableLink<'a>>,
}

impl<'a> Index<'a> {
    pub fn build(fabric: &'a FabricConfig, snapshot: &'a FabricSnapshot) -> Self {
        let mut index = Index {
            fabric,
            snapshot,
            devices: snapshot.devices.iter().map(|d| (d.id, d)).collect(),
            roles: HashMap::with_capacity(snapshot.devices.len()),
            interfaces: snapshot.interfaces.iter().map(|i| (i.id, i)).collect(),
            interfaces_by_device: HashMap::new(),
            children: HashMap::new(),
            ips_by_interface: HashMap::new(),
            ips_by_id: snapshot.ip_addresses.iter().map(|a| (a.id, a)).collect(),
            macs_by_interface: HashMap::new(),
            vlans: snapshot.vlans.iter().map(|v| (v.id, v)).collect(),
            vrfs: snapshot.vrfs.iter().map(|v| (v.id, v)).collect(),
            prefixes_by_vrf: HashMap::new(),
            ranges_by_vrf: HashMap::new(),
            ips_by_vrf: HashMap::new(),
            links: Vec::new(),
        };
        for device in &snapshot.devices {
            let role = index.classify(device);
            index.roles.insert(device.id, role);
        }
        index.index_interfaces_and_addresses();
        index.index_by_vrf();
        index.link_cables();
        index
    }

    /// Interfaces by device and parent, MAC and IP addresses by interface, IPs by VRF.
    fn index_interfaces_and_addresses(&mut self) {
        let snapshot = self.snapshot;
        for interface in &snapshot.interfaces {
            self.interfaces_by_device
                .entry(interface.device.id)
                .or_default()
                .push(interface);
            if let Some(parent) = &interface.parent {
                self.children.entry(parent.id).or_default().push(interface);
            }
            if let Some(mac) = interface.mac_address.as_deref() {
                self.macs_by_interface
                    .entry(interface.id)
                    .or_default()
                    .push(mac);
            }
        }
        for mac in &snapshot.mac_addresses {
            if let (Some(INTERFACE), Some(id)) =
                (mac.assigned_object_type.as_deref(), mac.assigned_object_id)
            {
                self.macs_by_interface
                    .entry(id)
                    .or_default()
                    .push(&mac.mac_address);
            }
        }
        for ip in &snapshot.ip_addresses {
            if let (Some(INTERFACE), Some(id)) =
                (ip.assigned_object_type.as_deref(), ip.assigned_object_id)
            {
                self.ips_by_interface.entry(id).or_default().push(ip);
            }
            if let Some(vrf) = &ip.vrf {
                self.ips_by_vrf.entry(vrf.id).or_default().push(ip);
            }
        }
    }

    /// Prefixes and IP ranges by VRF.
    fn index_by_vrf(&mut self) {
        let snapshot = self.snapshot;
        for prefix in &snapshot.prefixes {
            if let Some(vrf) = &prefix.vrf {
                self.prefixes_by_vrf.entry(vrf.id).or_default().push(prefix);
            }
        }
        for range in &snapshot.ip_ranges {
            if let Some(vrf) = &range.vrf {
                self.ranges_by_vrf.entry(vrf.id).or_default().push(range);
            }
        }
    }

    /// Cabled interface pairs, in cable id order.
    fn link_cables(&mut self) {
        let snapshot = self.snapshot;
        let mut cables: Vec<&Cable> = snapshot.cables.iter().collect();
        cables.sort_by_key(|c| c.id);
        for cable in cables {
            let ends = |terms: &[crate::netbox::types::CableTermination]| -> Vec<&'a Interface> {
                terms
                    .iter()
                    .filter(|t| t.object_type == INTERFACE)
                    .filter_map(|t| self.interfaces.get(&t.object_id).copied())
                    .collect()
            };
            let (a_ends, b_ends) = (ends(&cable.a_terminations), ends(&cable.b_terminations));
            for (a, b) in a_ends.into_iter().zip(b_ends) {
                self.links.push(CableLink { cable, a, b });
            }
        }
    }

    pub fn mapping(&self) -> &'a MappingConfig {
        &self.fabric.mapping
    }

    /// Is this object a member of the fabric (custom field `hedgehog_fabric`)?
    pub(crate) fn in_fabric(&self, custom_fields: &CustomFields) -> bool {
        custom_fields
            .string(&self.mapping().custom_fields.fabric)
            .is_some_and(|f| f == self.fabric.name)
    }

    fn classify(&self, device: &Device) -> DeviceRole {
        let mapping = self.mapping();
        let slug = device
            .role
            .as_ref()
            .and_then(|r| r.slug.clone().or_else(|| r.name.clone()))
            .unwrap_or_default();
        if self.in_fabric(&device.custom_fields) {
            let role = device
                .custom_fields
                .string(&mapping.custom_fields.role)
                .or_else(|| mapping.switch_roles.get(&slug).cloned());
            if let Some(role) = role {
                return DeviceRole::Switch(role);
            }
        }
        let has = |roles: &[String]| roles.iter().any(|r| r == &slug);
        if has(&mapping.server_roles) {
            DeviceRole::Server
        } else if has(&mapping.external_roles) {
            DeviceRole::External
        } else if has(&mapping.static_external_roles) {
            DeviceRole::StaticExternal
        } else if has(&mapping.gateway_roles) {
            DeviceRole::Gateway
        } else {
            DeviceRole::Other
        }
    }

    pub fn role(&self, device_id: u64) -> &DeviceRole {
        self.roles.get(&device_id).unwrap_or(&DeviceRole::Other)
    }

    pub(crate) fn is_switch(&self, device_id: u64) -> bool {
        matches!(self.role(device_id), DeviceRole::Switch(_))
    }

    /// The IP addresses on an interface, in id order.
    pub(crate) fn interface_ips(&self, interface_id: u64) -> &[&'a IpAddress] {
        self.ips_by_interface
            .get(&interface_id)
            .map_or(&[], Vec::as_slice)
    }

    /// Every IP address on any interface of a device.
    pub(crate) fn device_ips(&self, device_id: u64) -> Vec<&'a IpAddress> {
        let mut out: Vec<&IpAddress> = self
            .interfaces_by_device
            .get(&device_id)
            .into_iter()
            .flatten()
            .flat_map(|i| self.interface_ips(i.id).iter().copied())
            .collect();
        out.sort_by_key(|a| a.id);
        out
    }

    /// A tag check using the fabric's tag names.
    pub fn tagged(tags: &[crate::netbox::types::TagRef], slug: &str) -> bool {
        has_tag(tags, slug)
    }

    /// The VLAN id of a nested VLAN reference, looked up when the payload omitted it.
    pub fn vid(&self, vlan: &crate::netbox::types::NestedVlan) -> Option<u16> {
        vlan.vid.or_else(|| self.vlans.get(&vlan.id).map(|v| v.vid))
    }
}
