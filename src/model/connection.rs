//! Connection (wiring.githedgehog.com/v1beta1): exactly one of the type keys is set.

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::{HedgehogSpec, is_false};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbundled: Option<Unbundled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundled: Option<Bundled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eslag: Option<Bundled>,
    /// Deprecated: rendered only when the fabric's configuration asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mclag: Option<Bundled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mclag_domain: Option<MclagDomain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fabric: Option<Fabric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<Mesh>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Gateway>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_loopback: Option<VpcLoopback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_external: Option<StaticExternal>,
}

impl HedgehogSpec for ConnectionSpec {
    const KIND: Kind = Kind::Connection;
}

/// The connection types, with their kebab-case names (as in the fabric's type label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectionType {
    Unbundled,
    Bundled,
    Eslag,
    Mclag,
    MclagDomain,
    Fabric,
    Mesh,
    Gateway,
    VpcLoopback,
    External,
    StaticExternal,
}

impl ConnectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Unbundled => "unbundled",
            ConnectionType::Bundled => "bundled",
            ConnectionType::Eslag => "eslag",
            ConnectionType::Mclag => "mclag",
            ConnectionType::MclagDomain => "mclag-domain",
            ConnectionType::Fabric => "fabric",
            ConnectionType::Mesh => "mesh",
            ConnectionType::Gateway => "gateway",
            ConnectionType::VpcLoopback => "vpc-loopback",
            ConnectionType::External => "external",
            ConnectionType::StaticExternal => "static-external",
        }
    }

    /// Server-facing types, the ones a VPCAttachment may reference.
    pub fn is_server_facing(self) -> bool {
        matches!(
            self,
            ConnectionType::Unbundled
                | ConnectionType::Bundled
                | ConnectionType::Eslag
                | ConnectionType::Mclag
        )
    }
}

/// One end of a link: `<device>/<port>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub port: String,
}

/// A link end that may carry a /31 (fabric, mesh, gateway).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPort {
    pub port: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLink {
    pub server: Port,
    pub switch: Port,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unbundled {
    pub link: ServerLink,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// Bundled, ESLAG and MCLAG connections share one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundled {
    pub links: Vec<ServerLink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub fallback: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchPair {
    pub switch1: Port,
    pub switch2: Port,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MclagDomain {
    pub peer_links: Vec<SwitchPair>,
    pub session_links: Vec<SwitchPair>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FabricLink {
    pub spine: IpPort,
    pub leaf: IpPort,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fabric {
    pub links: Vec<FabricLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshLink {
    pub leaf1: IpPort,
    pub leaf2: IpPort,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mesh {
    pub links: Vec<MeshLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayLink {
    pub switch: IpPort,
    pub gateway: IpPort,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    pub links: Vec<GatewayLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcLoopback {
    pub links: Vec<SwitchPair>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalSwitchPort {
    pub switch: Port,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct External {
    pub link: ExternalSwitchPort,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticExternalSwitch {
    pub port: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticExternalLink {
    pub switch: StaticExternalSwitch,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticExternal {
    pub link: StaticExternalLink,
    #[serde(rename = "withinVPC", default, skip_serializing_if = "Option::is_none")]
    pub within_vpc: Option<String>,
}

impl ConnectionSpec {
    /// The types that are set (a valid connection has exactly one).
    pub fn types(&self) -> Vec<ConnectionType> {
        let mut out = Vec::new();
        let mut add = |set: bool, t| {
            if set {
                out.push(t)
            }
        };
        add(self.unbundled.is_some(), ConnectionType::Unbundled);
        add(self.bundled.is_some(), ConnectionType::Bundled);
        add(self.eslag.is_some(), ConnectionType::Eslag);
        add(self.mclag.is_some(), ConnectionType::Mclag);
        add(self.mclag_domain.is_some(), ConnectionType::MclagDomain);
        add(self.fabric.is_some(), ConnectionType::Fabric);
        add(self.mesh.is_some(), ConnectionType::Mesh);
        add(self.gateway.is_some(), ConnectionType::Gateway);
        add(self.vpc_loopback.is_some(), ConnectionType::VpcLoopback);
        add(self.external.is_some(), ConnectionType::External);
        add(
            self.static_external.is_some(),
            ConnectionType::StaticExternal,
        );
        out
    }

    pub fn connection_type(&self) -> Option<ConnectionType> {
        match self.types().as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The server-facing links of unbundled, bundled, eslag and mclag connections.
    pub fn server_links(&self) -> Vec<&ServerLink> {
        if let Some(u) = &self.unbundled {
            return vec![&u.link];
        }
        [&self.bundled, &self.eslag, &self.mclag]
            .into_iter()
            .flatten()
            .flat_map(|b| b.links.iter())
            .collect()
    }

    /// Every switch port reference (`<switch>/<port>`) the connection uses.
    pub fn switch_ports(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .server_links()
            .into_iter()
            .map(|l| l.switch.port.as_str())
            .collect();
        if let Some(f) = &self.fabric {
            for l in &f.links {
                out.extend([l.spine.port.as_str(), l.leaf.port.as_str()]);
            }
        }
        if let Some(m) = &self.mesh {
            for l in &m.links {
                out.extend([l.leaf1.port.as_str(), l.leaf2.port.as_str()]);
            }
        }
        if let Some(g) = &self.gateway {
            out.extend(g.links.iter().map(|l| l.switch.port.as_str()));
        }
        for pairs in [
            self.vpc_loopback.as_ref().map(|v| &v.links),
            self.mclag_domain.as_ref().map(|d| &d.peer_links),
            self.mclag_domain.as_ref().map(|d| &d.session_links),
        ]
        .into_iter()
        .flatten()
        {
            for l in pairs {
                out.extend([l.switch1.port.as_str(), l.switch2.port.as_str()]);
            }
        }
        if let Some(e) = &self.external {
            out.push(&e.link.switch.port);
        }
        if let Some(s) = &self.static_external {
            out.push(&s.link.switch.port);
        }
        out
    }

    /// Names of the switches the connection touches, in link order, without repeats.
    pub fn switch_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for port in self.switch_ports() {
            let device = port.split_once('/').map_or(port, |(d, _)| d);
            if !out.contains(&device) {
                out.push(device);
            }
        }
        out
    }
}
