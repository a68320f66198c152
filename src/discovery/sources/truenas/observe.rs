//! A TrueNAS system as a device: its interfaces with their MAC and current addresses, its
//! pools and shares as facts (lists of small objects, for a JSON custom field or the journal).

use serde_json::{Value, json};

use super::api::{Alias, Interface, NfsShare, Pool, SmbShare, SystemInfo};
use crate::discovery::kind::ObjectKind;
use crate::discovery::sources::host::{Host, HostInterface, useful_address, useful_mac};

/// Everything read from one system.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub system: SystemInfo,
    pub interfaces: Vec<Interface>,
    pub pools: Vec<Pool>,
    pub smb: Vec<SmbShare>,
    pub nfs: Vec<NfsShare>,
}

/// The system as a device; one per source, so its identity is fixed.
pub fn observe_system(inventory: &Inventory) -> Host {
    let system = &inventory.system;
    let mut host = Host::new(ObjectKind::Device, "system".into(), system.hostname.clone());
    host.serial = system
        .system_serial
        .clone()
        .filter(|s| !s.trim().is_empty());
    host.active = Some(true);
    let mut fact = |name: &'static str, value: &Option<String>| {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            host.facts.insert(name, json!(value));
        }
    };
    fact("manufacturer", &system.system_manufacturer);
    fact("model", &system.system_product);
    fact("version", &system.version);
    host.facts.insert("platform", json!("TrueNAS"));
    host.facts.insert("pools", pools(&inventory.pools));
    host.facts
        .insert("shares", shares(&inventory.smb, &inventory.nfs));
    host.interfaces = inventory.interfaces.iter().map(interface).collect();
    host
}

fn interface(interface: &Interface) -> HostInterface {
    let state = interface.state.as_ref();
    // The addresses it has now (DHCP included); the configured ones when it reports none.
    let current = state.map(|s| s.aliases.as_slice()).unwrap_or_default();
    let aliases = if current.iter().any(is_address) {
        current
    } else {
        &interface.aliases
    };
    HostInterface {
        name: interface.name.clone(),
        kind: match interface.kind.as_deref() {
            Some("BRIDGE") => Some("bridge"),
            Some("LINK_AGGREGATION") => Some("lag"),
            Some("VLAN") => Some("virtual"),
            _ => None,
        },
        mac: state
            .and_then(|s| s.link_address.as_deref())
            .and_then(useful_mac),
        addresses: aliases
            .iter()
            .filter(|a| is_address(a))
            .filter_map(|a| useful_address(&a.address, a.netmask?))
            .collect(),
    }
}

fn is_address(alias: &Alias) -> bool {
    matches!(alias.kind.as_str(), "INET" | "INET6")
}

fn pools(pools: &[Pool]) -> Value {
    pools
        .iter()
        .map(|p| {
            json!({"name": p.name, "status": p.status, "healthy": p.healthy,
                   "size": p.size, "free": p.free})
        })
        .collect()
}

fn shares(smb: &[SmbShare], nfs: &[NfsShare]) -> Value {
    let smb = smb
        .iter()
        .map(|s| json!({"protocol": "smb", "name": s.name, "path": s.path, "enabled": s.enabled}));
    let nfs = nfs.iter().flat_map(|s| {
        s.path
            .iter()
            .chain(&s.paths)
            .map(|path| json!({"protocol": "nfs", "path": path, "enabled": s.enabled}))
    });
    smb.chain(nfs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfs_shares_are_read_in_the_scale_and_core_forms() {
        let nfs: Vec<NfsShare> = serde_json::from_value(json!([
            {"id": 1, "path": "/mnt/tank/a", "enabled": true},
            {"id": 2, "paths": ["/mnt/tank/b", "/mnt/tank/c"], "enabled": false}
        ]))
        .unwrap();
        let paths: Vec<Value> = shares(&[], &nfs)
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].clone())
            .collect();
        assert_eq!(
            paths,
            [
                json!("/mnt/tank/a"),
                json!("/mnt/tank/b"),
                json!("/mnt/tank/c")
            ]
        );
    }

    #[test]
    fn configured_addresses_stand_in_when_the_state_has_none() {
        let interface: Interface = serde_json::from_value(json!({
            "name": "enp2s0", "type": "PHYSICAL",
            "aliases": [{"type": "INET", "address": "10.1.0.5", "netmask": 24}],
            "state": {"link_address": "00:a0:98:00:00:02",
                      "aliases": [{"type": "LINK", "address": "00:a0:98:00:00:02"}]}
        }))
        .unwrap();
        let seen = super::interface(&interface);
        assert_eq!(seen.mac.as_deref(), Some("00:A0:98:00:00:02"));
        assert_eq!(seen.addresses, ["10.1.0.5/24".parse().unwrap()]);
    }
}
