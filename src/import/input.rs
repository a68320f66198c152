//! The import's input, read into the typed Hedgehog kinds and sorted by name, so every step
//! sees the objects in the same order on every run.

use crate::model::{
    ConnectionSpec, ExternalAttachmentSpec, ExternalPeeringSpec, ExternalSpec, HedgehogSpec,
    IPv4NamespaceSpec, Kind, Manifest, ObjectKey, ServerSpec, SwitchSpec, VLANNamespaceSpec,
    VPCAttachmentSpec, VPCPeeringSpec, VPCSpec, from_manifest,
};

use super::problems::Problems;

/// One input object of kind `S`.
#[derive(Debug, Clone)]
pub(crate) struct Typed<S> {
    pub key: ObjectKey,
    pub spec: S,
}

impl<S> Typed<S> {
    pub fn name(&self) -> &str {
        &self.key.name
    }
}

#[derive(Debug, Default)]
pub(crate) struct Input {
    pub vlan_namespaces: Vec<Typed<VLANNamespaceSpec>>,
    pub ipv4_namespaces: Vec<Typed<IPv4NamespaceSpec>>,
    /// SwitchGroups hold nothing but their name.
    pub switch_groups: Vec<ObjectKey>,
    pub switches: Vec<Typed<SwitchSpec>>,
    pub servers: Vec<Typed<ServerSpec>>,
    pub connections: Vec<Typed<ConnectionSpec>>,
    pub vpcs: Vec<Typed<VPCSpec>>,
    pub externals: Vec<Typed<ExternalSpec>>,
    pub vpc_attachments: Vec<Typed<VPCAttachmentSpec>>,
    pub vpc_peerings: Vec<Typed<VPCPeeringSpec>>,
    pub external_attachments: Vec<Typed<ExternalAttachmentSpec>>,
    pub external_peerings: Vec<Typed<ExternalPeeringSpec>>,
    /// Documents of kinds the import does not map (`Kind/name`), with the reason.
    pub skipped: Vec<(String, &'static str)>,
}

impl Input {
    /// Reads every manifest into its kind; a spec that does not parse is an error of its object.
    pub fn read(manifests: &[Manifest], problems: &mut Problems) -> Input {
        let mut input = Input::default();
        let mut sorted: Vec<&Manifest> = manifests.iter().collect();
        sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for manifest in sorted {
            let Some(kind) = manifest.kind() else {
                input.skipped.push((
                    format!("{}/{}", manifest.kind, manifest.metadata.name),
                    "not one of the Hedgehog kinds the sidecar manages",
                ));
                continue;
            };
            let key = ObjectKey {
                kind,
                name: manifest.metadata.name.clone(),
            };
            match kind {
                Kind::VLANNamespace => push(&mut input.vlan_namespaces, manifest, key, problems),
                Kind::IPv4Namespace => push(&mut input.ipv4_namespaces, manifest, key, problems),
                Kind::SwitchGroup => input.switch_groups.push(key),
                Kind::Switch => push(&mut input.switches, manifest, key, problems),
                Kind::Server => push(&mut input.servers, manifest, key, problems),
                Kind::Connection => push(&mut input.connections, manifest, key, problems),
                Kind::VPC => push(&mut input.vpcs, manifest, key, problems),
                Kind::External => push(&mut input.externals, manifest, key, problems),
                Kind::VPCAttachment => push(&mut input.vpc_attachments, manifest, key, problems),
                Kind::VPCPeering => push(&mut input.vpc_peerings, manifest, key, problems),
                Kind::ExternalAttachment => {
                    push(&mut input.external_attachments, manifest, key, problems)
                }
                Kind::ExternalPeering => {
                    push(&mut input.external_peerings, manifest, key, problems)
                }
                Kind::SwitchProfile | Kind::ServerProfile | Kind::Agent => input.skipped.push((
                    key.to_string(),
                    "shipped with or maintained by the fabric, not modelled in NetBox",
                )),
            }
        }
        input
    }
}

impl Input {
    /// Does `listed` name exactly every subnet of the input's VPC `vpc` (in any order)?
    pub(crate) fn names_all_subnets(&self, vpc: &str, listed: &[String]) -> bool {
        let mut listed: Vec<&String> = listed.iter().collect();
        listed.sort();
        let all: Vec<&String> = self
            .vpcs
            .iter()
            .find(|v| v.name() == vpc)
            .map(|v| v.spec.subnets.keys().collect())
            .unwrap_or_default();
        listed == all
    }
}

fn push<S: HedgehogSpec>(
    list: &mut Vec<Typed<S>>,
    manifest: &Manifest,
    key: ObjectKey,
    problems: &mut Problems,
) {
    match from_manifest::<S>(manifest) {
        Some(Ok(spec)) => list.push(Typed { key, spec }),
        Some(Err(error)) => problems.error(&key, format!("its spec does not parse: {error}")),
        None => problems.error(&key, "its kind does not match its spec type"),
    }
}
