//! The Proxmox VE API answers the source reads (`/api2/json`, as its API viewer documents
//! them for PVE 8). Every answer is wrapped in `{"data": ...}`; only the fields used are typed.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `{"data": ...}`, the envelope of every answer.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// `GET /cluster/status`: one entry for the cluster (absent on a lone node) and one per node.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterStatusEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub ip: Option<String>,
}

/// `GET /nodes`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeEntry {
    pub node: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /nodes/{node}/version`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeVersion {
    pub version: String,
}

/// `GET /nodes/{node}/network`: the node's own interfaces (no MACs in this endpoint).
#[derive(Debug, Clone, Deserialize)]
pub struct NodeNetwork {
    pub iface: String,
    /// `eth`, `bridge`, `OVSBridge`, `bond`, `vlan`, ...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub cidr6: Option<String>,
}

/// `GET /nodes/{node}/qemu` and `GET /nodes/{node}/lxc`.
#[derive(Debug, Clone, Deserialize)]
pub struct GuestEntry {
    /// A number in `qemu`, a string in `lxc` on some versions.
    #[serde(deserialize_with = "number_or_string")]
    pub vmid: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub cpus: Option<f64>,
    /// Bytes.
    #[serde(default)]
    pub maxmem: Option<u64>,
    /// Bytes.
    #[serde(default)]
    pub maxdisk: Option<u64>,
    /// `1` for a template, which is no running machine.
    #[serde(default)]
    pub template: Option<serde_json::Value>,
}

impl GuestEntry {
    pub fn is_template(&self) -> bool {
        matches!(&self.template, Some(v) if v.as_u64() == Some(1) || v.as_str() == Some("1"))
    }

    pub fn is_running(&self) -> bool {
        self.status.as_deref() == Some("running")
    }
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`: `netN` entries (`virtio=BC:24:...,bridge=vmbr0`
/// for QEMU, `name=eth0,hwaddr=BC:24:...,ip=10.0.0.5/24` for LXC) and `agent`.
pub type GuestConfig = BTreeMap<String, serde_json::Value>;

/// `GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces`: `{"result": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentInterfaces {
    pub result: Vec<AgentInterface>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AgentInterface {
    pub name: String,
    #[serde(default, rename = "hardware-address")]
    pub hardware_address: Option<String>,
    #[serde(default, rename = "ip-addresses")]
    pub ip_addresses: Vec<AgentAddress>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AgentAddress {
    #[serde(rename = "ip-address")]
    pub ip_address: String,
    pub prefix: u8,
}

/// `GET /nodes/{node}/lxc/{vmid}/interfaces`.
#[derive(Debug, Clone, Deserialize)]
pub struct LxcInterface {
    pub name: String,
    #[serde(default)]
    pub hwaddr: Option<String>,
    /// `10.0.0.5/24`.
    #[serde(default)]
    pub inet: Option<String>,
    #[serde(default)]
    pub inet6: Option<String>,
}

fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Either::deserialize(deserializer)? {
        Either::Number(n) => Ok(n),
        Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}
