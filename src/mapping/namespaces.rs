//! VLANNamespaces (VLAN groups) and IPv4Namespaces (prefixes with the namespace role).

use std::collections::BTreeMap;

use crate::model::vlan_namespace::VlanRange;
use crate::model::{IPv4NamespaceSpec, VLANNamespaceSpec};
use crate::netbox::types::Prefix;

use super::index::Index;
use super::objects::Draft;
use super::sources::SourceRef;

pub(crate) fn render_vlan_namespaces(index: &Index) -> Vec<Draft<VLANNamespaceSpec>> {
    let name_field = &index.mapping().custom_fields.name;
    let mut out: Vec<_> = index
        .snapshot
        .vlan_groups
        .iter()
        .filter(|g| index.in_fabric(&g.custom_fields))
        .map(|group| {
            let mut ranges: Vec<VlanRange> = group
                .vid_ranges
                .iter()
                .map(|[from, to]| VlanRange {
                    from: *from,
                    to: *to,
                })
                .collect();
            ranges.sort();
            let name = group
                .custom_fields
                .string(name_field)
                .unwrap_or_else(|| group.slug.clone());
            Draft::new(
                name,
                VLANNamespaceSpec { ranges },
                vec![SourceRef::of(group)],
            )
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub(crate) fn render_ipv4_namespaces(index: &Index) -> Vec<Draft<IPv4NamespaceSpec>> {
    let mapping = index.mapping();
    let mut namespaces: BTreeMap<String, Vec<&Prefix>> = BTreeMap::new();
    for prefix in &index.snapshot.prefixes {
        let role = prefix.role.as_ref().and_then(|r| r.slug.as_deref());
        if role != Some(mapping.ipv4_namespace_prefix_role.as_str())
            || !index.in_fabric(&prefix.custom_fields)
        {
            continue;
        }
        let namespace = prefix
            .custom_fields
            .string(&mapping.custom_fields.ipv4_namespace)
            .unwrap_or_else(|| "default".into());
        namespaces.entry(namespace).or_default().push(prefix);
    }
    namespaces
        .into_iter()
        .map(|(name, mut prefixes)| {
            // The fabric's defaulting sorts the subnets as strings; sources follow them.
            prefixes.sort_by(|a, b| a.prefix.cmp(&b.prefix));
            let subnets = prefixes.iter().map(|p| p.prefix.clone()).collect();
            let sources = prefixes.iter().map(|p| SourceRef::of(*p)).collect();
            Draft::new(name, IPv4NamespaceSpec { subnets }, sources)
        })
        .collect()
}
