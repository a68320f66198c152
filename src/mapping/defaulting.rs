//! The fabric's defaulting webhook, applied to the typed objects before they are validated and
//! emitted, so that what the sidecar renders is already a fixed point of it.
//!
//! The fabric's mutating webhook runs each kind's `Default()` on every create and update: it sorts
//! some lists, fills in namespaces, gateways and DHCP ranges, and drops DHCP settings of a subnet
//! whose DHCP is off. Anything rendered in another form would be rewritten on every apply and
//! reported as drift on every reconcile. Validation then runs on the defaulted form, as the
//! fabric's validating webhook does.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::vpc::{DhcpOptions, DhcpRange, VPCDhcp, VPCSubnet};
use serde_json::Value;

use crate::model::{
    ExternalPeeringSpec, ExternalSpec, HedgehogSpec, IPv4NamespaceSpec, Kind, SwitchSpec,
    VLANNamespaceSpec, VPCAttachmentSpec, VPCSpec,
};

use super::objects::{Draft, FabricObjects};

/// The namespace name the fabric fills in for VPCs, Externals and Switches.
const DEFAULT_NAMESPACE: &str = "default";
/// The DHCP options the fabric fills in when they are zero.
const DEFAULT_INTERFACE_MTU: u32 = 9036;
const DEFAULT_LEASE_TIME: u32 = 3600;

/// Applies the fabric's defaulting to every object, in place.
pub fn apply(objects: &mut FabricObjects) {
    each(&mut objects.vlan_namespaces, vlan_namespace);
    each(&mut objects.ipv4_namespaces, ipv4_namespace);
    each(&mut objects.switches, switch);
    each(&mut objects.vpcs, vpc);
    each(&mut objects.externals, external);
    each(&mut objects.vpc_attachments, vpc_attachment);
    each(&mut objects.external_peerings, external_peering);
}

fn each<S>(drafts: &mut [Draft<S>], default: fn(&mut S)) {
    for draft in drafts {
        default(&mut draft.spec);
    }
}

/// A spec of `kind` (as JSON) in the form the fabric's defaulting gives it; a spec that does not
/// read as its kind, or of a kind the fabric does not default, is returned as it is.
pub(crate) fn defaulted_spec(kind: Kind, spec: &Value) -> Value {
    match kind {
        Kind::VLANNamespace => typed(spec, vlan_namespace),
        Kind::IPv4Namespace => typed(spec, ipv4_namespace),
        Kind::Switch => typed(spec, switch),
        Kind::VPC => typed(spec, vpc),
        Kind::External => typed(spec, external),
        Kind::VPCAttachment => typed(spec, vpc_attachment),
        Kind::ExternalPeering => typed(spec, external_peering),
        _ => spec.clone(),
    }
}

fn typed<S: HedgehogSpec>(spec: &Value, default: fn(&mut S)) -> Value {
    let Ok(mut typed) = serde_json::from_value::<S>(spec.clone()) else {
        return spec.clone();
    };
    default(&mut typed);
    serde_json::to_value(&typed).unwrap_or_else(|_| spec.clone())
}

/// Ranges sorted by start, then end; a missing end is the start (a single VLAN).
pub fn vlan_namespace(spec: &mut VLANNamespaceSpec) {
    for range in &mut spec.ranges {
        if range.to == 0 {
            range.to = range.from;
        }
    }
    spec.ranges.sort();
}

/// Subnets sorted as strings (`10.10.0.0/16` before `10.9.0.0/16`).
pub fn ipv4_namespace(spec: &mut IPv4NamespaceSpec) {
    spec.subnets.sort();
}

/// `SPEED_` prefixes dropped, `[default]` when no VLAN namespace is named, the redundancy group
/// among the groups, groups and namespaces sorted as strings.
pub fn switch(spec: &mut SwitchSpec) {
    for speed in spec
        .port_group_speeds
        .values_mut()
        .chain(spec.port_speeds.values_mut())
    {
        if let Some(rest) = speed.strip_prefix("SPEED_") {
            *speed = rest.to_owned();
        }
    }
    if spec.vlan_namespaces.is_empty() {
        spec.vlan_namespaces.push(DEFAULT_NAMESPACE.into());
    }
    if let Some(group) = &spec.redundancy.group
        && !spec.groups.contains(group)
    {
        spec.groups.push(group.clone());
    }
    spec.groups.sort();
    spec.vlan_namespaces.sort();
}

/// Namespaces filled in, then each subnet's gateway and DHCP settings as the fabric completes
/// them.
pub fn vpc(spec: &mut VPCSpec) {
    spec.ipv4_namespace
        .get_or_insert_with(|| DEFAULT_NAMESPACE.into());
    spec.vlan_namespace
        .get_or_insert_with(|| DEFAULT_NAMESPACE.into());
    for subnet in spec.subnets.values_mut() {
        vpc_subnet(subnet);
    }
}

fn vpc_subnet(subnet: &mut VPCSubnet) {
    let Ok(net) = subnet.subnet.parse::<Ipv4Net>() else {
        return;
    };
    let net = net.trunc();
    let first = |offset: u32| Ipv4Addr::from(u32::from(net.network()).wrapping_add(offset));
    if subnet.gateway.is_none() && !subnet.host_bgp {
        subnet.gateway = Some(first(1).to_string());
    }
    if net.prefix_len() > 30 {
        return;
    }
    let Some(dhcp) = &mut subnet.dhcp else {
        return;
    };
    if !dhcp.enable {
        dhcp.range = None;
        dhcp.options = None;
    } else {
        let range = dhcp.range.get_or_insert_with(DhcpRange::default);
        range.start.get_or_insert_with(|| first(2).to_string());
        range.end.get_or_insert_with(|| net.broadcast().to_string());
        if dhcp.options.as_ref().is_some_and(options_unset) {
            dhcp.options = None;
        }
        if let Some(options) = &mut dhcp.options {
            if options.interface_mtu == 0 {
                options.interface_mtu = DEFAULT_INTERFACE_MTU;
            }
            if options.lease_time_seconds == 0 {
                options.lease_time_seconds = DEFAULT_LEASE_TIME;
            }
            options.dns_servers.sort();
            options.time_servers.sort();
            options
                .advertised_routes
                .sort_by(|a, b| (&a.destination, &a.gateway).cmp(&(&b.destination, &b.gateway)));
        }
    }
    dhcp.static_leases = std::mem::take(&mut dhcp.static_leases)
        .into_iter()
        .map(|(mac, lease)| (normalised_mac(&mac).unwrap_or(mac), lease))
        .collect();
    if *dhcp == VPCDhcp::default() {
        subnet.dhcp = None;
    }
}

/// Options with nothing set are dropped.
fn options_unset(o: &DhcpOptions) -> bool {
    o.pxe_url.as_deref().unwrap_or_default().is_empty()
        && o.dns_servers.is_empty()
        && o.time_servers.is_empty()
        && o.interface_mtu == 0
        && o.lease_time_seconds == 0
        && !o.disable_default_route
        && o.advertised_routes.is_empty()
}

/// A MAC address in the form Go's `net.ParseMAC(..).String()` prints (lowercase, colons), when
/// it is a 48-bit address in one of the notations Go accepts.
fn normalised_mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    let shape_ok = match text.len() {
        17 => {
            let sep = text.as_bytes()[2];
            (sep == b':' || sep == b'-')
                && text.bytes().enumerate().all(|(i, b)| {
                    if i % 3 == 2 {
                        b == sep
                    } else {
                        b.is_ascii_hexdigit()
                    }
                })
        }
        14 => text.bytes().enumerate().all(|(i, b)| {
            if i % 5 == 4 {
                b == b'.'
            } else {
                b.is_ascii_hexdigit()
            }
        }),
        _ => false,
    };
    if !shape_ok || hex.len() != 12 {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Some(pairs.join(":"))
}

pub fn external(spec: &mut ExternalSpec) {
    spec.ipv4_namespace
        .get_or_insert_with(|| DEFAULT_NAMESPACE.into());
}

/// A subnet given as the VPC alone means its subnet `default`.
pub(crate) fn vpc_attachment(spec: &mut VPCAttachmentSpec) {
    if !spec.subnet.is_empty() && !spec.subnet.contains('/') {
        spec.subnet.push_str("/default");
    }
}

/// The VPC's subnets and the external's prefixes sorted as strings.
pub(crate) fn external_peering(spec: &mut ExternalPeeringSpec) {
    spec.permit.vpc.subnets.sort();
    spec.permit
        .external
        .prefixes
        .sort_by(|a, b| a.prefix.cmp(&b.prefix));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_print_as_go_prints_them() {
        assert_eq!(
            normalised_mac("AA-BB-CC-00-11-22").as_deref(),
            Some("aa:bb:cc:00:11:22")
        );
        assert_eq!(
            normalised_mac("aabb.cc00.1122").as_deref(),
            Some("aa:bb:cc:00:11:22")
        );
        assert_eq!(normalised_mac("not-a-mac"), None);
    }

    /// DHCP options as the fabric's defaulting leaves them, with nothing optional set.
    fn options() -> DhcpOptions {
        DhcpOptions {
            pxe_url: None,
            dns_servers: vec![],
            time_servers: vec![],
            interface_mtu: 9036,
            lease_time_seconds: 3600,
            disable_default_route: false,
            advertised_routes: vec![],
        }
    }

    #[test]
    fn a_subnet_with_dhcp_off_loses_its_range_and_options() {
        let mut subnet = VPCSubnet {
            subnet: "10.0.1.0/24".into(),
            vlan: Some(1001),
            dhcp: Some(VPCDhcp {
                range: Some(DhcpRange::default()),
                options: Some(DhcpOptions {
                    pxe_url: Some("http://boot".into()),
                    ..options()
                }),
                ..VPCDhcp::default()
            }),
            ..VPCSubnet::default()
        };
        vpc_subnet(&mut subnet);
        assert_eq!(subnet.gateway.as_deref(), Some("10.0.1.1"));
        assert_eq!(subnet.dhcp, None, "nothing of DHCP is left");
    }

    #[test]
    fn a_subnet_with_dhcp_on_gets_the_fabrics_range_and_sorted_options() {
        let mut subnet = VPCSubnet {
            subnet: "10.0.1.0/24".into(),
            vlan: Some(1001),
            dhcp: Some(VPCDhcp {
                enable: true,
                options: Some(DhcpOptions {
                    dns_servers: vec!["9.9.9.9".into(), "1.1.1.1".into()],
                    ..options()
                }),
                ..VPCDhcp::default()
            }),
            ..VPCSubnet::default()
        };
        vpc_subnet(&mut subnet);
        let dhcp = subnet.dhcp.expect("DHCP stays");
        let range = dhcp.range.expect("a range is filled in");
        assert_eq!(range.start.as_deref(), Some("10.0.1.2"));
        assert_eq!(range.end.as_deref(), Some("10.0.1.255"));
        let options = dhcp.options.expect("options stay");
        assert_eq!(options.dns_servers, ["1.1.1.1", "9.9.9.9"]);
    }

    #[test]
    fn switch_lists_are_sorted_and_the_redundancy_group_joins_the_groups() {
        let mut spec = SwitchSpec {
            role: "server-leaf".into(),
            groups: vec!["zeta".into()],
            vlan_namespaces: vec!["b".into(), "a".into()],
            ..SwitchSpec::default()
        };
        spec.redundancy.group = Some("mclag-1".into());
        spec.port_speeds.insert("E1/1".into(), "SPEED_25G".into());
        switch(&mut spec);
        assert_eq!(spec.groups, ["mclag-1", "zeta"]);
        assert_eq!(spec.vlan_namespaces, ["a", "b"]);
        assert_eq!(spec.port_speeds["E1/1"], "25G");
    }

    #[test]
    fn ipv4_namespace_subnets_sort_as_strings() {
        let mut spec = IPv4NamespaceSpec {
            subnets: vec!["10.9.0.0/16".into(), "10.10.0.0/16".into()],
        };
        ipv4_namespace(&mut spec);
        assert_eq!(spec.subnets, ["10.10.0.0/16", "10.9.0.0/16"]);
    }
}
