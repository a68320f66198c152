//! External, VPCPeering and ExternalPeering rules.

use std::collections::BTreeMap;

use crate::config::FabricSettings;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::external::ExternalStatic;
use crate::model::{ExternalSpec, VPCSpec};

use super::{Violations, cidr, overlaps};

pub fn check(settings: &FabricSettings, o: &FabricObjects, out: &mut Violations) {
    let vpcs = by_name(&o.vpcs);
    let externals = by_name(&o.externals);
    check_externals(o, out);
    check_vpc_peerings(settings, o, &vpcs, out);
    check_external_peerings(o, &vpcs, &externals, out);
}

/// Externals: their IPv4 namespace exists; a static one has valid prefixes and no
/// communities, a BGP one valid communities.
fn check_externals(o: &FabricObjects, out: &mut Violations) {
    let ipv4_namespaces = by_name(&o.ipv4_namespaces);
    for ext in &o.externals {
        let s = &ext.spec;
        let ns = s.ipv4_namespace.as_deref().unwrap_or("default");
        if !ipv4_namespaces.contains_key(ns) {
            out.object(ext, format!("IPv4 namespace {ns} does not exist: add prefixes with role hedgehog-ipv4-namespace for it, or fix the VRF's custom field hedgehog_ipv4_namespace"));
        }
        match &s.static_external {
            Some(st) => {
                check_static_external(ext, st, out);
            }
            None => {
                for (value, field) in [
                    (&s.inbound_community, "hedgehog_inbound_community"),
                    (&s.outbound_community, "hedgehog_outbound_community"),
                ] {
                    match value {
                        // Both communities are optional on a BGP external.
                        None => {}
                        Some(c) if is_community(c) => {}
                        Some(c) => out.object(ext, format!("community {c:?} must be A:B with both parts 0–65535 in plain decimal; fix custom field {field}")),
                    }
                }
            }
        }
    }
}

fn check_static_external(ext: &Draft<ExternalSpec>, st: &ExternalStatic, out: &mut Violations) {
    let s = &ext.spec;
    if s.inbound_community.is_some() || s.outbound_community.is_some() {
        out.object(
            ext,
            "a static external has no BGP communities; clear the community custom fields".into(),
        );
    }
    if st.prefixes.is_empty() {
        out.object(
            ext,
            "a static external needs at least one prefix (custom field hedgehog_static_prefixes)"
                .into(),
        );
    }
    let nets: Vec<_> = st.prefixes.iter().map(|p| (p, cidr(p))).collect();
    for (i, (text, net)) in nets.iter().enumerate() {
        match net {
                None => out.object(ext, format!("static prefix {text} is not an IPv4 prefix; fix custom field hedgehog_static_prefixes")),
                Some(n)
                    if nets[i + 1..]
                        .iter()
                        .any(|(_, b)| b.is_some_and(|b| overlaps(n, &b))) =>
                {
                    out.object(
                        ext,
                        format!("static prefix {text} overlaps another static prefix; fix custom field hedgehog_static_prefixes"),
                    );
                }
                _ => {}
            }
    }
}

/// VPC peerings: allowed in the fabric, between two existing VPCs of the same namespaces,
/// permitting subnets those VPCs have.
fn check_vpc_peerings(
    settings: &FabricSettings,
    o: &FabricObjects,
    vpcs: &BTreeMap<&str, &Draft<VPCSpec>>,
    out: &mut Violations,
) {
    for peering in &o.vpc_peerings {
        if settings.vpc_peering_disabled {
            out.object(peering, "VPC peering is disabled in this fabric; remove the route targets the two VRFs share".into());
        }
        if peering
            .spec
            .remote
            .as_deref()
            .is_some_and(|r| !r.is_empty())
        {
            out.object(peering, "the deprecated field remote must be empty".into());
        }
        let names = peering.spec.vpcs();
        if names.len() != 2 || peering.spec.permit.iter().any(|e| e.len() != 2) {
            out.object(peering, "a VPC peering names exactly 2 VPCs".into());
            continue;
        }
        let found: Vec<_> = names.iter().filter_map(|n| vpcs.get(n)).collect();
        if found.len() != 2 {
            out.object(peering, "both VPCs of a peering must exist".into());
            continue;
        }
        if found[0].spec.ipv4_namespace != found[1].spec.ipv4_namespace
            || found[0].spec.vlan_namespace != found[1].spec.vlan_namespace
        {
            out.object(
                peering,
                format!(
                    "VPCs {} and {} are in different namespaces and cannot peer; give both VRFs the same hedgehog_ipv4_namespace and hedgehog_vlan_namespace, or remove the route targets they share",
                    names[0], names[1]
                ),
            );
        }
        for entry in &peering.spec.permit {
            for (vpc, subnets) in entry {
                for subnet in &subnets.subnets {
                    if vpcs
                        .get(vpc.as_str())
                        .is_some_and(|v| !v.spec.subnets.contains_key(subnet))
                    {
                        out.object(peering, format!("VPC {vpc} has no subnet {subnet}"));
                    }
                }
            }
        }
    }
}

/// External peerings: an existing VPC and external in the same IPv4 namespace, permitting
/// subnets the VPC has and valid prefixes.
fn check_external_peerings(
    o: &FabricObjects,
    vpcs: &BTreeMap<&str, &Draft<VPCSpec>>,
    externals: &BTreeMap<&str, &Draft<ExternalSpec>>,
    out: &mut Violations,
) {
    for peering in &o.external_peerings {
        let permit = &peering.spec.permit;
        let (Some(vpc), Some(ext)) = (
            vpcs.get(permit.vpc.name.as_str()),
            externals.get(permit.external.name.as_str()),
        ) else {
            out.object(
                peering,
                format!(
                    "VPC {} and external {} must both exist",
                    permit.vpc.name, permit.external.name
                ),
            );
            continue;
        };
        let vpc_ns = vpc.spec.ipv4_namespace.as_deref().unwrap_or("default");
        let ext_ns = ext.spec.ipv4_namespace.as_deref().unwrap_or("default");
        if vpc_ns != ext_ns {
            out.object(peering, format!("VPC {} (IPv4 namespace {vpc_ns}) and external {} ({ext_ns}) are in different IPv4 namespaces; give both VRFs the same hedgehog_ipv4_namespace, or remove the route target the VPC imports", vpc.name, ext.name));
        }
        for subnet in &permit.vpc.subnets {
            if !vpc.spec.subnets.contains_key(subnet) {
                out.object(peering, format!("VPC {} has no subnet {subnet}", vpc.name));
            }
        }
        for prefix in &permit.external.prefixes {
            if cidr(&prefix.prefix).is_none() {
                out.object(peering, format!("permitted prefix {:?} is not an IPv4 prefix; fix custom field hedgehog_permit_prefixes", prefix.prefix));
            }
        }
    }
}

/// `A:B`, each part 0–65535 written in plain decimal without leading zeros, as the fabric's
/// pattern requires.
fn is_community(text: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p == "0" || !p.starts_with('0'))
            && p.parse::<u16>().is_ok()
    };
    text.split_once(':')
        .is_some_and(|(a, b)| part(a) && part(b))
}
