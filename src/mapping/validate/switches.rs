//! Switch rules: required fields per validation level, ASN ranges, management/protocol/VTEP
//! addresses, redundancy, namespaces and groups.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use crate::config::FabricSettings;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::vlan_namespace::VlanRange;
use crate::model::{SwitchSpec, VLANNamespaceSpec};

use super::{Violations, addr, cidr};

/// Addresses and ASNs already taken, and by which switch.
#[derive(Default)]
struct Taken<'a> {
    leaf_asns: HashMap<u32, &'a str>,
    ips: HashMap<Ipv4Addr, &'a str>,
    protocol_ips: HashMap<Ipv4Addr, &'a str>,
    vtep_ips: HashMap<Ipv4Addr, &'a str>,
}

pub fn check(settings: &FabricSettings, complete: bool, o: &FabricObjects, out: &mut Violations) {
    let namespaces = by_name(&o.vlan_namespaces);
    let groups = by_name(&o.switch_groups);
    let mut taken = Taken::default();
    for sw in &o.switches {
        check_role_and_profile(sw, out);
        if complete {
            check_complete(sw, out);
        }
        check_asn(settings, sw, &mut taken, out);
        check_management_ip(settings, sw, &mut taken, out);
        check_loopbacks(settings, sw, &mut taken, out);
        check_redundancy(sw, out);
        check_namespaces(sw, &namespaces, out);
        let mut seen = HashSet::new();
        for group in &sw.spec.groups {
            if !groups.contains_key(group.as_str()) && seen.insert(group) {
                out.object(sw, format!("switch group {group} does not exist"));
            }
        }
    }
}

fn check_role_and_profile(sw: &Draft<SwitchSpec>, out: &mut Violations) {
    let s = &sw.spec;
    if !crate::model::switch::SWITCH_ROLES.contains(&s.role.as_str()) || s.role == "virtual-edge" {
        out.object(sw, format!("role {:?} is not a Hedgehog switch role (spine, server-leaf, border-leaf, mixed-leaf); fix the device role mapping or custom field hedgehog_role", s.role));
    }
    if s.profile.is_none() {
        out.object(sw, "no switch profile: set the device's custom field hedgehog_profile, or map its device type in the fabric's device_type_profiles".into());
    }
    if s.is_spine() && s.vtep_ip.is_some() {
        out.object(
            sw,
            "a spine must not have a VTEP IP; remove the hedgehog-vtep-ip tag from its IP address"
                .into(),
        );
    }
}

/// What a running fabric needs of every switch.
fn check_complete(sw: &Draft<SwitchSpec>, out: &mut Violations) {
    let s = &sw.spec;
    // The fabric runs in spine-leaf mode (its only mode) even before a spine is cabled, and
    // there every leaf needs a VTEP IP.
    let needs_vtep = s.is_leaf();
    let missing: Vec<&str> = [
        (s.asn.is_none(), "ASN (custom field hedgehog_asn)"),
        (s.ip.is_none(), "management IP (the device's primary IPv4)"),
        (
            s.protocol_ip.is_none(),
            "protocol IP (an IP address tagged hedgehog-protocol-ip)",
        ),
        (
            needs_vtep && s.vtep_ip.is_none(),
            "VTEP IP (an IP address tagged hedgehog-vtep-ip)",
        ),
    ]
    .into_iter()
    .filter_map(|(missing, what)| missing.then_some(what))
    .collect();
    if !missing.is_empty() {
        out.object(
            sw,
            format!(
                "a running fabric needs every switch's {}; add them in NetBox",
                missing.join(", ")
            ),
        );
    }
}

fn check_asn<'a>(
    settings: &FabricSettings,
    sw: &'a Draft<SwitchSpec>,
    taken: &mut Taken<'a>,
    out: &mut Violations,
) {
    let s = &sw.spec;
    let Some(asn) = s.asn else { return };
    if s.is_spine() && asn != settings.spine_asn {
        out.object(sw, format!("a spine's ASN must be the fabric's spine ASN {}, not {asn}; fix custom field hedgehog_asn", settings.spine_asn));
    }
    if s.is_leaf() {
        if !(settings.leaf_asn_start..=settings.leaf_asn_end).contains(&asn) {
            out.object(sw, format!("leaf ASN {asn} is outside the fabric's leaf range {}–{}; fix custom field hedgehog_asn", settings.leaf_asn_start, settings.leaf_asn_end));
        }
        if let Some(other) = taken.leaf_asns.insert(asn, &sw.name) {
            out.object(sw, format!("leaf ASN {asn} is already used by {other}; every leaf needs its own hedgehog_asn"));
        }
    }
}

fn check_management_ip<'a>(
    settings: &FabricSettings,
    sw: &'a Draft<SwitchSpec>,
    taken: &mut Taken<'a>,
    out: &mut Violations,
) {
    let Some(ip) = &sw.spec.ip else { return };
    let (Some(_), Some(host)) = (cidr(ip), addr(ip)) else {
        out.object(
            sw,
            format!("management IP {ip} is not an IPv4 address with prefix length"),
        );
        return;
    };
    // Only the address counts: the fabric admits any prefix length.
    if !settings.management_subnet.contains(&host) {
        out.object(
            sw,
            format!(
                "management IP {ip} must lie in the management subnet {}; fix the primary IPv4",
                settings.management_subnet
            ),
        );
    } else if host >= settings.management_dhcp_start {
        out.object(
            sw,
            format!(
                "management IP {ip} must be below the management DHCP range start {}",
                settings.management_dhcp_start
            ),
        );
    }
    if host == settings.control_vip {
        out.object(
            sw,
            format!("management IP {ip} is the control VIP; choose another address"),
        );
    }
    if let Some(other) = taken.ips.insert(host, &sw.name) {
        out.object(sw, format!("management IP {ip} is already used by {other}; give each switch its own primary IPv4"));
    }
}

/// The protocol and VTEP IPs: unique /32s inside their subnets.
fn check_loopbacks<'a>(
    settings: &FabricSettings,
    sw: &'a Draft<SwitchSpec>,
    taken: &mut Taken<'a>,
    out: &mut Violations,
) {
    let s = &sw.spec;
    for (value, subnet, seen, what, tag) in [
        (
            &s.protocol_ip,
            settings.protocol_subnet,
            &mut taken.protocol_ips,
            "protocol IP",
            "hedgehog-protocol-ip",
        ),
        (
            &s.vtep_ip,
            settings.vtep_subnet,
            &mut taken.vtep_ips,
            "VTEP IP",
            "hedgehog-vtep-ip",
        ),
    ] {
        let Some(ip) = value else { continue };
        match cidr(ip) {
            Some(net) if net.prefix_len() == 32 && subnet.contains(&net.addr()) => {
                if let Some(other) = seen.insert(net.addr(), &sw.name) {
                    out.object(
                        sw,
                        format!(
                            "{what} {ip} is already used by {other}; tag another address {tag}"
                        ),
                    );
                }
            }
            _ => out.object(
                sw,
                format!(
                    "{what} {ip} must be a /32 inside {subnet}; fix the IP address tagged {tag}"
                ),
            ),
        }
    }
}

fn check_redundancy(sw: &Draft<SwitchSpec>, out: &mut Violations) {
    let s = &sw.spec;
    match (&s.redundancy.group, &s.redundancy.kind) {
        (Some(_), Some(kind)) if kind != "eslag" && kind != "mclag" => {
            out.object(sw, format!("redundancy type {kind:?} is neither eslag nor mclag; fix custom field hedgehog_redundancy_type"));
        }
        (None, Some(_)) => out.object(sw, "a redundancy type needs a redundancy group; set custom field hedgehog_redundancy_group".into()),
        _ => {}
    }
}

/// The switch's VLAN namespaces exist and do not overlap.
fn check_namespaces(
    sw: &Draft<SwitchSpec>,
    namespaces: &BTreeMap<&str, &Draft<VLANNamespaceSpec>>,
    out: &mut Violations,
) {
    let mut ranges: Vec<(VlanRange, &str)> = Vec::new();
    for ns in &sw.spec.vlan_namespaces {
        match namespaces.get(ns.as_str()) {
            None => out.object(sw, format!("VLAN namespace {ns} does not exist: create a VLAN group with slug {ns} in the fabric, or fix custom field hedgehog_vlan_namespaces")),
            Some(found) => ranges.extend(found.spec.ranges.iter().map(|r| (*r, ns.as_str()))),
        }
    }
    for (i, (a, na)) in ranges.iter().enumerate() {
        for (b, nb) in &ranges[i + 1..] {
            if na != nb && a.overlaps(b) {
                out.object(sw, format!("VLAN namespaces {na} and {nb} overlap ({}-{} and {}-{}); a switch's namespaces must not overlap", a.from, a.to, b.from, b.to));
            }
        }
    }
}
