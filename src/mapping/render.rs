//! The whole pipeline: index the snapshot, build the typed objects, validate them, convert them
//! to sorted manifests with labels, annotations and sources.

use std::collections::BTreeMap;

use crate::config::FabricConfig;
use crate::model::{HedgehogSpec, Manifest, ObjectKey, to_manifest};
use crate::netbox::FabricSnapshot;

use super::index::Index;
use super::objects::{Draft, FabricObjects};
use super::sources::SourceRef;
use super::validate::{Violation, Violations, validate};
use super::{connections, defaulting, externals, labels, namespaces, servers, switches, vpcs};

/// A fabric's rendered objects, in apply order (kind, then name).
#[derive(Debug, Clone, Default)]
pub struct RenderedFabric {
    pub manifests: Vec<Manifest>,
    /// The NetBox objects each rendered object came from.
    pub sources: BTreeMap<ObjectKey, Vec<SourceRef>>,
    /// Things not rendered that did not block rendering (deprecated MCLAG, unmapped cables).
    pub warnings: Vec<Violation>,
}

impl RenderedFabric {
    /// The objects as YAML documents separated by `---`; byte-identical for equal input.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for manifest in &self.manifests {
            out.push_str("---\n");
            out.push_str(&manifest.to_yaml());
        }
        out
    }

    pub fn sources_of(&self, key: &ObjectKey) -> &[SourceRef] {
        self.sources.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Rendering failed validation: nothing of the fabric may be applied.
#[derive(Debug, Clone, thiserror::Error)]
pub struct RenderError {
    pub violations: Vec<Violation>,
    pub warnings: Vec<Violation>,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the fabric breaks {} admission rule(s); fix these NetBox objects:",
            self.violations.len()
        )?;
        for violation in &self.violations {
            write!(f, "\n  - {violation}")?;
        }
        Ok(())
    }
}

/// Renders and validates every object of `fabric` from its NetBox snapshot. Pure: no I/O.
pub fn render(
    fabric: &FabricConfig,
    snapshot: &FabricSnapshot,
) -> Result<RenderedFabric, RenderError> {
    let (rendered, violations) = render_all(fabric, snapshot);
    if violations.is_empty() {
        Ok(rendered)
    } else {
        Err(RenderError {
            violations,
            warnings: rendered.warnings,
        })
    }
}

/// Renders every object, valid or not, and returns the violations beside them: for callers
/// that hold back only the objects concerned. Nothing returned with a violation may be
/// published as it is.
pub(crate) fn render_all(
    fabric: &FabricConfig,
    snapshot: &FabricSnapshot,
) -> (RenderedFabric, Vec<Violation>) {
    let (objects, mut violations) = build(fabric, snapshot);
    validate(fabric, &objects, &mut violations);
    let mut rendered = manifests(fabric, &objects);
    rendered.warnings = violations.warnings;
    (rendered, violations.errors)
}

/// The manifests of typed objects, in apply order, without validating them.
pub fn manifests(fabric: &FabricConfig, objects: &FabricObjects) -> RenderedFabric {
    let mut rendered = RenderedFabric::default();
    let o = objects;
    emit(fabric, &o.vlan_namespaces, &mut rendered);
    emit(fabric, &o.ipv4_namespaces, &mut rendered);
    emit(fabric, &o.switch_groups, &mut rendered);
    emit(fabric, &o.switches, &mut rendered);
    emit(fabric, &o.servers, &mut rendered);
    emit(fabric, &o.connections, &mut rendered);
    emit(fabric, &o.vpcs, &mut rendered);
    emit(fabric, &o.externals, &mut rendered);
    emit(fabric, &o.vpc_attachments, &mut rendered);
    emit(fabric, &o.vpc_peerings, &mut rendered);
    emit(fabric, &o.external_attachments, &mut rendered);
    emit(fabric, &o.external_peerings, &mut rendered);
    // Each kind is already sorted by name and emitted in apply order; sorting again keeps
    // the promise independent of that.
    rendered.manifests.sort_by_key(Manifest::key);
    rendered
}

/// Builds the typed objects without validating them (violations found while reading NetBox
/// are returned too).
pub fn build(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> (FabricObjects, Violations) {
    let index = Index::build(fabric, snapshot);
    let mut violations = Violations::default();
    let mut names = switches::DeviceNames::new();
    let mut o = FabricObjects {
        vlan_namespaces: namespaces::render_vlan_namespaces(&index),
        ipv4_namespaces: namespaces::render_ipv4_namespaces(&index),
        switches: switches::render_switches(&index, &mut names, &mut violations),
        ..FabricObjects::default()
    };
    o.switch_groups = switches::render_switch_groups(&o.switches);
    o.servers = servers::render_servers(&index, &mut names);
    let (conns, facts) =
        connections::render_connections(&index, &o.switches, &names, &mut violations);
    o.connections = conns;
    let vpcs = vpcs::render_vpcs(&index, &mut violations);
    o.vpc_attachments = vpcs::render_vpc_attachments(&index, &facts, &vpcs.subnet_by_vlan);
    o.vpc_peerings = vpcs::render_vpc_peerings(&index, &vpcs);
    o.externals = externals::render_externals(&index);
    o.external_attachments =
        externals::render_external_attachments(&index, &facts, &names, &mut violations);
    o.external_peerings = externals::render_external_peerings(&index, &vpcs);
    o.vpcs = vpcs.vpcs;
    o.connection_facts = facts;
    defaulting::apply(&mut o);
    (o, violations)
}

fn emit<S: HedgehogSpec>(fabric: &FabricConfig, drafts: &[Draft<S>], out: &mut RenderedFabric) {
    for draft in drafts {
        let manifest = to_manifest(
            &draft.name,
            &draft.spec,
            labels::object_meta(fabric, &draft.sources),
        );
        out.sources.insert(
            ObjectKey {
                kind: S::KIND,
                name: draft.name.clone(),
            },
            draft.sources.clone(),
        );
        out.manifests.push(manifest);
    }
}
