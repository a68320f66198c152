//! External (vpc.githedgehog.com/v1beta1).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_community: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_community: Option<String>,
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_external: Option<ExternalStatic>,
}

impl HedgehogSpec for ExternalSpec {
    const KIND: Kind = Kind::External;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalStatic {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
}
