//! VPC (vpc.githedgehog.com/v1beta1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::{HedgehogSpec, is_false};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VPCSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub default_isolated: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub default_restricted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permit: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_routes: Vec<StaticRoute>,
    pub subnets: BTreeMap<String, VPCSubnet>,
}

impl HedgehogSpec for VPCSpec {
    const KIND: Kind = Kind::VPC;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticRoute {
    pub prefix: String,
    pub next_hops: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VPCSubnet {
    pub subnet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub isolated: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub restricted: bool,
    #[serde(default, rename = "hostBGP", skip_serializing_if = "is_false")]
    pub host_bgp: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<VPCDhcp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VPCDhcp {
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
    #[serde(default, rename = "relayVPC", skip_serializing_if = "Option::is_none")]
    pub relay_vpc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<DhcpRange>,
    #[serde(default, rename = "static", skip_serializing_if = "BTreeMap::is_empty")]
    pub static_leases: BTreeMap<String, DhcpStatic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<DhcpOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpStatic {
    pub ip: String,
}

/// DHCP options; `interfaceMTU` and `leaseTimeSeconds` default as the fabric's webhook does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DhcpOptions {
    #[serde(default, rename = "pxeURL", skip_serializing_if = "Option::is_none")]
    pub pxe_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_servers: Vec<String>,
    #[serde(default = "default_interface_mtu", rename = "interfaceMTU")]
    pub interface_mtu: u32,
    #[serde(default = "default_lease_time")]
    pub lease_time_seconds: u32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_default_route: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advertised_routes: Vec<AdvertisedRoute>,
}

fn default_interface_mtu() -> u32 {
    9036
}
fn default_lease_time() -> u32 {
    3600
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertisedRoute {
    pub destination: String,
    pub gateway: String,
}
