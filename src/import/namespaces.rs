//! VLANNamespaces become VLAN groups; IPv4Namespaces become prefixes with the namespace role.

use serde_json::json;

use crate::netbox::types::Prefix;

use super::builder::{Builder, by_slug, choice, slug};
use super::input::Input;

pub(crate) fn import_vlan_namespaces(b: &mut Builder, input: &Input) {
    let name_field = b.mapping().custom_fields.name.clone();
    for ns in &input.vlan_namespaces {
        let ranges = ns.spec.ranges.iter().map(|r| [r.from, r.to]).collect();
        // The group's slug is the namespace's name; a name a slug cannot hold goes in `hedgehog_name`.
        let override_name = (slug(ns.name()) != ns.name()).then(|| json!(ns.name()));
        let fields = b.fields(&[(name_field.as_str(), override_name.unwrap_or_default())]);
        b.vlan_group(ns.name(), ranges, fields);
    }
}

pub(crate) fn import_ipv4_namespaces(b: &mut Builder, input: &Input) {
    let mapping = b.mapping();
    for ns in &input.ipv4_namespaces {
        for subnet in &ns.spec.subnets {
            let fields = b.fields(&[(
                mapping.custom_fields.ipv4_namespace.as_str(),
                json!(ns.name()),
            )]);
            let id = b.next_object_id();
            b.snapshot.prefixes.push(Prefix {
                id,
                prefix: subnet.clone(),
                status: choice("active"),
                role: by_slug(&mapping.ipv4_namespace_prefix_role),
                tags: b.tags(),
                custom_fields: fields,
                ..Prefix::default()
            });
        }
    }
}
