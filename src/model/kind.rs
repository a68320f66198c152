//! The Hedgehog kinds: API group, plural, and the order in which they must be applied
//! (what an object references must exist first).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    // Declared in apply order: `Ord` follows it.
    VLANNamespace,
    IPv4Namespace,
    SwitchGroup,
    Switch,
    Server,
    Connection,
    VPC,
    External,
    VPCAttachment,
    VPCPeering,
    ExternalAttachment,
    ExternalPeering,
    // Read-only kinds: never rendered, read for validation and health.
    SwitchProfile,
    ServerProfile,
    Agent,
}

pub const WIRING_GROUP: &str = "wiring.githedgehog.com";
pub const VPC_GROUP: &str = "vpc.githedgehog.com";
pub const AGENT_GROUP: &str = "agent.githedgehog.com";
pub const VERSION: &str = "v1beta1";

impl Kind {
    /// The twelve kinds the sidecar renders, in apply order.
    pub const RENDERED: [Kind; 12] = [
        Kind::VLANNamespace,
        Kind::IPv4Namespace,
        Kind::SwitchGroup,
        Kind::Switch,
        Kind::Server,
        Kind::Connection,
        Kind::VPC,
        Kind::External,
        Kind::VPCAttachment,
        Kind::VPCPeering,
        Kind::ExternalAttachment,
        Kind::ExternalPeering,
    ];

    /// The read-only kinds: never rendered, read for validation and health.
    const READ_ONLY: [Kind; 3] = [Kind::SwitchProfile, Kind::ServerProfile, Kind::Agent];

    /// The rendered kinds in apply order, then the read-only ones.
    pub const ALL: [Kind; 15] = {
        let mut all = [Kind::Agent; 15];
        let mut i = 0;
        while i < all.len() {
            all[i] = if i < Self::RENDERED.len() {
                Self::RENDERED[i]
            } else {
                Self::READ_ONLY[i - Self::RENDERED.len()]
            };
            i += 1;
        }
        all
    };

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VLANNamespace => "VLANNamespace",
            Kind::IPv4Namespace => "IPv4Namespace",
            Kind::SwitchGroup => "SwitchGroup",
            Kind::Switch => "Switch",
            Kind::Server => "Server",
            Kind::Connection => "Connection",
            Kind::VPC => "VPC",
            Kind::External => "External",
            Kind::VPCAttachment => "VPCAttachment",
            Kind::VPCPeering => "VPCPeering",
            Kind::ExternalAttachment => "ExternalAttachment",
            Kind::ExternalPeering => "ExternalPeering",
            Kind::SwitchProfile => "SwitchProfile",
            Kind::ServerProfile => "ServerProfile",
            Kind::Agent => "Agent",
        }
    }

    pub fn from_kind_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::VLANNamespace
            | Kind::SwitchGroup
            | Kind::Switch
            | Kind::Server
            | Kind::Connection
            | Kind::SwitchProfile
            | Kind::ServerProfile => WIRING_GROUP,
            Kind::Agent => AGENT_GROUP,
            _ => VPC_GROUP,
        }
    }

    pub fn api_version(self) -> String {
        format!("{}/{VERSION}", self.group())
    }

    /// The resource's plural name, as in the CRD (`switches`, `vpcattachments`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::VLANNamespace => "vlannamespaces",
            Kind::IPv4Namespace => "ipv4namespaces",
            Kind::SwitchGroup => "switchgroups",
            Kind::Switch => "switches",
            Kind::Server => "servers",
            Kind::Connection => "connections",
            Kind::VPC => "vpcs",
            Kind::External => "externals",
            Kind::VPCAttachment => "vpcattachments",
            Kind::VPCPeering => "vpcpeerings",
            Kind::ExternalAttachment => "externalattachments",
            Kind::ExternalPeering => "externalpeerings",
            Kind::SwitchProfile => "switchprofiles",
            Kind::ServerProfile => "serverprofiles",
            Kind::Agent => "agents",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_order_puts_references_first() {
        assert!(Kind::VLANNamespace < Kind::Switch);
        assert!(Kind::Switch < Kind::Connection);
        assert!(Kind::VPC < Kind::VPCAttachment);
        assert!(Kind::External < Kind::ExternalPeering);
        let mut sorted = Kind::RENDERED;
        sorted.sort();
        assert_eq!(sorted, Kind::RENDERED);
    }

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_kind_name(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::from_kind_name("Gateway"), None);
    }

    #[test]
    fn all_is_the_rendered_kinds_then_the_read_only_ones_each_once() {
        assert_eq!(Kind::ALL[..12], Kind::RENDERED);
        assert_eq!(
            Kind::ALL[12..],
            [Kind::SwitchProfile, Kind::ServerProfile, Kind::Agent]
        );
        let distinct: std::collections::BTreeSet<Kind> = Kind::ALL.into_iter().collect();
        assert_eq!(distinct.len(), Kind::ALL.len());
    }
}
