//! VPCPeering (vpc.githedgehog.com/v1beta1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VPCPeeringSpec {
    /// Each entry maps exactly two VPC names to the subnets they expose.
    pub permit: Vec<BTreeMap<String, PeeringSubnets>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

impl HedgehogSpec for VPCPeeringSpec {
    const KIND: Kind = Kind::VPCPeering;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringSubnets {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
}

impl VPCPeeringSpec {
    /// The VPC names the peering names anywhere, sorted and without repeats.
    pub fn vpcs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .permit
            .iter()
            .flat_map(|entry| entry.keys().map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
