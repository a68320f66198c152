//! Switch rules: required fields per validation level, ASN ranges, management/protocol/VTEP
//! addresses, redundancy, namespaces and groups.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use crate::config::FabricSettings;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::vlan_namespace::VlanRange;
use crate::model::{SwitchSpec, VLANNamespaceSpec};

use super::{Violations, addr, cidr};

/// The checks that compare switches: each address and leaf ASN is taken once.
struct Taken<'a, 'v> {
    settings: &'a FabricSettings,
    out: &'v mut Violations,
    leaf_asns: HashMap<u32, &'a str>,
    ips: HashMap<Ipv4Addr, &'a str>,
    protocol_ips: HashMap<Ipv4Addr, &'a str>,
    vtep_ips: HashMap<Ipv4Addr, &'a str>,
}

pub fn check(settings: &FabricSettings, complete: bool, o: &FabricObjects, out: &mut Violations) {
    let namespaces = by_name(&o.vlan_namespaces);
    let groups = by_name(&o.switch_groups);
    for sw in &o.switches {
        check_role_and_profile(sw, out);
        if complete {
            check_complete(sw, out);
        }
        check_redundancy(sw, out);
        check_namespaces(sw, &namespaces, out);
        let mut seen = HashSet::new();
        for group in &sw.spec.groups {
            if !groups.contains_key(group.as_str()) && seen.insert(group) {
                out.object(sw, format!("switch group {group} does not exist"));
            }
        }
    }
    let mut taken = Taken {
        settings,
        out,
        leaf_asns: HashMap::new(),
        ips: HashMap::new(),
        protocol_ips: HashMap::new(),
        vtep_ips: HashMap::new(),
    };
    for sw in &o.switches {
        taken.asn(sw);
        taken.management_ip(sw);
        taken.loopbacks(sw);
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

impl<'a> Taken<'a, '_> {
    fn asn(&mut self, sw: &'a Draft<SwitchSpec>) {
        let s = &sw.spec;
        let Some(asn) = s.asn else { return };
        if s.is_spine() && asn != self.settings.spine_asn {
            self.out.object(sw, format!("a spine's ASN must be the fabric's spine ASN {}, not {asn}; fix custom field hedgehog_asn", self.settings.spine_asn));
        }
        if s.is_leaf() {
            if !(self.settings.leaf_asn_start..=self.settings.leaf_asn_end).contains(&asn) {
                self.out.object(sw, format!("leaf ASN {asn} is outside the fabric's leaf range {}–{}; fix custom field hedgehog_asn", self.settings.leaf_asn_start, self.settings.leaf_asn_end));
            }
            if let Some(other) = self.leaf_asns.insert(asn, &sw.name)
                && !is_mclag(sw)
            {
                self.out.object(sw, format!("leaf ASN {asn} is already used by {other}; every leaf needs its own hedgehog_asn"));
            }
        }
    }

    fn management_ip(&mut self, sw: &'a Draft<SwitchSpec>) {
        let Some(ip) = &sw.spec.ip else { return };
        let (Some(_), Some(host)) = (cidr(ip), addr(ip)) else {
            self.out.object(
                sw,
                format!("management IP {ip} is not an IPv4 address with prefix length"),
            );
            return;
        };
        // Only the address counts: the fabric admits any prefix length.
        if !self.settings.management_subnet.contains(&host) {
            self.out.object(
                sw,
                format!(
                    "management IP {ip} must lie in the management subnet {}; fix the primary IPv4",
                    self.settings.management_subnet
                ),
            );
        } else if host >= self.settings.management_dhcp_start {
            self.out.object(
                sw,
                format!(
                    "management IP {ip} must be below the management DHCP range start {}",
                    self.settings.management_dhcp_start
                ),
            );
        }
        if host == self.settings.control_vip {
            self.out.object(
                sw,
                format!("management IP {ip} is the control VIP; choose another address"),
            );
        }
        if let Some(other) = self.ips.insert(host, &sw.name) {
            self.out.object(sw, format!("management IP {ip} is already used by {other}; give each switch its own primary IPv4"));
        }
    }

    /// The protocol and VTEP IPs: unique /32s inside their subnets.
    fn loopbacks(&mut self, sw: &'a Draft<SwitchSpec>) {
        let s = &sw.spec;
        for (value, subnet, seen, what, tag, shareable) in [
            (
                &s.protocol_ip,
                self.settings.protocol_subnet,
                &mut self.protocol_ips,
                "protocol IP",
                "hedgehog-protocol-ip",
                false,
            ),
            (
                &s.vtep_ip,
                self.settings.vtep_subnet,
                &mut self.vtep_ips,
                "VTEP IP",
                "hedgehog-vtep-ip",
                is_mclag(sw),
            ),
        ] {
            let Some(ip) = value else { continue };
            match cidr(ip) {
                Some(net) if net.prefix_len() == 32 && subnet.contains(&net.addr()) => {
                    if let Some(other) = seen.insert(net.addr(), &sw.name)
                        && !shareable
                    {
                        self.out.object(
                            sw,
                            format!(
                                "{what} {ip} is already used by {other}; tag another address {tag}"
                            ),
                        );
                    }
                }
                _ => self.out.object(
                    sw,
                    format!(
                        "{what} {ip} must be a /32 inside {subnet}; fix the IP address tagged {tag}"
                    ),
                ),
            }
        }
    }
}

/// The fabric lets an MCLAG leaf (deprecated) share its ASN and VTEP IP with another leaf,
/// never an ESLAG one (`Switch.HydrationValidation`).
fn is_mclag(sw: &Draft<SwitchSpec>) -> bool {
    sw.spec.redundancy.kind.as_deref() == Some("mclag")
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
