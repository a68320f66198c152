//! SwitchProfile (read-only): built into the fabric; read to check ports and features.
//! Only the fields the sidecar reads are typed; the rest is kept as-is.

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
    pub ports: BTreeMap<String, Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
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
