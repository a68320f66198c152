//! DHCP rules of one VPC subnet: server or relay, what needs DHCP enabled, the range, static
//! leases and options.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::mapping::objects::Draft;
use crate::model::VPCSpec;
use crate::model::vpc::{VPCDhcp, VPCSubnet};

use super::{Violations, addr, cidr};

/// `gateway` is the subnet's valid gateway address, if it has one.
pub fn check(
    vpc: &Draft<VPCSpec>,
    name: &str,
    subnet: &VPCSubnet,
    net: Ipv4Net,
    gateway: Option<Ipv4Addr>,
    vpc_names: &HashSet<&str>,
    out: &mut Violations,
) {
    let Some(dhcp) = &subnet.dhcp else {
        return;
    };
    if subnet.host_bgp && dhcp.enable {
        out.part(
            vpc,
            name,
            "hostBGP subnets cannot use DHCP; clear hedgehog_dhcp_enable or hedgehog_host_bgp"
                .into(),
        );
    }
    if dhcp.enable && dhcp.relay.is_some() {
        out.part(vpc, name, "DHCP server and DHCP relay are mutually exclusive; clear hedgehog_dhcp_enable or hedgehog_dhcp_relay".into());
    }
    if dhcp.relay_vpc.is_some() && dhcp.relay.is_none() {
        out.part(
            vpc,
            name,
            "a relay VPC needs a relay address; set custom field hedgehog_dhcp_relay on the prefix"
                .into(),
        );
    }
    if let Some(relay_vpc) = &dhcp.relay_vpc
        && !vpc_names.contains(relay_vpc.as_str())
    {
        out.part(vpc, name, format!("relay VPC {relay_vpc} does not exist"));
    }
    if let Some(relay) = &dhcp.relay
        && cidr(relay).is_none()
    {
        out.part(
            vpc,
            name,
            format!("DHCP relay {relay} must be an IPv4 address with prefix length"),
        );
    }
    // The fabric's defaulting drops the range and options of a subnet whose DHCP is off (see
    // `defaulting`); static leases stay and are refused.
    if !dhcp.enable && !dhcp.static_leases.is_empty() {
        out.part(vpc, name, "static DHCP leases need DHCP enabled; set custom field hedgehog_dhcp_enable on the prefix".into());
    }
    check_range_and_options(vpc, name, dhcp, net, gateway, out);
    check_static_leases(vpc, name, dhcp, net, gateway, out);
}

/// The DHCP range lies inside the subnet, away from its network and gateway addresses; the
/// options are in their ranges.
fn check_range_and_options(
    vpc: &Draft<VPCSpec>,
    name: &str,
    dhcp: &VPCDhcp,
    net: Ipv4Net,
    gateway: Option<Ipv4Addr>,
    out: &mut Violations,
) {
    if let Some(range) = &dhcp.range {
        let second_host = u32::from(net.network()).saturating_add(2).into();
        let start = range.start.as_deref().and_then(addr).unwrap_or(second_host);
        let end = range
            .end
            .as_deref()
            .and_then(addr)
            .unwrap_or(net.broadcast());
        let bad = |ip| !net.contains(&ip) || ip == net.network() || Some(ip) == gateway;
        if bad(start) || bad(end) || start >= end {
            out.part(vpc, name, format!("DHCP range {start}–{end} must lie inside {net}, exclude the network and gateway addresses, and start below its end; fix the IP range with role dhcp"));
        }
    }
    if let Some(options) = &dhcp.options {
        if !(96..=9036).contains(&options.interface_mtu) {
            out.part(
                vpc,
                name,
                format!(
                    "DHCP option interfaceMTU {} must be 96–9036; fix custom field hedgehog_dhcp_options on the prefix",
                    options.interface_mtu
                ),
            );
        }
        if options.lease_time_seconds == 0 {
            out.part(
                vpc,
                name,
                "DHCP option leaseTimeSeconds must be at least 1; fix custom field hedgehog_dhcp_options on the prefix".into(),
            );
        }
    }
}

/// Static leases are distinct host addresses of the subnet.
fn check_static_leases(
    vpc: &Draft<VPCSpec>,
    name: &str,
    dhcp: &VPCDhcp,
    net: Ipv4Net,
    gateway: Option<Ipv4Addr>,
    out: &mut Violations,
) {
    let mut leases = HashSet::new();
    for (mac, lease) in &dhcp.static_leases {
        let ip = addr(&lease.ip);
        let reserved = [Some(net.network()), gateway, Some(net.broadcast())];
        if ip.is_none_or(|ip| !net.contains(&ip) || reserved.contains(&Some(ip))) {
            out.part(vpc, name, format!("static DHCP lease {} for {mac} must be a host address inside {net}, not its network, gateway or broadcast address", lease.ip));
        } else if !leases.insert(ip) {
            out.part(
                vpc,
                name,
                format!(
                    "static DHCP lease {} for {mac} repeats another lease's address",
                    lease.ip
                ),
            );
        }
    }
}
