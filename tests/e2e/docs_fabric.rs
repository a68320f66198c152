//! The docs sample's fabric as the e2e scenarios seed it into NetBox: moved to a fabric and
//! site of its own and, for a running cluster, completed with what the fabric's webhooks
//! require and the sample leaves to hhfab (switch ASNs, management, protocol and VTEP IPs,
//! fabric link /31s).

use hedgehog_sidecar::config::{FabricSettings, MappingConfig};
use hedgehog_sidecar::netbox::FabricSnapshot;
use hedgehog_sidecar::netbox::types::{
    Choice, CustomFields, Interface, IpAddress, NestedIp, NestedRef, TagRef,
};
use serde_json::json;

/// The docs sample's NetBox objects, moved to fabric `fabric` in its own site, its prefixes
/// moved into 10.`octet`.0.0/16.
pub fn docs_snapshot(fabric: &str, octet: u8) -> FabricSnapshot {
    let path = testkit::paths::fixture("docs-wiring.snapshot.json");
    let mut snapshot = FabricSnapshot::load(&path).expect("fixture");
    let site = NestedRef {
        id: 1,
        name: Some(fabric.into()),
        slug: Some(fabric.into()),
        display: None,
    };
    for device in &mut snapshot.devices {
        device.site = Some(site.clone());
    }
    let retarget = |cf: &mut CustomFields| {
        if cf.0.contains_key("hedgehog_fabric") {
            cf.0.insert("hedgehog_fabric".into(), json!(fabric));
        }
    };
    // NetBox keeps prefixes unique in the global table: each scenario gets its own /16.
    for prefix in &mut snapshot.prefixes {
        prefix.prefix = prefix.prefix.replacen("10.0.", &format!("10.{octet}."), 1);
    }
    snapshot
        .devices
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .vlan_groups
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .prefixes
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .vrfs
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
}

/// The docs fabric complete for a running cluster whose fabric settings are the returned ones
/// (`testkit::synthetic::addressing`): the switch addressing in 10.`octet`.0.0/17 and the
/// IPv4Namespace in 10.`octet`.128.0/17, clear of the reserved subnets as the fabric requires.
pub fn cluster_snapshot(fabric: &str, octet: u8) -> (FabricSnapshot, FabricSettings) {
    let settings = testkit::synthetic::addressing(octet);
    let mut snapshot = docs_snapshot(fabric, octet);
    for prefix in &mut snapshot.prefixes {
        prefix.prefix = format!("10.{octet}.128.0/17");
    }
    let mut completion = Completion {
        snapshot: &mut snapshot,
        mapping: MappingConfig::default(),
        octet,
    };
    completion.switches(&settings);
    completion.links();
    (snapshot, settings)
}

struct Completion<'a> {
    snapshot: &'a mut FabricSnapshot,
    mapping: MappingConfig,
    octet: u8,
}

fn tag(slug: &str) -> Vec<TagRef> {
    vec![TagRef {
        id: None,
        name: Some(slug.into()),
        slug: Some(slug.into()),
    }]
}

impl Completion<'_> {
    /// A fresh snapshot-local id.
    fn id(&self) -> u64 {
        let s = &self.snapshot;
        let ids = s.interfaces.iter().map(|i| i.id);
        ids.chain(s.ip_addresses.iter().map(|a| a.id))
            .max()
            .unwrap_or_default()
            + 1
    }

    fn ip(&mut self, address: String, interface: u64, tags: Vec<TagRef>) -> u64 {
        let id = self.id();
        self.snapshot.ip_addresses.push(IpAddress {
            id,
            address,
            status: Some(Choice {
                value: "active".into(),
                label: None,
            }),
            assigned_object_type: Some("dcim.interface".into()),
            assigned_object_id: Some(interface),
            tags,
            ..IpAddress::default()
        });
        id
    }

    /// Each switch's ASN (spines the fabric's spine ASN, leaves one each from the leaf range),
    /// its management IP as primary IPv4 on its management port, and its protocol IP (and a
    /// leaf's VTEP IP) on a loopback.
    fn switches(&mut self, settings: &FabricSettings) {
        let octet = self.octet;
        let mut leaves = 0;
        for n in 0..self.snapshot.devices.len() {
            let device = &self.snapshot.devices[n];
            let (id, name) = (device.id, device.name.clone().unwrap_or_default());
            let spine = name.starts_with("spine");
            let asn = if spine {
                settings.spine_asn
            } else {
                leaves += 1;
                settings.leaf_asn_start + leaves - 1
            };
            let management = self
                .snapshot
                .interfaces
                .iter()
                .find(|i| i.device.id == id && i.mgmt_only == Some(true))
                .map(|i| i.id)
                .expect("a management port");
            let host = n + 1;
            let primary = self.ip(format!("10.{octet}.0.{host}/24"), management, Vec::new());
            let loopback = self.id();
            self.snapshot.interfaces.push(Interface {
                id: loopback,
                device: NestedRef {
                    id,
                    name: Some(name),
                    ..NestedRef::default()
                },
                name: "Loopback0".into(),
                r#type: Some(Choice {
                    value: "virtual".into(),
                    label: None,
                }),
                enabled: Some(true),
                ..Interface::default()
            });
            let protocol = tag(&self.mapping.tag_protocol_ip);
            self.ip(format!("10.{octet}.1.{host}/32"), loopback, protocol);
            if !spine {
                let vtep = tag(&self.mapping.tag_vtep_ip);
                self.ip(format!("10.{octet}.2.{host}/32"), loopback, vtep);
            }
            let device = &mut self.snapshot.devices[n];
            device
                .custom_fields
                .0
                .insert(self.mapping.custom_fields.asn.clone(), json!(asn));
            device.primary_ip4 = Some(NestedIp {
                id: primary,
                address: None,
            });
        }
    }

    /// A /31 from the fabric subnet on both ends of every spine-leaf cable, the spine's first.
    fn links(&mut self) {
        let octet = self.octet;
        let spine_ports: Vec<u64> = self
            .snapshot
            .interfaces
            .iter()
            .filter(|i| {
                i.device
                    .name
                    .as_deref()
                    .is_some_and(|d| d.starts_with("spine"))
            })
            .map(|i| i.id)
            .collect();
        let ends: Vec<(u64, u64)> = self
            .snapshot
            .cables
            .iter()
            .map(|c| (c.a_terminations[0].object_id, c.b_terminations[0].object_id))
            .map(|(a, b)| {
                if spine_ports.contains(&a) {
                    (a, b)
                } else {
                    (b, a)
                }
            })
            .collect();
        for (link, (spine, leaf)) in ends.into_iter().enumerate() {
            let (third, fourth) = (16 + link / 128, (link % 128) * 2);
            self.ip(format!("10.{octet}.{third}.{fourth}/31"), spine, Vec::new());
            let leaf_ip = format!("10.{octet}.{third}.{}/31", fourth + 1);
            self.ip(leaf_ip, leaf, Vec::new());
        }
    }
}
