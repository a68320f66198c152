//! Switch (wiring.githedgehog.com/v1beta1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::{HedgehogSpec, is_false};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchSpec {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "SwitchRedundancy::is_empty")]
    pub redundancy: SwitchRedundancy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlan_namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(
        default,
        rename = "protocolIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol_ip: Option<String>,
    #[serde(default, rename = "vtepIP", skip_serializing_if = "Option::is_none")]
    pub vtep_ip: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_group_speeds: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_speeds: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_breakouts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_auto_negs: BTreeMap<String, bool>,
    #[serde(
        default,
        rename = "portFECs",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub port_fecs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "SwitchBoot::is_empty")]
    pub boot: SwitchBoot,
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_all_ports: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub roce: bool,
}

impl HedgehogSpec for SwitchSpec {
    const KIND: Kind = Kind::Switch;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchRedundancy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SwitchRedundancy {
    pub fn is_empty(&self) -> bool {
        self.group.is_none() && self.kind.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchBoot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl SwitchBoot {
    pub fn is_empty(&self) -> bool {
        self.serial.is_none() && self.mac.is_none()
    }
}

/// The Hedgehog switch roles.
pub(crate) const SWITCH_ROLES: [&str; 5] = [
    "spine",
    "server-leaf",
    "border-leaf",
    "mixed-leaf",
    "virtual-edge",
];

impl SwitchSpec {
    pub fn is_spine(&self) -> bool {
        self.role == "spine"
    }
    pub fn is_leaf(&self) -> bool {
        self.role.ends_with("-leaf")
    }
}
