//! A generated spine-leaf fabric as a [`FabricSnapshot`] (snapshot-local ids): the input of the
//! end-to-end tests and of the NetBox loading benchmark. Seed it with
//! `hedgehog_sidecar::netbox::seed::create_snapshot_objects`.
//!
//! NetBox enforces unique addresses in the global table, so every fabric gets its own /16
//! (`10.<octet>.0.0/16`) and its own route-target namespace (`rt_base`). The fabric validates
//! at cluster level with [`SyntheticFabric::fabric_config`], whose fabric settings describe that
//! addressing (management `10.<octet>.0.0/24`, protocol IPs `.1.0/24`, VTEP IPs `.2.0/24`, link
//! /31s `.16.0/20`).

use serde_json::{Value, json};

use hedgehog_sidecar::config::{ClusterOptions, FabricConfig, FabricSettings, MappingConfig};
use hedgehog_sidecar::netbox::FabricSnapshot;
use hedgehog_sidecar::netbox::types::{
    Cable, CableTermination, Choice, CustomFields, Device, Interface, IpAddress, IpRange,
    MacAddress, NestedIp, NestedRef, NestedVlan, Prefix, RouteTarget, TagRef, Vlan, VlanGroup, Vrf,
};

#[derive(Debug, Clone)]
pub struct SyntheticFabric {
    pub name: String,
    pub spines: usize,
    pub leaves: usize,
    /// Servers per leaf; every other server is dual-homed through a LAG.
    pub servers_per_leaf: usize,
    pub vpcs: usize,
    /// Second octet of the fabric's `10.x.0.0/16`.
    pub octet: u8,
    /// Route targets are named `<rt_base>:<n>` (route target names are unique in NetBox).
    pub rt_base: u32,
}

impl SyntheticFabric {
    /// A fabric of about `servers_per_leaf * leaves * 8` NetBox objects.
    pub fn new(name: &str, octet: u8, rt_base: u32) -> Self {
        Self {
            name: name.into(),
            spines: 2,
            leaves: 2,
            servers_per_leaf: 2,
            vpcs: 2,
            octet,
            rt_base,
        }
    }

    /// A fabric configuration for this fabric: the default mapping, switch profile
    /// [`SWITCH_PROFILE`] for the generated device type, and fabric settings that match the
    /// generated addressing.
    pub fn fabric_config(&self) -> FabricConfig {
        let mut mapping = MappingConfig::default();
        mapping
            .device_type_profiles
            .insert(SWITCH_TYPE.into(), SWITCH_PROFILE.into());
        mapping.settings = self.settings();
        FabricConfig {
            name: self.name.clone(),
            mode: Default::default(),
            validation: Default::default(),
            kubeconfig: None,
            fabric_config_file: None,
            cluster: ClusterOptions::default(),
            git: None,
            mapping,
            allocate: false,
            publish_debounce_ms: hedgehog_sidecar::config::DEFAULT_PUBLISH_DEBOUNCE_MS,
            keep_snapshot: true,
        }
    }

    /// The fabric-wide settings of the generated addressing (hhfab's defaults otherwise).
    fn settings(&self) -> FabricSettings {
        addressing(self.octet)
    }

    /// The VLAN group (VLANNamespace) of the fabric's VPCs and switches.
    fn vlan_namespace(&self) -> String {
        format!("{}-vlans", self.name)
    }

    pub fn generate(&self, mapping: &MappingConfig) -> FabricSnapshot {
        let mut g = Generator {
            spec: self,
            mapping,
            snapshot: FabricSnapshot::default(),
            next_id: 0,
            used_ports: Default::default(),
        };
        g.build();
        g.snapshot
    }
}

/// Fabric settings whose switch addressing lies in `10.<octet>.0.0/17`: management
/// `10.<octet>.0.0/24` (switches below `.254`, the control VIP), protocol IPs `.1.0/24`, VTEP IPs
/// `.2.0/24`, link /31s `.16.0/20`, these four the reserved subnets; hhfab's defaults otherwise.
/// `10.<octet>.128.0/17` stays free for the fabric's IPv4Namespace.
pub fn addressing(octet: u8) -> FabricSettings {
    let net = |third: u8, len: u8| {
        ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, octet, third, 0), len).unwrap_or_default()
    };
    let host = |last: u8| std::net::Ipv4Addr::new(10, octet, 0, last);
    let (management, protocol, vtep, links) = (net(0, 24), net(1, 24), net(2, 24), net(16, 20));
    FabricSettings {
        management_subnet: management,
        control_vip: host(254),
        management_dhcp_start: host(255),
        protocol_subnet: protocol,
        vtep_subnet: vtep,
        fabric_subnet: links,
        reserved_subnets: vec![management, protocol, vtep, links],
        ..FabricSettings::default()
    }
}

/// Device type slug of the generated switches.
const SWITCH_TYPE: &str = "hh-switch";
/// The switch profile of the generated switches: 31 QSFP28 ports that break out into four
/// 25G ports each (`E1/1/1` … `E1/31/4`), so a switch has up to 124 ports for servers and links.
pub const SWITCH_PROFILE: &str = "dell-s5232f-on";
/// The breakout of every port the generator uses, and the speed of its sub-ports.
const BREAKOUT: &str = "4x25G";
const LANES: usize = 4;
const LANE_SPEED_KBPS: u64 = 25_000_000;
/// Ports of [`SWITCH_PROFILE`] that break out.
const BREAKOUT_PORTS: usize = 31;

struct Generator<'a> {
    spec: &'a SyntheticFabric,
    mapping: &'a MappingConfig,
    snapshot: FabricSnapshot,
    next_id: u64,
    /// Sub-ports used so far, per switch.
    used_ports: std::collections::BTreeMap<u64, usize>,
}

fn reference(id: u64, name: &str) -> NestedRef {
    NestedRef {
        id,
        name: Some(name.into()),
        ..NestedRef::default()
    }
}

fn slug_ref(slug: &str) -> NestedRef {
    NestedRef {
        id: 0,
        name: Some(slug.into()),
        slug: Some(slug.into()),
        display: None,
    }
}

fn choice(value: &str) -> Option<Choice> {
    Some(Choice {
        value: value.into(),
        label: None,
    })
}

fn tag(slug: &str) -> Vec<TagRef> {
    vec![TagRef {
        id: None,
        name: Some(slug.into()),
        slug: Some(slug.into()),
    }]
}

impl Generator<'_> {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn fields(&self, pairs: &[(&String, Value)]) -> CustomFields {
        CustomFields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).clone(), v.clone()))
                .collect(),
        )
    }

    fn member(&self) -> CustomFields {
        self.fields(&[(&self.mapping.custom_fields.fabric, json!(self.spec.name))])
    }

    fn build(&mut self) {
        let vpcs = self.vpcs();
        let (spines, leaves) = self.switches();
        self.links(&spines, &leaves);
        self.servers(&leaves, &vpcs);
        self.breakouts();
    }

    /// The next free sub-port of `switch`, as a NetBox interface named like the profile's port.
    fn switch_port(&mut self, switch: u64) -> u64 {
        let used = self.used_ports.entry(switch).or_default();
        let n = *used;
        *used += 1;
        assert!(
            n < BREAKOUT_PORTS * LANES,
            "a generated switch has at most {} ports",
            BREAKOUT_PORTS * LANES
        );
        let name = format!("E1/{}/{}", n / LANES + 1, n % LANES + 1);
        let id = self.interface(switch, &name, "25gbase-x-sfp28");
        if let Some(i) = self.snapshot.interfaces.last_mut() {
            i.speed = Some(LANE_SPEED_KBPS);
        }
        id
    }

    /// Each switch's used ports broken out, in its custom field.
    fn breakouts(&mut self) {
        let field = self.mapping.custom_fields.port_breakouts.clone();
        for (&switch, &used) in &self.used_ports {
            let breakouts: serde_json::Map<String, Value> = (1..=used.div_ceil(LANES))
                .map(|p| (format!("E1/{p}"), json!(BREAKOUT)))
                .collect();
            if let Some(device) = self.snapshot.devices.iter_mut().find(|d| d.id == switch) {
                device
                    .custom_fields
                    .0
                    .insert(field.clone(), Value::Object(breakouts));
            }
        }
    }

    /// VLAN group, VRFs with route targets, subnets with VLAN, gateway and DHCP range.
    fn vpcs(&mut self) -> Vec<NestedVlan> {
        let (group_id, external_rt) = self.namespaces_and_external();
        (0..self.spec.vpcs)
            .map(|k| self.vpc(k, group_id, external_rt))
            .collect()
    }

    /// The VLAN group, the IPv4 namespace prefix and the external VRF with its route target;
    /// returns the group's and the route target's ids.
    fn namespaces_and_external(&mut self) -> (u64, u64) {
        let spec = self.spec;
        let cf = &self.mapping.custom_fields;
        let group_id = self.id();
        self.snapshot.vlan_groups.push(VlanGroup {
            id: group_id,
            name: spec.vlan_namespace(),
            slug: spec.vlan_namespace(),
            vid_ranges: vec![[1000, 2999]],
            custom_fields: self.member(),
            ..VlanGroup::default()
        });
        let namespace = Prefix {
            id: self.id(),
            prefix: format!("10.{}.128.0/17", spec.octet),
            role: Some(slug_ref(&self.mapping.ipv4_namespace_prefix_role)),
            status: choice("active"),
            custom_fields: self.fields(&[
                (&cf.fabric, json!(spec.name)),
                (&cf.ipv4_namespace, json!("default")),
            ]),
            ..Prefix::default()
        };
        self.snapshot.prefixes.push(namespace);
        let external_rt = self.id();
        self.snapshot.route_targets.push(RouteTarget {
            id: external_rt,
            name: format!("{}:9999", spec.rt_base),
            custom_fields: self.member(),
            ..RouteTarget::default()
        });
        let external = Vrf {
            id: self.id(),
            name: "external".into(),
            export_targets: vec![reference(external_rt, "")],
            tags: tag(&self.mapping.tag_external),
            custom_fields: self.fields(&[
                (&cf.fabric, json!(spec.name)),
                (&cf.inbound_community, json!("65102:5000")),
                (&cf.outbound_community, json!("50000:50001")),
            ]),
            ..Vrf::default()
        };
        self.snapshot.vrfs.push(external);
        (group_id, external_rt)
    }

    /// VPC `k`: its route target, VRF, VLAN, subnet prefix, gateway and DHCP range.
    fn vpc(&mut self, k: usize, group_id: u64, external_rt: u64) -> NestedVlan {
        let spec = self.spec;
        let cf = &self.mapping.custom_fields;
        let rt = self.id();
        self.snapshot.route_targets.push(RouteTarget {
            id: rt,
            name: format!("{}:{}", spec.rt_base, k + 1),
            custom_fields: self.member(),
            ..RouteTarget::default()
        });
        let vrf_id = self.id();
        let mut imports = vec![reference(rt, "")];
        if k == 0 {
            imports.push(reference(external_rt, ""));
        }
        self.snapshot.vrfs.push(Vrf {
            id: vrf_id,
            name: format!("vpc-{}", k + 1),
            import_targets: imports,
            export_targets: vec![reference(rt, "")],
            custom_fields: self.fields(&[
                (&cf.fabric, json!(spec.name)),
                (&cf.vlan_namespace, json!(spec.vlan_namespace())),
            ]),
            ..Vrf::default()
        });
        let vid = 1000 + k as u16;
        let vlan_id = self.id();
        let vlan_name = format!("vpc-{}-subnet", k + 1);
        self.snapshot.vlans.push(Vlan {
            id: vlan_id,
            vid,
            name: vlan_name.clone(),
            group: Some(reference(group_id, "")),
            status: choice("active"),
            ..Vlan::default()
        });
        self.vpc_subnet(k, vrf_id, vlan_id, vid);
        NestedVlan {
            id: vlan_id,
            vid: Some(vid),
            name: Some(vlan_name),
        }
    }

    /// VPC `k`'s subnet: its prefix with DHCP enabled, gateway address and DHCP range.
    fn vpc_subnet(&mut self, k: usize, vrf_id: u64, vlan_id: u64, vid: u16) {
        let spec = self.spec;
        let cf = &self.mapping.custom_fields;
        let net = format!("10.{}.{}", spec.octet, 128 + k);
        let vrf = Some(reference(vrf_id, ""));
        let prefix_id = self.id();
        self.snapshot.prefixes.push(Prefix {
            id: prefix_id,
            prefix: format!("{net}.0/24"),
            vrf: vrf.clone(),
            vlan: Some(NestedVlan {
                id: vlan_id,
                vid: Some(vid),
                name: None,
            }),
            status: choice("active"),
            custom_fields: self.fields(&[
                (&cf.fabric, json!(spec.name)),
                (&cf.subnet_name, json!("default")),
                (&cf.dhcp_enable, json!(true)),
            ]),
            ..Prefix::default()
        });
        let gateway_id = self.id();
        self.snapshot.ip_addresses.push(IpAddress {
            id: gateway_id,
            address: format!("{net}.1/24"),
            vrf: vrf.clone(),
            status: choice("active"),
            role: choice(&self.mapping.gateway_ip_role),
            ..IpAddress::default()
        });
        let range_id = self.id();
        self.snapshot.ip_ranges.push(IpRange {
            id: range_id,
            start_address: format!("{net}.10/24"),
            end_address: format!("{net}.99/24"),
            vrf,
            status: choice("active"),
            role: Some(slug_ref(&self.mapping.dhcp_range_role)),
            ..IpRange::default()
        });
    }

    fn device(&mut self, name: &str, role: &str, device_type: &str, fields: CustomFields) -> u64 {
        let id = self.id();
        self.snapshot.devices.push(Device {
            id,
            name: Some(name.into()),
            device_type: Some(slug_ref(device_type)),
            role: Some(slug_ref(role)),
            site: Some(slug_ref(&self.spec.name)),
            status: choice("active"),
            serial: Some(format!("SN-{}-{name}", self.spec.octet)),
            custom_fields: fields,
            ..Device::default()
        });
        id
    }

    fn interface(&mut self, device: u64, name: &str, kind: &str) -> u64 {
        let id = self.id();
        self.snapshot.interfaces.push(Interface {
            id,
            device: reference(device, ""),
            name: name.into(),
            r#type: choice(kind),
            enabled: Some(true),
            ..Interface::default()
        });
        id
    }

    fn ip(&mut self, address: String, interface: u64, tags: Vec<TagRef>) -> u64 {
        let id = self.id();
        self.snapshot.ip_addresses.push(IpAddress {
            id,
            address,
            status: choice("active"),
            assigned_object_type: Some("dcim.interface".into()),
            assigned_object_id: Some(interface),
            tags,
            ..IpAddress::default()
        });
        id
    }

    fn mac(&mut self, interface: u64, n: usize) {
        let mac = format!(
            "02:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            self.spec.octet,
            (n >> 24) & 0xff,
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff
        );
        let id = self.id();
        self.snapshot.mac_addresses.push(MacAddress {
            id,
            mac_address: mac.clone(),
            assigned_object_type: Some("dcim.interface".into()),
            assigned_object_id: Some(interface),
        });
        if let Some(i) = self
            .snapshot
            .interfaces
            .iter_mut()
            .find(|i| i.id == interface)
        {
            i.mac_address = Some(mac);
        }
    }

    fn cable(&mut self, a: u64, b: u64) {
        let end = |id| {
            vec![CableTermination {
                object_type: "dcim.interface".into(),
                object_id: id,
            }]
        };
        let id = self.id();
        self.snapshot.cables.push(Cable {
            id,
            a_terminations: end(a),
            b_terminations: end(b),
            status: choice("connected"),
            ..Cable::default()
        });
    }

    /// Spines and leaves with management, loopback addresses and custom fields.
    fn switches(&mut self) -> (Vec<u64>, Vec<u64>) {
        let spec = self.spec;
        let cf = self.mapping.custom_fields.clone();
        let mut spines = Vec::new();
        let mut leaves = Vec::new();
        let total = spec.spines + spec.leaves;
        for n in 0..total {
            let is_spine = n < spec.spines;
            let name = if is_spine {
                format!("spine-{:02}", n + 1)
            } else {
                format!("leaf-{:02}", n - spec.spines + 1)
            };
            let settings = &self.mapping.settings;
            let asn = if is_spine {
                settings.spine_asn
            } else {
                settings.leaf_asn_start + (n - spec.spines) as u32
            };
            let mut fields = vec![
                (&cf.fabric, json!(spec.name)),
                (&cf.asn, json!(asn)),
                (&cf.vlan_namespaces, json!(spec.vlan_namespace())),
            ];
            if n == 0 {
                fields.push((&cf.status, json!("synced")));
            }
            let fields = self.fields(&fields);
            let role = if is_spine { "spine" } else { "server-leaf" };
            let device = self.device(&name, role, SWITCH_TYPE, fields);
            let mgmt = self.interface(device, "Management0", "1000base-t");
            if let Some(i) = self.snapshot.interfaces.last_mut() {
                i.mgmt_only = Some(true);
            }
            self.mac(mgmt, n);
            let ip = self.ip(
                format!("10.{}.0.{}/24", spec.octet, n + 1),
                mgmt,
                Vec::new(),
            );
            if let Some(d) = self.snapshot.devices.last_mut() {
                d.primary_ip4 = Some(NestedIp {
                    id: ip,
                    address: None,
                });
            }
            let lo = self.interface(device, "Loopback0", "virtual");
            let protocol = tag(&self.mapping.tag_protocol_ip);
            self.ip(format!("10.{}.1.{}/32", spec.octet, n + 1), lo, protocol);
            if !is_spine {
                let vtep = tag(&self.mapping.tag_vtep_ip);
                self.ip(format!("10.{}.2.{}/32", spec.octet, n + 1), lo, vtep);
            }
            if is_spine {
                spines.push(device);
            } else {
                leaves.push(device);
            }
        }
        (spines, leaves)
    }

    /// One cable per spine/leaf pair with its /31, on each switch's next free port.
    fn links(&mut self, spines: &[u64], leaves: &[u64]) {
        let mut link = 0usize;
        for &spine in spines {
            for &leaf in leaves {
                let a = self.switch_port(spine);
                let b = self.switch_port(leaf);
                for i in [a, b] {
                    if let Some(iface) = self
                        .snapshot
                        .interfaces
                        .iter_mut()
                        .rev()
                        .find(|x| x.id == i)
                    {
                        iface.mtu = Some(9036);
                    }
                }
                let (third, fourth) = (16 + link / 128, (link % 128) * 2);
                let octet = self.spec.octet;
                self.ip(format!("10.{octet}.{third}.{fourth}/31"), a, Vec::new());
                self.ip(
                    format!("10.{octet}.{third}.{}/31", fourth + 1),
                    b,
                    Vec::new(),
                );
                self.cable(a, b);
                link += 1;
            }
        }
    }

    /// Servers: even ones bonded (LAG of two NICs), odd ones on one NIC, all in access mode
    /// on a VPC VLAN on the leaf side.
    fn servers(&mut self, leaves: &[u64], vlans: &[NestedVlan]) {
        let mut n = 0usize;
        for (l, &leaf) in leaves.iter().enumerate() {
            for s in 0..self.spec.servers_per_leaf {
                let name = format!("server-{:02}-{:02}", l + 1, s + 1);
                let server = self.device(&name, "server", "hh-server", CustomFields::default());
                let bonded = s % 2 == 0;
                let nics = if bonded { 2 } else { 1 };
                let lag = bonded.then(|| self.interface(server, "bond0", "lag"));
                let mut first_nic = None;
                for k in 0..nics {
                    let nic = self.interface(server, &format!("enp2s0f{k}"), "25gbase-x-sfp28");
                    if let (Some(lag), Some(i)) = (lag, self.snapshot.interfaces.last_mut()) {
                        i.lag = Some(reference(lag, "bond0"));
                    }
                    first_nic.get_or_insert(nic);
                    let leaf_port = self.switch_port(leaf);
                    if let Some(i) = self.snapshot.interfaces.last_mut() {
                        i.mode = choice("access");
                        i.untagged_vlan = vlans.get(n % vlans.len().max(1)).cloned();
                    }
                    self.cable(nic, leaf_port);
                }
                let nic = first_nic.unwrap_or_default();
                self.mac(nic, 1000 + n);
                let address = format!("10.{}.{}.{}/24", self.spec.octet, 64 + n / 250, n % 250 + 1);
                self.ip(address, lag.unwrap_or(nic), Vec::new());
                n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_fabric_is_consistent() {
        let spec = SyntheticFabric::new("t", 7, 4_200_000_000);
        let s = spec.generate(&MappingConfig::default());
        assert_eq!(s.devices.len(), 2 + 2 + 4);
        // Every cable end is an interface of the snapshot.
        for c in &s.cables {
            for t in c.a_terminations.iter().chain(&c.b_terminations) {
                assert!(s.interfaces.iter().any(|i| i.id == t.object_id));
            }
        }
        let mut ids: Vec<u64> = s.interfaces.iter().map(|i| i.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), s.interfaces.len());
    }

    /// NetBox refuses two interfaces of one name on a device: the benchmark fabric's 72 server
    /// ports per leaf must not collide with the uplinks.
    #[test]
    fn interface_names_are_unique_per_device_on_big_leaves() {
        let spec = SyntheticFabric {
            spines: 4,
            leaves: 2,
            servers_per_leaf: 48,
            ..SyntheticFabric::new("t", 7, 4_200_000_000)
        };
        let s = spec.generate(&MappingConfig::default());
        let mut seen = std::collections::BTreeSet::new();
        for i in &s.interfaces {
            let device = i.device.id;
            assert!(
                seen.insert((device, i.name.clone())),
                "{} is named twice on device {device}",
                i.name
            );
        }
    }
}
