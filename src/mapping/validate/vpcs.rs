//! VPC rules: subnets, gateways, VLANs, DHCP, permit lists, static routes and the cross-object
//! checks against namespaces and other VPCs.

use std::collections::{HashMap, HashSet};

use ipnet::Ipv4Net;

use crate::config::FabricSettings;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::vpc::VPCSubnet;
use crate::model::{VLANNamespaceSpec, VPCSpec};

use super::{Violations, addr, cidr, overlaps};

pub fn check(settings: &FabricSettings, o: &FabricObjects, out: &mut Violations) {
    let vlan_namespaces = by_name(&o.vlan_namespaces);
    let ipv4_namespaces = by_name(&o.ipv4_namespaces);
    let vpc_names: HashSet<&str> = o.vpcs.iter().map(|v| v.name.as_str()).collect();
    // (namespace, vlan) → vpc, and per IPv4 namespace the subnets seen so far.
    let mut vlans: HashMap<(&str, u16), &str> = HashMap::new();
    let mut subnets_by_ns: HashMap<&str, Vec<(Ipv4Net, &str)>> = HashMap::new();
    for vpc in &o.vpcs {
        let spec = &vpc.spec;
        check_mode_and_size(vpc, out);
        let ipv4_ns = spec.ipv4_namespace.as_deref().unwrap_or("default");
        let vlan_ns = spec.vlan_namespace.as_deref().unwrap_or("default");
        let ns4 = ipv4_namespaces.get(ipv4_ns);
        let nsv = vlan_namespaces.get(vlan_ns);
        if ns4.is_none() {
            out.object(vpc, format!("IPv4 namespace {ipv4_ns} does not exist: add prefixes with role hedgehog-ipv4-namespace for it, or fix the VRF's custom field hedgehog_ipv4_namespace"));
        }
        if nsv.is_none() {
            out.object(vpc, format!("VLAN namespace {vlan_ns} does not exist: create the VLAN group, or fix the VRF's custom field hedgehog_vlan_namespace"));
        }
        let ns_nets: Vec<Ipv4Net> = ns4
            .map(|n| n.spec.subnets.iter().filter_map(|s| cidr(s)).collect())
            .unwrap_or_default();
        let mut own_vlans: HashMap<u16, &str> = HashMap::new();
        let mut own_nets: Vec<(Ipv4Net, &str)> = Vec::new();
        for (name, subnet) in &spec.subnets {
            let Some(net) = check_subnet(settings, vpc, name, subnet, &vpc_names, out) else {
                continue;
            };
            if ns4.is_some() && !ns_nets.iter().any(|n| n.contains(&net)) {
                out.part(vpc, name, format!("subnet {net} is not inside any subnet of IPv4 namespace {ipv4_ns}; add a covering namespace prefix or change the prefix"));
            }
            if let Some((_, other)) = own_nets.iter().find(|(n, _)| overlaps(n, &net)) {
                out.part(
                    vpc,
                    name,
                    format!("subnet {net} overlaps subnet {other} of the same VPC; change one of the prefixes"),
                );
            }
            own_nets.push((net, name));
            if let Some(other) = subnets_by_ns
                .get(ipv4_ns)
                .and_then(|list| list.iter().find(|(n, _)| overlaps(n, &net)))
            {
                out.part(
                    vpc,
                    name,
                    format!(
                        "subnet {net} overlaps a subnet of VPC {} in the same IPv4 namespace; change one of the prefixes, or put the VRFs in different namespaces",
                        other.1
                    ),
                );
            }
            if let Some(vlan) = subnet.vlan {
                let own = own_vlans.insert(vlan, name);
                let elsewhere = vlans.insert((vlan_ns, vlan), &vpc.name);
                check_subnet_vlan(vpc, name, vlan, (vlan_ns, nsv), own, elsewhere, out);
            }
        }
        subnets_by_ns
            .entry(ipv4_ns)
            .or_default()
            .extend(own_nets.iter().map(|(n, _)| (*n, vpc.name.as_str())));
        check_permits_and_routes(vpc, out);
    }
}

/// The VPC's mode is supported and it has 1 to 20 subnets.
fn check_mode_and_size(vpc: &Draft<VPCSpec>, out: &mut Violations) {
    let spec = &vpc.spec;
    if !matches!(spec.mode.as_str(), "" | "l3vni") {
        out.object(vpc, format!("VPC mode {:?} is not supported (use empty for L2VNI, or l3vni); fix custom field hedgehog_vpc_mode", spec.mode));
    }
    if spec.subnets.is_empty() || spec.subnets.len() > 20 {
        out.object(
            vpc,
            format!(
                "a VPC needs 1 to 20 subnets (prefixes in the VRF with a VLAN), this one has {}",
                spec.subnets.len()
            ),
        );
    }
}

/// A subnet's VLAN: its own within the VPC, inside the VLAN namespace, and not another VPC's.
fn check_subnet_vlan(
    vpc: &Draft<VPCSpec>,
    name: &str,
    vlan: u16,
    (vlan_ns, nsv): (&str, Option<&&Draft<VLANNamespaceSpec>>),
    same_vpc: Option<&str>,
    other_vpc: Option<&str>,
    out: &mut Violations,
) {
    if let Some(other) = same_vpc {
        out.part(
            vpc,
            name,
            format!(
                "VLAN {vlan} is used by subnets {other} and {name} of the same VPC; give each prefix its own VLAN"
            ),
        );
    }
    if let Some(nsv) = nsv
        && !nsv.spec.ranges.iter().any(|r| r.contains(vlan))
    {
        out.part(vpc, name, format!("VLAN {vlan} is outside VLAN namespace {vlan_ns}; use a VLAN inside the group's ranges"));
    }
    if let Some(other) = other_vpc
        && other != vpc.name
    {
        out.part(
            vpc,
            name,
            format!(
                "VLAN {vlan} is already used by VPC {other} in VLAN namespace {vlan_ns}; give the prefix another VLAN"
            ),
        );
    }
}

/// Permit lists name at least two of the VPC's subnets, each once; static routes are
/// canonical prefixes with a next hop.
fn check_permits_and_routes(vpc: &Draft<VPCSpec>, out: &mut Violations) {
    let spec = &vpc.spec;
    let permit_fix = "fix the VRF's custom field hedgehog_vpc_permit";
    let routes_fix = "fix the VRF's custom field hedgehog_vpc_static_routes";
    for (i, list) in spec.permit.iter().enumerate() {
        let mut seen = HashSet::new();
        if list.len() < 2 {
            out.object(
                vpc,
                format!(
                    "permit list {} must name at least 2 subnets; {permit_fix}",
                    i + 1
                ),
            );
        }
        for subnet in list {
            if !spec.subnets.contains_key(subnet) {
                out.object(
                    vpc,
                    format!(
                        "permit list {} names subnet {subnet}, which the VPC does not have; {permit_fix}",
                        i + 1
                    ),
                );
            }
            if !seen.insert(subnet) {
                out.object(
                    vpc,
                    format!(
                        "permit list {} names subnet {subnet} twice; {permit_fix}",
                        i + 1
                    ),
                );
            }
        }
    }
    for route in &spec.static_routes {
        if cidr(&route.prefix).is_none_or(|n| n.trunc() != n) {
            out.object(
                vpc,
                format!(
                    "static route prefix {} is not a canonical IPv4 prefix; {routes_fix}",
                    route.prefix
                ),
            );
        }
        if route.next_hops.is_empty() {
            out.object(
                vpc,
                format!(
                    "static route {} needs at least one next hop; {routes_fix}",
                    route.prefix
                ),
            );
        }
    }
}

fn check_subnet(
    settings: &FabricSettings,
    vpc: &Draft<VPCSpec>,
    name: &str,
    subnet: &VPCSubnet,
    vpc_names: &HashSet<&str>,
    out: &mut Violations,
) -> Option<Ipv4Net> {
    let Some(net) = cidr(&subnet.subnet) else {
        out.part(
            vpc,
            name,
            format!("{} is not an IPv4 prefix", subnet.subnet),
        );
        return None;
    };
    if net.prefix_len() > 30 {
        out.part(
            vpc,
            name,
            format!("subnet {net} is too small: VPC subnets are /30 or larger"),
        );
    }
    if let Some(r) = settings.reserved_subnets.iter().find(|r| overlaps(&net, r)) {
        out.part(
            vpc,
            name,
            format!(
                "subnet {net} overlaps the fabric's reserved subnet {r}; choose another prefix"
            ),
        );
    }
    let first_host = u32::from(net.network()).saturating_add(1).into();
    let gateway = match subnet.gateway.as_deref() {
        None => Some(first_host),
        Some(text) => match addr(text) {
            Some(gw) if net.contains(&gw) && gw != net.network() && gw != net.broadcast() => {
                Some(gw)
            }
            _ => {
                out.part(vpc, name, format!("gateway {text} is not a host address inside {net}; fix the IP address with role anycast"));
                None
            }
        },
    };
    if subnet.vlan.unwrap_or(0) == 0 && !subnet.host_bgp {
        out.part(
            vpc,
            name,
            "the subnet needs a VLAN: assign a VLAN to the prefix".into(),
        );
    }
    super::dhcp::check(vpc, name, subnet, net, gateway, vpc_names, out);
    Some(net)
}
