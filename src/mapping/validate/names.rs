//! Names: lowercase RFC 1123 subdomains, unique per kind; label-sized names for connections,
//! switches and servers; at most 11 characters for VPCs, IPv4Namespaces and Externals (users pick
//! those, so they are reported, never shortened).

use std::collections::HashSet;

use crate::mapping::naming::{LABEL_NAME_MAX, SHORT_NAME_MAX, rfc1123_problem};
use crate::mapping::objects::{Draft, FabricObjects};
use crate::model::HedgehogSpec;

use super::Violations;

pub fn check(o: &FabricObjects, out: &mut Violations) {
    all(&o.vlan_namespaces, None, out);
    all(&o.ipv4_namespaces, Some(SHORT_NAME_MAX), out);
    all(&o.switch_groups, None, out);
    all(&o.switches, Some(LABEL_NAME_MAX), out);
    all(&o.servers, Some(LABEL_NAME_MAX), out);
    all(&o.connections, Some(LABEL_NAME_MAX), out);
    all(&o.vpcs, Some(SHORT_NAME_MAX), out);
    all(&o.externals, Some(SHORT_NAME_MAX), out);
    all(&o.vpc_attachments, None, out);
    all(&o.vpc_peerings, None, out);
    all(&o.external_attachments, None, out);
    all(&o.external_peerings, None, out);
    for vpc in &o.vpcs {
        if vpc.name.starts_with("ext.") {
            out.object(vpc, "a VPC name must not start with \"ext.\"; rename the VRF (or set its custom field hedgehog_name)".into());
        }
    }
}

fn all<S: HedgehogSpec>(drafts: &[Draft<S>], max: Option<usize>, out: &mut Violations) {
    let mut seen = HashSet::new();
    for draft in drafts {
        if !seen.insert(draft.name.as_str()) {
            out.object(
                draft,
                format!("another {} is also named {:?}; rename one of the NetBox objects or set its hedgehog_name custom field", S::KIND.as_str(), draft.name),
            );
        }
        if let Some(problem) = rfc1123_problem(&draft.name) {
            out.object(
                draft,
                format!("the name {:?} {problem}; rename the NetBox object or set its hedgehog_name custom field", draft.name),
            );
        }
        if let Some(max) = max.filter(|max| draft.name.len() > *max) {
            out.object(
                draft,
                format!(
                    "the name {:?} has {} characters, at most {max} are allowed for a {}; choose a shorter name (or set the hedgehog_name custom field)",
                    draft.name,
                    draft.name.len(),
                    S::KIND.as_str()
                ),
            );
        }
    }
}
