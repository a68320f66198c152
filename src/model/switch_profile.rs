//! SwitchProfile (read-only): built into the fabric; read to check ports, speeds, breakouts and
//! features. The fields the sidecar reads are typed; the rest is kept as-is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchProfileSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub features: SwitchProfileFeatures,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, ProfilePort>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_groups: BTreeMap<String, ProfilePortGroup>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_profiles: BTreeMap<String, PortProfile>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pipelines: BTreeMap<String, ProfilePipeline>,
    /// Most ports (breakout sub-ports counted) the switch may use; 0 is no limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_ports: u16,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

impl HedgehogSpec for SwitchProfileSpec {
    const KIND: Kind = Kind::SwitchProfile;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchProfileFeatures {
    #[serde(default)]
    pub subinterfaces: bool,
    #[serde(default)]
    pub acls: bool,
    #[serde(default, rename = "l2vni")]
    pub l2vni: bool,
    #[serde(default, rename = "l3vni")]
    pub l3vni: bool,
    #[serde(default)]
    pub roce: bool,
    #[serde(default)]
    pub mclag: bool,
    #[serde(default)]
    pub eslag: bool,
    #[serde(default, rename = "ecmpRoCEQPN")]
    pub ecmp_roce_qpn: bool,
}

/// One port of a profile, by its Hedgehog name (`E1/1`, `M1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePort {
    /// The NOS's name (`Ethernet0`; `1/1` for a breakout port).
    #[serde(default, rename = "nos")]
    pub nos_name: String,
    /// A breakout port's first lane's NOS name (`Ethernet0`).
    #[serde(
        default,
        rename = "baseNOSName",
        skip_serializing_if = "String::is_empty"
    )]
    pub base_nos_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The port group whose speed it shares, or
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// its own port profile.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub profile: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pipeline: String,
    #[serde(default)]
    pub management: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilePortGroup {
    #[serde(default, rename = "nos")]
    pub nos_name: String,
    #[serde(default)]
    pub profile: String,
}

/// A speed profile (`speed`) or a breakout profile (`breakout`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<PortSpeeds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakout: Option<PortBreakouts>,
    #[serde(default)]
    pub auto_neg_allowed: bool,
    #[serde(default)]
    pub auto_neg_default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpeeds {
    #[serde(default)]
    pub default: String,
    #[serde(default)]
    pub supported: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBreakouts {
    #[serde(default)]
    pub default: String,
    /// Mode (`4x25G`) → the NOS name offset of each of its sub-ports.
    #[serde(default)]
    pub supported: BTreeMap<String, BreakoutMode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakoutMode {
    #[serde(default)]
    pub offsets: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePipeline {
    #[serde(default)]
    pub max_ports: u16,
}
