//! Connection rules: port reuse (breakout aliases included), server MTU, fabric link /31s,
//! ESLAG limits, gateways in spine-leaf fabrics only, static-external routes.

use serde_json::json;

use super::super::common::*;
use super::{changed, lab_err, lab_ok};

#[test]
fn a_switch_port_and_its_breakout_alias_carry_one_connection() {
    // dell-s5248f-on's E1/49 breaks out into E1/49/1 … E1/49/4; E1/49 is E1/49/1's alias.
    let (mut b, lab) = lab();
    let leaf = b.device_mut(lab.leaf1);
    set_cf(
        &mut leaf.custom_fields,
        "hedgehog_profile",
        json!("dell-s5248f-on"),
    );
    set_cf(
        &mut leaf.custom_fields,
        "hedgehog_port_breakouts",
        json!({"E1/49": "4x25G"}),
    );
    b.interface_mut(lab.unbundled_port).name = "E1/49".into();
    let server = b.device("server-03", "server", json!({"hedgehog_fabric": null}));
    let (port, _, cable) = b.link(lab.leaf1, "E1/49/2", server, "enp2s1");
    render_ok(&fabric_config(CLUSTER), &b.snapshot);
    b.interface_mut(port).name = "E1/49/1".into();
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "switch port leaf-01/E1/49/1 is already used by connection server-02--unbundled--leaf-01; a port (and its breakout alias) carries one connection only, so move one of the cables",
        "dcim.cable",
        cable,
    );
}

#[test]
fn server_facing_mtu_is_at_most_fabric_mtu_minus_the_offset() {
    lab_ok(|b, lab| b.interface_mut(lab.unbundled_port).mtu = Some(9036));
    let (error, lab) = lab_err(|b, lab| b.interface_mut(lab.unbundled_port).mtu = Some(9037));
    assert_violation(
        &error,
        "MTU 9037 is above the server-facing maximum 9036; lower the switch interface's MTU",
        "dcim.cable",
        lab.unbundled_cable,
    );
}

/// Sets the address of the lab's fabric IP `n` (0/1: spine/leaf-01 end, 2/3: spine/leaf-02).
fn set_fabric_ip(b: &mut Builder, lab: &Lab, n: usize, address: &str) {
    let id = lab.fabric_ips[n];
    let ip = b.snapshot.ip_addresses.iter_mut().find(|a| a.id == id);
    ip.unwrap().address = address.into();
}

#[test]
fn fabric_link_ips_are_31s_of_one_pair_inside_the_fabric_subnet() {
    for (address, text) in [
        (
            "192.168.0.1/31",
            "IP 192.168.0.1/31 on leaf-01/E1/1 must be a /31 inside the fabric subnet 172.30.128.0/17; fix the interface's IP address",
        ),
        ("172.30.128.1/30", "must be a /31 inside the fabric subnet"),
        (
            "172.30.128.5/31",
            "are not in the same /31; fix the IP addresses on the cable's interfaces",
        ),
        (
            "172.30.128.0/31",
            "have IP 172.30.128.0/31; give the two interfaces the two addresses of one /31",
        ),
    ] {
        let (error, lab) = lab_err(|b, lab| set_fabric_ip(b, lab, 1, address));
        assert_violation(&error, text, "dcim.cable", lab.fabric_cables[0]);
    }
}

#[test]
fn each_fabric_link_ip_is_used_once() {
    let (error, lab) = lab_err(|b, lab| {
        set_fabric_ip(b, lab, 2, "172.30.128.0/31");
        set_fabric_ip(b, lab, 3, "172.30.128.1/31");
    });
    assert_violation(
        &error,
        "link IP 172.30.128.0 is already used by connection spine-01--fabric--leaf-01; every link needs its own /31",
        "dcim.cable",
        lab.fabric_cables[1],
    );
}

#[test]
fn a_cluster_needs_fabric_link_ips_but_a_wiring_file_does_not() {
    let drop_ip = |b: &mut Builder, lab: &Lab| {
        let id = lab.fabric_ips[1];
        b.snapshot.ip_addresses.retain(|a| a.id != id);
    };
    let (error, lab) = lab_err(drop_ip);
    assert_violation(
        &error,
        "link spine-01/E1/1 ↔ leaf-01/E1/1 needs a /31 IP address on both interfaces (inside 172.30.128.0/17); add them in NetBox",
        "dcim.cable",
        lab.fabric_cables[0],
    );
    let (b, _) = changed(drop_ip);
    render_ok(
        &fabric_config("name = \"lab\"\nvalidation = \"wiring\"\n"),
        &b.snapshot,
    );
}

/// Adds `count` leaves to redundancy group eslag-1, each cabled (E1/5) to server-01's bond.
fn more_eslag_leaves(b: &mut Builder, lab: &Lab, count: u8) -> Vec<u64> {
    let bond = b.snapshot.interfaces.iter();
    let bond = bond
        .filter(|i| i.device.id == lab.server1 && i.name == "bond0")
        .map(|i| i.id)
        .next()
        .unwrap();
    (0..count)
        .map(|i| {
            let group = json!({"hedgehog_redundancy_group": "eslag-1"});
            let leaf = b.complete_switch(&format!("leaf-0{}", i + 3), "leaf", 4 + i, group);
            let sw = b.interface(leaf, "E1/5", json!({}));
            let nic = b.interface(
                lab.server1,
                &format!("enp3s{i}"),
                json!({"lag": {"id": bond}}),
            );
            b.cable(sw, nic, json!({}))
        })
        .collect()
}

#[test]
fn an_eslag_connection_spans_at_most_4_switches() {
    lab_ok(|b, lab| {
        more_eslag_leaves(b, lab, 2);
    });
    let (error, lab) = lab_err(|b, lab| {
        more_eslag_leaves(b, lab, 3);
    });
    assert_violation(
        &error,
        "an ESLAG connection spans 1 to 4 switches, this one 5",
        "dcim.cable",
        lab.eslag_cables[0],
    );
}

/// The fabric has a single mode, spine-leaf, whether or not its spines are cabled yet.
#[test]
fn eslag_is_admitted_in_a_fabric_whose_spines_are_not_in_netbox_yet() {
    let rendered = lab_ok(|b, lab| b.snapshot.devices.retain(|d| d.id != lab.spine));
    let connections = names_of(&rendered, "Connection");
    assert!(
        connections.iter().any(|n| n.contains("--eslag--")),
        "{connections:?}"
    );
}

#[test]
fn gateway_connections_are_admitted_in_a_fabric_without_spines() {
    let (mut b, [leaf1, _]) = mesh_fabric();
    let gateway = b.device("gateway-1", "gateway", json!({"hedgehog_fabric": null}));
    let (switch_port, gateway_port, _) = b.link(leaf1, "E1/10", gateway, "enp2s1");
    b.ip("172.30.128.2/31", Some(switch_port), json!({}));
    b.ip("172.30.128.3/31", Some(gateway_port), json!({}));
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let connections = names_of(&rendered, "Connection");
    assert!(
        connections.iter().any(|n| n.contains("--gateway--")),
        "{connections:?}"
    );
}

/// A static-external device with `prefixes`, cabled to leaf-02 E1/47 with the two addresses.
fn static_connection(b: &mut Builder, lab: &Lab, prefixes: &[&str], ips: [&str; 2]) -> u64 {
    let device = b.device(
        "dhcp-server",
        "static-external",
        json!({"hedgehog_fabric": null, "hedgehog_static_prefixes": prefixes}),
    );
    let (switch, remote, cable) = b.link(lab.leaf2, "E1/47", device, "eth0");
    for (address, interface) in ips.into_iter().zip([switch, remote]) {
        if !address.is_empty() {
            b.ip(address, Some(interface), json!({}));
        }
    }
    cable
}

#[test]
fn a_static_external_next_hop_lies_in_the_switch_ports_subnet() {
    let good = ["10.0.200.1/30", "10.0.200.2/30"];
    lab_ok(|b, lab| {
        static_connection(b, lab, &["198.51.100.0/24"], good);
    });
    for (ips, text) in [
        (
            ["10.0.200.1/30", "10.0.201.2/30"],
            "next hop 10.0.201.2 is not inside the switch port's subnet 10.0.200.0/30; fix the IP addresses on the cable's ends",
        ),
        (
            ["10.0.200.1/30", ""],
            "a static external needs an IP address on the switch port and one on the remote port (the next hop)",
        ),
    ] {
        let (mut b, lab) = lab();
        let cable = static_connection(&mut b, &lab, &["198.51.100.0/24"], ips);
        let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
        assert_violation(&error, text, "dcim.cable", cable);
    }
}

#[test]
fn static_external_prefixes_are_canonical_disjoint_and_clear_of_reserved_subnets() {
    let ips = ["10.0.200.1/30", "10.0.200.2/30"];
    lab_ok(|b, lab| {
        static_connection(b, lab, &["0.0.0.0/0"], ips);
    });
    for (prefixes, text) in [
        (
            &["198.51.100.1/24"][..],
            "static prefix 198.51.100.1/24 is not a canonical IPv4 prefix (host bits must be zero); fix the custom field hedgehog_static_prefixes of the static-external device",
        ),
        (
            &["172.30.0.0/24"],
            "static prefix 172.30.0.0/24 overlaps the reserved subnet 172.30.0.0/21",
        ),
        (
            &["198.51.100.0/24", "198.51.100.0/25"],
            "static prefix 198.51.100.0/24 overlaps another static prefix",
        ),
        (
            &["0.0.0.0/0", "198.51.100.0/24"],
            "0.0.0.0/0 must be the only static prefix when present",
        ),
    ] {
        let (mut b, lab) = lab();
        let cable = static_connection(&mut b, &lab, prefixes, ips);
        let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
        assert_violation(&error, text, "dcim.cable", cable);
    }
}
