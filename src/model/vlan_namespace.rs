//! VLANNamespace (wiring.githedgehog.com/v1beta1).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VLANNamespaceSpec {
    pub ranges: Vec<VlanRange>,
}

impl HedgehogSpec for VLANNamespaceSpec {
    const KIND: Kind = Kind::VLANNamespace;
}

/// An inclusive VLAN range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VlanRange {
    pub from: u16,
    pub to: u16,
}

impl VlanRange {
    pub fn contains(&self, vlan: u16) -> bool {
        self.from <= vlan && vlan <= self.to
    }
    pub fn overlaps(&self, other: &VlanRange) -> bool {
        self.from <= other.to && other.from <= self.to
    }
}
