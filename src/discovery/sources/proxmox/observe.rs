//! Proxmox VE answers as hosts: a node as a device, a QEMU VM or LXC container as a virtual
//! machine of the cluster. A guest's interfaces are its `netN` configuration entries (named
//! `netN` for QEMU, by the container's `name=` for LXC), so they stay the same whether the
//! guest agent answers or not; the addresses come from the agent or the container, matched by
//! MAC, or from a container's static `ip=`.

use serde_json::json;

use super::api::{AgentInterface, GuestConfig, GuestEntry, LxcInterface, NodeNetwork};
use crate::discovery::kind::ObjectKind;
use crate::discovery::sources::host::{Host, HostInterface, useful_cidr, useful_mac};

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestKind {
    Qemu,
    Lxc,
}

impl GuestKind {
    /// The path segment (`qemu`, `lxc`), also the identity's prefix.
    pub fn segment(self) -> &'static str {
        match self {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        }
    }
}

/// Everything read about one guest.
#[derive(Debug, Clone)]
pub struct Guest {
    pub kind: GuestKind,
    pub node: String,
    pub entry: GuestEntry,
    pub config: GuestConfig,
    /// The QEMU guest agent's interfaces (none when the agent is off or not answering).
    pub agent: Vec<AgentInterface>,
    /// A running container's interfaces.
    pub lxc: Vec<LxcInterface>,
}

/// A node of cluster `cluster` as a device, reached at `ip`.
pub fn observe_node(
    node: &str,
    cluster: &str,
    ip: Option<&str>,
    version: Option<&str>,
    network: &[NodeNetwork],
) -> Host {
    let mut host = Host::new(ObjectKind::Device, format!("node/{node}"), node.to_owned());
    host.primary_ip = ip.and_then(|ip| ip.parse().ok());
    host.cluster = Some(cluster.to_owned());
    host.facts.insert("manufacturer", json!("Proxmox"));
    host.facts.insert("platform", json!("Proxmox VE"));
    if let Some(version) = version {
        host.facts.insert("version", json!(version));
    }
    host.interfaces = network
        .iter()
        .map(|n| HostInterface {
            name: n.iface.clone(),
            kind: n.kind.as_deref().and_then(node_interface_type),
            mac: None,
            addresses: [&n.cidr, &n.cidr6]
                .into_iter()
                .filter_map(|c| c.as_deref().and_then(useful_cidr))
                .collect(),
        })
        .collect();
    host
}

/// NetBox's type of a node interface of Proxmox type `kind` (a NIC's speed is unknown: none).
fn node_interface_type(kind: &str) -> Option<&'static str> {
    match kind {
        "bridge" | "OVSBridge" => Some("bridge"),
        "bond" | "OVSBond" => Some("lag"),
        "vlan" | "OVSIntPort" => Some("virtual"),
        _ => None,
    }
}

/// A guest as a virtual machine of `cluster`, on its node.
pub fn observe_guest(guest: &Guest, cluster: &str) -> Host {
    let entry = &guest.entry;
    let kind = guest.kind.segment();
    let name = entry
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("{kind}-{}", entry.vmid));
    let mut host = Host::new(
        ObjectKind::VirtualMachine,
        format!("{kind}/{}", entry.vmid),
        name,
    );
    host.cluster = Some(cluster.to_owned());
    host.active = Some(entry.is_running());
    host.facts.insert("node", json!(guest.node));
    host.facts.insert("vmid", json!(entry.vmid));
    if let Some(cpus) = entry.cpus {
        host.facts.insert("vcpus", json!(cpus));
    }
    if let Some(bytes) = entry.maxmem {
        host.facts.insert("memory_mb", json!(bytes / MIB));
    }
    if let Some(bytes) = entry.maxdisk.filter(|b| *b > 0) {
        host.facts.insert("disk_mb", json!(bytes / MIB));
    }
    host.interfaces = net_entries(&guest.config)
        .into_iter()
        .map(|(key, value)| interface(guest, &key, &value))
        .collect();
    host
}

/// The `netN` entries in index order (`net2` before `net10`).
fn net_entries(config: &GuestConfig) -> Vec<(String, String)> {
    let mut entries: Vec<(u32, String, String)> = config
        .iter()
        .filter_map(|(key, value)| {
            let index = key.strip_prefix("net")?.parse().ok()?;
            Some((index, key.clone(), value.as_str()?.to_owned()))
        })
        .collect();
    entries.sort();
    entries.into_iter().map(|(_, k, v)| (k, v)).collect()
}

/// `key=value` pairs of a `netN` entry.
fn options(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(',').filter_map(|pair| pair.split_once('='))
}

fn interface(guest: &Guest, key: &str, value: &str) -> HostInterface {
    match guest.kind {
        GuestKind::Qemu => {
            // `virtio=BC:24:...`: the model's value is the MAC (`macaddr=` in older configs).
            let mac = options(value).find_map(|(_, v)| useful_mac(v));
            let addresses = agent_addresses(&guest.agent, mac.as_deref());
            HostInterface {
                name: key.to_owned(),
                kind: None,
                mac,
                addresses,
            }
        }
        GuestKind::Lxc => lxc_interface(guest, key, value),
    }
}

fn agent_addresses(agent: &[AgentInterface], mac: Option<&str>) -> Vec<ipnet::IpNet> {
    let Some(mac) = mac else {
        return Vec::new();
    };
    agent
        .iter()
        .filter(|i| {
            i.hardware_address
                .as_deref()
                .and_then(useful_mac)
                .as_deref()
                == Some(mac)
        })
        .flat_map(|i| &i.ip_addresses)
        .filter_map(|a| crate::discovery::sources::host::useful_address(&a.ip_address, a.prefix))
        .collect()
}

fn lxc_interface(guest: &Guest, key: &str, value: &str) -> HostInterface {
    let get = |wanted: &str| options(value).find(|(k, _)| *k == wanted).map(|(_, v)| v);
    let name = get("name").unwrap_or(key).to_owned();
    let mac = get("hwaddr").and_then(useful_mac);
    let reported = guest.lxc.iter().find(|i| {
        let same_mac = mac.is_some() && i.hwaddr.as_deref().and_then(useful_mac) == mac;
        same_mac || i.name == name
    });
    let mut addresses: Vec<ipnet::IpNet> = match reported {
        Some(i) => [&i.inet, &i.inet6]
            .into_iter()
            .filter_map(|c| c.as_deref().and_then(useful_cidr))
            .collect(),
        None => Vec::new(),
    };
    if addresses.is_empty() {
        // A stopped container: its static addresses (`dhcp`, `manual` are no address).
        addresses = [get("ip"), get("ip6")]
            .into_iter()
            .flatten()
            .filter_map(useful_cidr)
            .collect();
    }
    HostInterface {
        name,
        kind: None,
        mac,
        addresses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn entry(value: Value) -> GuestEntry {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_qemu_vm_takes_its_addresses_from_the_agent_by_mac() {
        let guest = Guest {
            kind: GuestKind::Qemu,
            node: "pve1".into(),
            entry: entry(json!({"vmid": 100, "name": "web", "status": "running",
                "cpus": 2, "maxmem": 2147483648u64, "maxdisk": 34359738368u64})),
            config: serde_json::from_value(json!({
                "net0": "virtio=BC:24:11:00:01:00,bridge=vmbr0,firewall=1",
                "net10": "e1000=bc:24:11:00:01:10,bridge=vmbr1",
                "net2": "virtio=BC:24:11:00:01:02,bridge=vmbr0",
                "agent": "1"})).unwrap(),
            agent: serde_json::from_value(json!([
                {"name": "lo", "hardware-address": "00:00:00:00:00:00",
                 "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
                {"name": "ens18", "hardware-address": "bc:24:11:00:01:00",
                 "ip-addresses": [{"ip-address": "10.0.0.10", "ip-address-type": "ipv4", "prefix": 24},
                                  {"ip-address": "fe80::1", "ip-address-type": "ipv6", "prefix": 64}]}
            ])).unwrap(),
            lxc: Vec::new(),
        };
        let host = observe_guest(&guest, "lab");
        assert_eq!(host.identity, "qemu/100");
        assert_eq!(host.kind, ObjectKind::VirtualMachine);
        assert_eq!(host.cluster.as_deref(), Some("lab"));
        let names: Vec<_> = host.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["net0", "net2", "net10"]);
        assert_eq!(host.interfaces[0].mac.as_deref(), Some("BC:24:11:00:01:00"));
        assert_eq!(
            host.interfaces[0].addresses,
            ["10.0.0.10/24".parse().unwrap()]
        );
        assert!(host.interfaces[1].addresses.is_empty());
        assert_eq!(host.facts["memory_mb"], json!(2048));
    }

    #[test]
    fn a_stopped_container_keeps_its_static_address() {
        let guest = Guest {
            kind: GuestKind::Lxc,
            node: "pve1".into(),
            entry: entry(json!({"vmid": "200", "status": "stopped"})),
            config: serde_json::from_value(json!({
                "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:02:00,ip=10.0.0.20/24,type=veth",
                "net1": "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:02:01,ip=dhcp,type=veth"}))
            .unwrap(),
            agent: Vec::new(),
            lxc: Vec::new(),
        };
        let host = observe_guest(&guest, "lab");
        assert_eq!(
            host.name, "lxc-200",
            "a guest without a name is named by its id"
        );
        assert_eq!(host.active, Some(false));
        assert_eq!(host.interfaces[0].name, "eth0");
        assert_eq!(
            host.interfaces[0].addresses,
            ["10.0.0.20/24".parse().unwrap()]
        );
        assert!(host.interfaces[1].addresses.is_empty());
    }
}
