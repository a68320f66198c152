//! The typed objects of one fabric while they are rendered and validated, each with the NetBox
//! objects it came from.

use std::collections::BTreeMap;

use crate::model::{
    ConnectionSpec, ConnectionType, ExternalAttachmentSpec, ExternalPeeringSpec, ExternalSpec,
    IPv4NamespaceSpec, ServerSpec, SwitchGroupSpec, SwitchSpec, VLANNamespaceSpec,
    VPCAttachmentSpec, VPCPeeringSpec, VPCSpec,
};

use super::sources::SourceRef;

/// One typed object with its NetBox sources.
#[derive(Debug, Clone)]
pub struct Draft<S> {
    pub name: String,
    pub spec: S,
    /// The objects it is rendered from (all of one NetBox type), reported and annotated.
    pub sources: Vec<SourceRef>,
    /// Finer-grained sources by part (a VPC subnet's prefix, keyed by subnet name), for
    /// violations that concern one part only.
    pub parts: BTreeMap<String, SourceRef>,
}

impl<S> Draft<S> {
    pub fn new(name: impl Into<String>, spec: S, sources: Vec<SourceRef>) -> Self {
        let mut sources = sources;
        super::sources::normalise(&mut sources);
        Self {
            name: name.into(),
            spec,
            sources,
            parts: BTreeMap::new(),
        }
    }

    /// The sources to blame for `part`, falling back to the whole object's.
    pub(crate) fn blame(&self, part: &str) -> Vec<SourceRef> {
        self.parts
            .get(part)
            .map_or_else(|| self.sources.clone(), |s| vec![s.clone()])
    }
}

/// Extra facts about a rendered connection that later steps need.
#[derive(Debug, Clone)]
pub struct ConnectionFacts {
    pub kind: ConnectionType,
    /// Switch-side interfaces whose VLANs attach VPCs (LAG interfaces when bundled).
    pub vlan_interfaces: Vec<u64>,
    /// Switch interface ids the connection uses.
    pub switch_interfaces: Vec<u64>,
}

/// All objects of a fabric.
#[derive(Debug, Clone, Default)]
pub struct FabricObjects {
    pub vlan_namespaces: Vec<Draft<VLANNamespaceSpec>>,
    pub ipv4_namespaces: Vec<Draft<IPv4NamespaceSpec>>,
    pub switch_groups: Vec<Draft<SwitchGroupSpec>>,
    pub switches: Vec<Draft<SwitchSpec>>,
    pub servers: Vec<Draft<ServerSpec>>,
    pub connections: Vec<Draft<ConnectionSpec>>,
    pub connection_facts: BTreeMap<String, ConnectionFacts>,
    pub vpcs: Vec<Draft<VPCSpec>>,
    pub externals: Vec<Draft<ExternalSpec>>,
    pub vpc_attachments: Vec<Draft<VPCAttachmentSpec>>,
    pub vpc_peerings: Vec<Draft<VPCPeeringSpec>>,
    pub external_attachments: Vec<Draft<ExternalAttachmentSpec>>,
    pub external_peerings: Vec<Draft<ExternalPeeringSpec>>,
}

/// A name → object lookup over one kind.
pub(crate) fn by_name<S>(drafts: &[Draft<S>]) -> BTreeMap<&str, &Draft<S>> {
    drafts.iter().map(|d| (d.name.as_str(), d)).collect()
}
