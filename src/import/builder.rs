//! Builds the NetBox objects of an import: synthetic ids, the fabric's custom field and the
//! `hedgehog-imported` tag on every object, and get-or-create lookups by natural key so that the
//! per-kind steps can refer to what an earlier step made.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::config::{FabricConfig, MappingConfig};
use crate::model::ObjectKey;
use crate::netbox::FabricSnapshot;
use crate::netbox::types::{
    Cable, CableTermination, Choice, CustomFields, Device, Interface, IpAddress, MacAddress,
    NestedIp, NestedRef, NestedVlan, RouteTarget, TagRef, Vlan, VlanGroup, Vrf,
};

use super::problems::Problems;

const INTERFACE: &str = "dcim.interface";

/// What a device is to the import (decides its NetBox role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    Switch,
    Server,
    External,
    StaticExternal,
    Gateway,
}

pub struct Builder<'a> {
    pub fabric: &'a FabricConfig,
    pub snapshot: FabricSnapshot,
    pub problems: Problems,
    next_id: u64,
    devices: HashMap<String, (u64, DeviceKind)>,
    interfaces: HashMap<(u64, String), u64>,
    cabled: BTreeSet<u64>,
    vlan_groups: HashMap<String, u64>,
    vrfs: HashMap<(String, bool), u64>,
}

/// A choice field in the shape NetBox returns it.
pub fn choice(value: &str) -> Option<Choice> {
    Some(Choice {
        value: value.to_owned(),
        label: None,
    })
}

/// A nested reference by id only (what the seeder needs).
pub fn nested(id: u64) -> Option<NestedRef> {
    Some(NestedRef {
        id,
        ..NestedRef::default()
    })
}

/// A nested reference to an object of another kind named by slug (role, device type).
pub(crate) fn by_slug(slug: &str) -> Option<NestedRef> {
    Some(NestedRef {
        id: 0,
        name: Some(slug.to_owned()),
        slug: Some(slug.to_owned()),
        display: None,
    })
}

impl<'a> Builder<'a> {
    pub fn new(fabric: &'a FabricConfig) -> Self {
        Self {
            fabric,
            snapshot: FabricSnapshot::default(),
            problems: Problems::default(),
            next_id: 0,
            devices: HashMap::new(),
            interfaces: HashMap::new(),
            cabled: BTreeSet::new(),
            vlan_groups: HashMap::new(),
            vrfs: HashMap::new(),
        }
    }

    pub fn mapping(&self) -> &'a MappingConfig {
        &self.fabric.mapping
    }

    /// A fresh synthetic id (unique across all object types of this import).
    pub(crate) fn next_object_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The imported tag, on every object created.
    pub fn tags(&self) -> Vec<TagRef> {
        let slug = &self.mapping().tag_imported;
        vec![TagRef {
            id: None,
            name: Some(slug.clone()),
            slug: Some(slug.clone()),
        }]
    }

    /// The fabric's membership field plus `extra` (null values left out).
    pub fn fields(&self, extra: &[(&str, Value)]) -> CustomFields {
        let mut fields = CustomFields::default();
        fields.0.insert(
            self.mapping().custom_fields.fabric.clone(),
            json!(self.fabric.name),
        );
        for (name, value) in extra {
            if !value.is_null() {
                fields.0.insert((*name).to_owned(), value.clone());
            }
        }
        fields
    }

    /// Creates a device; a second device of the same name is a problem of `owner`.
    pub fn device(
        &mut self,
        owner: &ObjectKey,
        name: &str,
        kind: DeviceKind,
        device_type: &str,
        description: Option<&str>,
        fields: CustomFields,
    ) -> Option<u64> {
        if let Some((_, existing)) = self.devices.get(name) {
            self.problems.error(
                owner,
                format!("device name {name} is already used by a {existing:?} of this import"),
            );
            return None;
        }
        let id = self.next_object_id();
        let role = self.device_role(kind);
        self.snapshot.devices.push(Device {
            id,
            name: Some(name.to_owned()),
            device_type: by_slug(device_type),
            role: by_slug(&role),
            status: choice("active"),
            description: description.map(str::to_owned),
            tags: self.tags(),
            custom_fields: fields,
            ..Device::default()
        });
        self.devices.insert(name.to_owned(), (id, kind));
        Some(id)
    }

    /// The NetBox device role slug of a kind of device, from the fabric's mapping.
    fn device_role(&self, kind: DeviceKind) -> String {
        let m = self.mapping();
        let first = |roles: &[String], fallback: &str| {
            roles
                .first()
                .cloned()
                .unwrap_or_else(|| fallback.to_owned())
        };
        match kind {
            // Switch roles are set per switch by `switch_role`; this is only the fallback.
            DeviceKind::Switch => "switch".into(),
            DeviceKind::Server => first(&m.server_roles, "server"),
            DeviceKind::External => first(&m.external_roles, "external"),
            DeviceKind::StaticExternal => first(&m.static_external_roles, "static-external"),
            DeviceKind::Gateway => first(&m.gateway_roles, "gateway"),
        }
    }

    pub fn device_mut(&mut self, id: u64) -> Option<&mut Device> {
        self.snapshot.devices.iter_mut().find(|d| d.id == id)
    }

    /// A device of this import by name, with its kind.
    pub(crate) fn find_device(&self, name: &str) -> Option<(u64, DeviceKind)> {
        self.devices.get(name).copied()
    }

    /// The interface `name` of `device`, created (type `kind`) when missing.
    pub fn interface(&mut self, device: u64, name: &str, kind: &str) -> u64 {
        if let Some(id) = self.interfaces.get(&(device, name.to_owned())) {
            return *id;
        }
        let id = self.next_object_id();
        let device_name = self.device_mut(device).and_then(|d| d.name.clone());
        let tags = self.tags();
        let custom_fields = self.fields(&[]);
        self.snapshot.interfaces.push(Interface {
            id,
            device: NestedRef {
                id: device,
                name: device_name,
                ..NestedRef::default()
            },
            name: name.to_owned(),
            r#type: choice(kind),
            enabled: Some(true),
            tags,
            custom_fields,
            ..Interface::default()
        });
        self.interfaces.insert((device, name.to_owned()), id);
        id
    }

    /// A name `<prefix><n>` no interface of `device` has yet (`bond0`, `bond1`, ...).
    pub(crate) fn free_interface_name(&self, device: u64, prefix: &str) -> String {
        (0..)
            .map(|n| format!("{prefix}{n}"))
            .find(|name| !self.interfaces.contains_key(&(device, name.clone())))
            .unwrap_or_else(|| prefix.to_owned())
    }

    /// The device (of this import) an interface belongs to, by name.
    pub(crate) fn device_name_of(&self, interface: u64) -> String {
        self.snapshot
            .interfaces
            .iter()
            .find(|i| i.id == interface)
            .and_then(|i| i.device.name.clone())
            .unwrap_or_default()
    }

    pub fn interface_mut(&mut self, id: u64) -> Option<&mut Interface> {
        self.snapshot.interfaces.iter_mut().find(|i| i.id == id)
    }

    /// The interface a port reference (`<device>/<port>`) names; the device must be one of
    /// `allowed` kinds of this import.
    pub fn port(
        &mut self,
        owner: &ObjectKey,
        reference: &str,
        allowed: &[DeviceKind],
    ) -> Option<u64> {
        let Some((device, port)) = reference
            .split_once('/')
            .filter(|(d, p)| !d.is_empty() && !p.is_empty())
        else {
            self.problems.error(
                owner,
                format!("port {reference:?} is not of the form <device>/<port>"),
            );
            return None;
        };
        match self.devices.get(device) {
            Some((id, kind)) if allowed.contains(kind) => {
                let id = *id;
                Some(self.interface(id, port, "other"))
            }
            Some((_, kind)) => {
                self.problems.error(
                    owner,
                    format!(
                        "port {reference}: {device} is a {kind:?}, expected one of {allowed:?}"
                    ),
                );
                None
            }
            None => {
                self.problems.error(owner, format!("port {reference}: there is no Switch or Server {device} among the imported objects"));
                None
            }
        }
    }

    /// A cable between two interfaces, labelled with `owner`'s name (the connection), which
    /// NetBox shows and rendering ignores. An interface cabled twice is a problem of `owner`.
    pub fn cable(&mut self, owner: &ObjectKey, a: u64, b: u64) -> Option<u64> {
        for end in [a, b] {
            if !self.cabled.insert(end) || a == b {
                let name = self
                    .snapshot
                    .interfaces
                    .iter()
                    .find(|i| i.id == end)
                    .map(|i| format!("{}/{}", i.device.name.as_deref().unwrap_or("?"), i.name))
                    .unwrap_or_default();
                self.problems
                    .error(owner, format!("port {name} is used by more than one link"));
                return None;
            }
        }
        let id = self.next_object_id();
        let end = |object_id| {
            vec![CableTermination {
                object_type: INTERFACE.into(),
                object_id,
            }]
        };
        self.snapshot.cables.push(Cable {
            id,
            a_terminations: end(a),
            b_terminations: end(b),
            status: choice("connected"),
            label: Some(owner.name.chars().take(CABLE_LABEL_MAX).collect()),
            tags: self.tags(),
            custom_fields: self.fields(&[]),
        });
        Some(id)
    }

    pub fn cable_mut(&mut self, id: u64) -> Option<&mut Cable> {
        self.snapshot.cables.iter_mut().find(|c| c.id == id)
    }

    /// An IP address, assigned to `interface` when given.
    pub fn ip(
        &mut self,
        address: &str,
        interface: Option<u64>,
        vrf: Option<u64>,
        role: Option<&str>,
        tags: &[&str],
        fields: CustomFields,
    ) -> u64 {
        let id = self.next_object_id();
        let mut all_tags = self.tags();
        all_tags.extend(tags.iter().map(|t| TagRef {
            id: None,
            name: Some((*t).to_owned()),
            slug: Some((*t).to_owned()),
        }));
        self.snapshot.ip_addresses.push(IpAddress {
            id,
            address: address.to_owned(),
            vrf: vrf.and_then(nested),
            status: choice("active"),
            role: role.and_then(choice),
            assigned_object_type: interface.map(|_| INTERFACE.to_owned()),
            assigned_object_id: interface,
            tags: all_tags,
            custom_fields: fields,
            ..IpAddress::default()
        });
        id
    }

    /// Sets a device's primary IPv4.
    pub(crate) fn set_primary_ip(&mut self, device: u64, ip: u64) {
        if let Some(d) = self.device_mut(device) {
            d.primary_ip4 = Some(NestedIp {
                id: ip,
                address: None,
            });
        }
    }

    /// A MAC address object on an interface, also set as the interface's primary MAC.
    pub fn mac(&mut self, interface: u64, mac: &str) {
        let id = self.next_object_id();
        let mac = mac.to_ascii_uppercase();
        self.snapshot.mac_addresses.push(MacAddress {
            id,
            mac_address: mac.clone(),
            assigned_object_type: Some(INTERFACE.into()),
            assigned_object_id: Some(interface),
        });
        if let Some(i) = self.interface_mut(interface) {
            i.mac_address = Some(mac);
        }
    }

    pub fn vlan_group(
        &mut self,
        namespace: &str,
        ranges: Vec<[u16; 2]>,
        fields: CustomFields,
    ) -> u64 {
        let id = self.next_object_id();
        self.snapshot.vlan_groups.push(VlanGroup {
            id,
            name: namespace.to_owned(),
            slug: slug(namespace),
            vid_ranges: ranges,
            tags: self.tags(),
            custom_fields: fields,
            ..VlanGroup::default()
        });
        self.vlan_groups.insert(namespace.to_owned(), id);
        id
    }

    /// The VLAN group of a VLANNamespace of this import.
    pub(crate) fn find_vlan_group(&self, namespace: &str) -> Option<u64> {
        self.vlan_groups.get(namespace).copied()
    }

    pub fn vlan(&mut self, vid: u16, name: &str, group: Option<u64>) -> NestedVlan {
        let id = self.next_object_id();
        self.snapshot.vlans.push(Vlan {
            id,
            vid,
            name: name.to_owned(),
            group: group.and_then(nested),
            status: choice("active"),
            tags: self.tags(),
            custom_fields: self.fields(&[]),
        });
        NestedVlan {
            id,
            vid: Some(vid),
            name: Some(name.to_owned()),
        }
    }

    /// A VRF (a VPC's, or an External's when `external`), exporting one route target of its own.
    pub fn vrf(&mut self, name: &str, external: bool, fields: CustomFields) -> u64 {
        let id = self.next_object_id();
        let mut tags = self.tags();
        if external {
            let slug = self.mapping().tag_external.clone();
            tags.push(TagRef {
                id: None,
                name: Some(slug.clone()),
                slug: Some(slug),
            });
        }
        let target = self.route_target(name, external);
        self.snapshot.vrfs.push(Vrf {
            id,
            name: name.to_owned(),
            export_targets: vec![target],
            tags,
            custom_fields: fields,
            ..Vrf::default()
        });
        self.vrfs.insert((name.to_owned(), external), id);
        id
    }

    /// The VRF of a VPC (`external` false) or an External of this import.
    pub(crate) fn find_vrf(&self, name: &str, external: bool) -> Option<&Vrf> {
        let id = self.vrfs.get(&(name.to_owned(), external))?;
        self.snapshot.vrfs.iter().find(|v| v.id == *id)
    }

    /// Makes VRF `importer` import the route target VRF `exporter` exports.
    pub(crate) fn import_target(&mut self, importer: u64, exporter: u64) {
        let Some(target) = self
            .snapshot
            .vrfs
            .iter()
            .find(|v| v.id == exporter)
            .and_then(|v| v.export_targets.first().cloned())
        else {
            return;
        };
        if let Some(vrf) = self.snapshot.vrfs.iter_mut().find(|v| v.id == importer)
            && !vrf.import_targets.iter().any(|t| t.id == target.id)
        {
            vrf.import_targets.push(target);
        }
    }

    /// A route target named after the fabric and the VRF: NetBox keeps route target names
    /// unique and at most 21 characters long.
    fn route_target(&mut self, vrf: &str, external: bool) -> NestedRef {
        let id = self.next_object_id();
        let kind = if external { "ext" } else { "vpc" };
        let name = crate::mapping::naming::shorten(
            &format!("{}:{kind}:{vrf}", self.fabric.name),
            ROUTE_TARGET_MAX,
        );
        self.snapshot.route_targets.push(RouteTarget {
            id,
            name: name.clone(),
            tags: self.tags(),
            custom_fields: self.fields(&[]),
        });
        NestedRef {
            id,
            name: Some(name),
            ..NestedRef::default()
        }
    }
}

/// NetBox's limit on cable labels.
const CABLE_LABEL_MAX: usize = 100;

/// NetBox's limit on route target names.
const ROUTE_TARGET_MAX: usize = 21;

/// A NetBox slug for a Hedgehog name (slugs may not hold dots).
pub fn slug(name: &str) -> String {
    name.replace('.', "-")
}
