//! What the host sources (Proxmox VE, TrueNAS, Home Assistant) see, before it becomes an
//! observation: a device or a virtual machine with its interfaces, MACs and addresses, and the
//! facts its API gives; and what the three have in common as sources (their name, what they
//! own, whether they create).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::{CreateDefaults, CustomFieldNames, HostSourceSettings};
use crate::discovery::kind::ObjectKind;
use crate::discovery::observation::{
    ClusterRef, Field, ObservedDevice, ObservedInterface, Placement, normalize_mac,
};
use crate::discovery::source::owned_by;
use crate::netbox::ListQuery;

/// One host as a source sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub kind: ObjectKind,
    /// Stable within the source across runs (`qemu/100`, `node/pve1`).
    pub identity: String,
    pub name: String,
    /// The cluster a virtual machine runs in (the Proxmox cluster's name).
    pub cluster: Option<String>,
    pub serial: Option<String>,
    /// Running (NetBox status `active`) or not (`offline`), when the source says.
    pub active: Option<bool>,
    /// The address the source reaches the host by, when it says.
    pub primary_ip: Option<IpAddr>,
    /// Facts by a neutral name (`manufacturer`, `model`, `version`, `platform`, `hardware`,
    /// `vcpus`, `memory_mb`, `disk_mb`, `pools`, `shares`).
    pub facts: BTreeMap<&'static str, Value>,
    pub interfaces: Vec<HostInterface>,
}

/// One interface of a host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostInterface {
    pub name: String,
    /// NetBox's interface type (`bridge`, `lag`, `virtual`) when the source tells it.
    pub kind: Option<&'static str>,
    /// As NetBox shows MACs (`BC:24:11:00:00:01`).
    pub mac: Option<String>,
    /// With their prefix length, loopback and link-local addresses left out.
    pub addresses: Vec<IpNet>,
}

impl Host {
    pub fn new(kind: ObjectKind, identity: String, name: String) -> Host {
        Host {
            kind,
            identity,
            name,
            cluster: None,
            serial: None,
            active: None,
            primary_ip: None,
            facts: BTreeMap::new(),
            interfaces: Vec::new(),
        }
    }

    /// The address NetBox should show as primary: the one the source names, else the first
    /// IPv4 address of an interface, else the first address.
    pub fn primary_address(&self) -> Option<IpAddr> {
        let all = || self.interfaces.iter().flat_map(|i| &i.addresses);
        self.primary_ip
            .or_else(|| all().find(|a| a.addr().is_ipv4()).map(IpNet::addr))
            .or_else(|| all().next().map(IpNet::addr))
    }

    /// A text fact, when there.
    fn text(&self, name: &str) -> Option<&str> {
        self.facts.get(name).and_then(Value::as_str)
    }
}

/// The name, ownership and creation defaults of one host source instance.
#[derive(Debug, Clone)]
pub struct HostOwner {
    pub name: String,
    pub names: CustomFieldNames,
    /// `None` when the instance creates nothing (`create = false`).
    pub defaults: Option<CreateDefaults>,
    /// The cluster type of the clusters it names.
    pub cluster_type: String,
}

impl HostOwner {
    /// The owner `<kind>:<name>` for an instance's table.
    pub fn new(kind: &str, settings: &HostSourceSettings, names: &CustomFieldNames) -> Self {
        HostOwner {
            name: format!("{kind}:{}", settings.name),
            names: names.clone(),
            defaults: settings.create.then(|| settings.defaults.clone()),
            cluster_type: settings.defaults.cluster_type.clone(),
        }
    }

    /// The NetBox objects the instance owns.
    pub fn scope(&self) -> ListQuery {
        owned_by(&self.name, &self.names)
    }

    /// The observation of `host`: the facts NetBox has fields for (the serial; for a device its
    /// platform, hardware and storage custom fields), its interfaces with MACs and addresses.
    pub fn observe(&self, host: Host) -> ObservedDevice {
        let primary = host.primary_address().map(|ip| ip.to_string());
        let facts = self.facts(&host);
        let cluster = host
            .cluster
            .clone()
            .filter(|_| host.kind == ObjectKind::VirtualMachine)
            .map(|name| ClusterRef {
                name,
                cluster_type: self.cluster_type.clone(),
            });
        let mut macs: Vec<String> = host
            .interfaces
            .iter()
            .filter_map(|i| i.mac.clone())
            .collect();
        macs.sort();
        macs.dedup();
        let status = host
            .active
            .map(|a| if a { "active" } else { "offline" }.to_owned());
        ObservedDevice {
            source: self.name.clone(),
            identity: host.identity,
            kind: host.kind,
            cluster,
            placement: Placement {
                status,
                ..Placement::default()
            },
            name: Some(host.name),
            serial: host.serial,
            macs,
            primary_ip: primary,
            facts,
            interfaces: host.interfaces.into_iter().map(interface).collect(),
        }
    }

    fn facts(&self, host: &Host) -> BTreeMap<Field, Value> {
        let mut facts = BTreeMap::new();
        if let Some(serial) = &host.serial {
            facts.insert(Field::Native("serial"), json!(serial));
        }
        // The device custom fields exist for devices only.
        if host.kind != ObjectKind::Device {
            return facts;
        }
        let joined = |names: &[&str]| {
            let parts: Vec<&str> = names.iter().filter_map(|n| host.text(n)).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        if let Some(platform) = joined(&["platform", "version"]) {
            facts.insert(Field::Custom(self.names.platform.clone()), json!(platform));
        }
        if let Some(hardware) = joined(&["manufacturer", "model", "hardware"]) {
            facts.insert(Field::Custom(self.names.hardware.clone()), json!(hardware));
        }
        if let (Some(pools), Some(shares)) = (host.facts.get("pools"), host.facts.get("shares")) {
            let storage = json!({"pools": pools, "shares": shares});
            facts.insert(Field::Custom(self.names.storage.clone()), storage);
        }
        facts
    }
}

fn interface(interface: HostInterface) -> ObservedInterface {
    ObservedInterface {
        name: interface.name,
        interface_type: interface.kind.map(str::to_owned),
        macs: interface.mac.into_iter().collect(),
        ips: interface
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        ..ObservedInterface::default()
    }
}

/// A MAC worth recording: a real one, not the all-zero MAC of a loopback.
pub fn useful_mac(mac: &str) -> Option<String> {
    normalize_mac(mac).filter(|m| m != "00:00:00:00:00:00")
}

/// An address worth recording: parsed, not loopback, not link-local, not unspecified.
pub fn useful_address(address: &str, prefix: u8) -> Option<IpNet> {
    let ip: IpAddr = address.trim().parse().ok()?;
    let keep = match ip {
        IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unspecified() || v6.is_unicast_link_local()),
    };
    keep.then(|| IpNet::new(ip, prefix).ok()).flatten()
}

/// An address in CIDR form (`10.0.0.5/24`), kept as [`useful_address`] keeps one.
pub fn useful_cidr(cidr: &str) -> Option<IpNet> {
    let (address, prefix) = cidr.trim().split_once('/')?;
    useful_address(address, prefix.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> HostOwner {
        let settings: HostSourceSettings =
            serde_json::from_value(json!({"name": "lab", "url": "https://pve:8006"})).unwrap();
        HostOwner::new("proxmox", &settings, &CustomFieldNames::default())
    }

    #[test]
    fn loopback_link_local_and_zero_macs_are_left_out() {
        assert_eq!(useful_mac("00:00:00:00:00:00"), None);
        assert_eq!(
            useful_mac("bc:24:11:00:00:01").as_deref(),
            Some("BC:24:11:00:00:01")
        );
        assert_eq!(useful_address("127.0.0.1", 8), None);
        assert_eq!(useful_address("fe80::1", 64), None);
        assert_eq!(useful_cidr("10.0.0.5/24"), "10.0.0.5/24".parse().ok());
        assert_eq!(useful_cidr("10.0.0.5/99"), None);
        assert_eq!(useful_cidr("dhcp"), None);
    }

    #[test]
    fn a_virtual_machine_is_observed_in_its_cluster_with_macs_and_addresses() {
        let mut host = Host::new(ObjectKind::VirtualMachine, "qemu/1".into(), "vm".into());
        host.cluster = Some("homelab".into());
        host.active = Some(false);
        host.facts.insert("version", json!("ignored for a VM"));
        host.interfaces.push(HostInterface {
            name: "net0".into(),
            kind: None,
            mac: Some("BC:24:11:00:00:01".into()),
            addresses: vec![
                "2001:db8::5/64".parse().unwrap(),
                "10.0.0.5/24".parse().unwrap(),
            ],
        });
        let seen = owner().observe(host);
        assert_eq!(seen.source, "proxmox:lab");
        assert_eq!(seen.kind, ObjectKind::VirtualMachine);
        let cluster = seen.cluster.unwrap();
        assert_eq!(
            (cluster.name.as_str(), cluster.cluster_type.as_str()),
            ("homelab", "discovered")
        );
        assert_eq!(seen.placement.status.as_deref(), Some("offline"));
        assert_eq!(seen.primary_ip.as_deref(), Some("10.0.0.5"), "IPv4 first");
        assert_eq!(seen.macs, ["BC:24:11:00:00:01"]);
        assert_eq!(seen.interfaces[0].macs, ["BC:24:11:00:00:01"]);
        assert_eq!(seen.interfaces[0].ips, ["2001:db8::5/64", "10.0.0.5/24"]);
        assert!(seen.facts.is_empty(), "no device custom fields on a VM");
    }

    #[test]
    fn a_device_gets_its_serial_platform_hardware_and_storage() {
        let names = CustomFieldNames::default();
        let mut host = Host::new(ObjectKind::Device, "system".into(), "nas".into());
        host.serial = Some("A1".into());
        host.cluster = Some("not for devices".into());
        for (k, v) in [
            ("platform", "TrueNAS"),
            ("version", "24.04"),
            ("manufacturer", "iX"),
            ("model", "Mini"),
        ] {
            host.facts.insert(k, json!(v));
        }
        host.facts.insert("pools", json!([{"name": "tank"}]));
        host.facts.insert("shares", json!([]));
        let seen = owner().observe(host);
        assert!(seen.cluster.is_none());
        assert_eq!(seen.serial.as_deref(), Some("A1"));
        assert_eq!(seen.facts[&Field::Native("serial")], json!("A1"));
        assert_eq!(
            seen.facts[&Field::Custom(names.platform)],
            json!("TrueNAS 24.04")
        );
        assert_eq!(seen.facts[&Field::Custom(names.hardware)], json!("iX Mini"));
        assert_eq!(
            seen.facts[&Field::Custom(names.storage)],
            json!({"pools": [{"name": "tank"}], "shares": []})
        );
    }
}
