//! What a source observes: devices and virtual machines with their facts and interfaces, each
//! interface with its MACs, IP addresses and the neighbours it sees. Values are as NetBox takes
//! them (speeds in kbit/s, MACs upper case, addresses with prefix length).

use std::collections::BTreeMap;

use serde::Serialize;

pub use super::kind::ObjectKind;

/// A NetBox field discovery may write: a native field or one of the product's custom fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A native field of the object (`serial`, `speed`).
    Native(&'static str),
    /// A custom field, by name.
    Custom(String),
}

impl Field {
    /// The key under which the discovery record remembers what was written.
    pub fn key(&self) -> String {
        match self {
            Field::Native(name) => (*name).to_owned(),
            Field::Custom(name) => format!("cf.{name}"),
        }
    }
}

/// One device or virtual machine as one source sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedDevice {
    /// The source's name (`fabric:lab`).
    pub source: String,
    /// Stable within the source across runs (`lab/leaf-01`).
    pub identity: String,
    /// What NetBox object it is when discovery creates it (a match may be of either kind).
    pub kind: ObjectKind,
    /// A virtual machine's cluster (created, with its type, when missing).
    pub cluster: Option<ClusterRef>,
    /// Where a created object goes; what is unset comes from the source's creation defaults.
    pub placement: Placement,
    pub name: Option<String>,
    pub serial: Option<String>,
    pub macs: Vec<String>,
    /// Without prefix length (`10.0.0.1`).
    pub primary_ip: Option<String>,
    /// Values to write on the device.
    pub facts: BTreeMap<Field, serde_json::Value>,
    pub interfaces: Vec<ObservedInterface>,
}

impl ObservedDevice {
    /// Its MACs and those of its interfaces (a MAC may come twice).
    pub fn all_macs(&self) -> impl Iterator<Item = &String> {
        let interfaces = self.interfaces.iter().flat_map(|i| &i.macs);
        self.macs.iter().chain(interfaces)
    }
}

/// A NetBox cluster by name, and its cluster type by slug (`proxmox`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ClusterRef {
    pub name: String,
    pub cluster_type: String,
}

/// Where a created object goes, by slug (status by value); `None` takes the source's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub site: Option<String>,
    pub role: Option<String>,
    pub manufacturer: Option<String>,
    pub device_type: Option<String>,
    pub platform: Option<String>,
    pub status: Option<String>,
}

impl Placement {
    /// Each value of `self`, or of `other` where `self` has none.
    pub fn or(self, other: Placement) -> Placement {
        Placement {
            site: self.site.or(other.site),
            role: self.role.or(other.role),
            manufacturer: self.manufacturer.or(other.manufacturer),
            device_type: self.device_type.or(other.device_type),
            platform: self.platform.or(other.platform),
            status: self.status.or(other.status),
        }
    }
}

/// One interface of an observed device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedInterface {
    pub name: String,
    /// NetBox's interface type for a created device interface (`1000base-t`); `other` when
    /// absent. Virtual machine interfaces have none.
    pub interface_type: Option<String>,
    /// Normalized ([`normalize_mac`]); the first becomes the interface's primary MAC.
    pub macs: Vec<String>,
    /// With prefix length (`10.0.0.5/24`), assigned to the interface when it is created.
    pub ips: Vec<String>,
    /// Values to write on the interface (oper state, speed).
    pub facts: BTreeMap<Field, serde_json::Value>,
    pub neighbours: Vec<Neighbour>,
}

/// What an interface sees at the other end of its link (LLDP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// The neighbour's system name: a NetBox device name when it is in NetBox.
    pub system: String,
    /// The neighbour's port: a NetBox interface name of that device.
    pub port: String,
    pub chassis: Option<String>,
    pub serial: Option<String>,
}

/// A MAC address as NetBox shows it (`0C:29:EF:00:00:01`), or `None` when it is not one.
pub fn normalize_mac(mac: &str) -> Option<String> {
    let hex: String = mac.chars().filter(char::is_ascii_hexdigit).collect();
    let separators = mac
        .chars()
        .all(|c| c.is_ascii_hexdigit() || ":-.".contains(c));
    if hex.len() != 12 || !separators {
        return None;
    }
    let pairs: Vec<String> = hex
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_normalized_and_non_macs_refused() {
        assert_eq!(
            normalize_mac("0c:29:ef:00:00:01").as_deref(),
            Some("0C:29:EF:00:00:01")
        );
        assert_eq!(
            normalize_mac("0c29.ef00.0001").as_deref(),
            Some("0C:29:EF:00:00:01")
        );
        assert_eq!(normalize_mac("Ethernet0"), None);
        assert_eq!(normalize_mac("0c:29:ef:00:00"), None);
    }
}
