//! VPCAttachment and ExternalAttachment rules.

use serde_json::json;

use super::super::common::*;
use super::{lab_err, lab_ok};

#[test]
fn eslag_connections_attach_only_l2vni_vpcs() {
    let (error, lab) = lab_err(|b, lab| {
        set_cf(
            &mut b.vrf_mut(lab.vrf).custom_fields,
            "hedgehog_vpc_mode",
            json!("l3vni"),
        );
    });
    assert_violation(
        &error,
        "ESLAG connection server-01--eslag--leaf-01--leaf-02 can only attach an L2VNI VPC, and VPC vpc-1 is l3vni; take the VLAN off the ESLAG ports or clear the VRF's custom field hedgehog_vpc_mode",
        "dcim.interface",
        lab.eslag_ports[0],
    );
}

#[test]
fn host_bgp_subnets_attach_only_through_unbundled_connections() {
    let (error, lab) = lab_err(|b, lab| {
        let fields = &mut b.prefix_mut(lab.prefix_web).custom_fields;
        set_cf(fields, "hedgehog_host_bgp", json!(true));
    });
    assert_violation(
        &error,
        "a hostBGP subnet can only be attached through an unbundled connection, and server-01--eslag--leaf-01--leaf-02 is not; take the VLAN off these ports or clear the prefix's custom field hedgehog_host_bgp",
        "dcim.interface",
        lab.eslag_ports[1],
    );
}

#[test]
fn every_switch_of_the_connection_carries_the_vpcs_vlan_namespace() {
    let (error, lab) = lab_err(|b, lab| {
        b.vlan_group("tenant", json!([[1000, 1099]]));
        let fields = &mut b.vrf_mut(lab.vrf).custom_fields;
        set_cf(fields, "hedgehog_vlan_namespace", json!("tenant"));
    });
    assert_violation(
        &error,
        "switch leaf-01 does not carry VLAN namespace tenant of VPC vpc-1; add it to the switch's custom field hedgehog_vlan_namespaces",
        "dcim.interface",
        lab.unbundled_port,
    );
}

#[test]
fn only_one_attachment_of_a_connection_is_native() {
    let untag = |b: &mut Builder, port: u64, vlan: u64| {
        let interface = b.interface_mut(port);
        interface.mode = serde_json::from_value(json!("access")).unwrap();
        interface.tagged_vlans.clear();
        interface.untagged_vlan = serde_json::from_value(json!({"id": vlan})).unwrap();
    };
    lab_ok(|b, lab| untag(b, lab.eslag_ports[0], lab.vlan_web));
    let (error, lab) = lab_err(|b, lab| {
        untag(b, lab.eslag_ports[0], lab.vlan_web);
        untag(b, lab.eslag_ports[1], lab.vlan_db);
    });
    assert_violation(
        &error,
        "connection server-01--eslag--leaf-01--leaf-02 already has a native VLAN (attachment vpc-1--db--server-01--eslag--leaf-01--leaf-02); untag only one VLAN on its switch ports",
        "dcim.interface",
        lab.eslag_ports[0],
    );
}

#[test]
fn a_bgp_external_attachment_needs_the_neighbors_asn_and_ip() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    let ip = b.ip_mut("192.0.2.1/30");
    ip.custom_fields.0.remove("hedgehog_neighbor_asn");
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "a BGP attachment needs the neighbor's ASN and IP: set custom fields hedgehog_neighbor_asn and hedgehog_neighbor_ip on the IP address",
        "ipam.ipaddress",
        ext.ip,
    );
}

#[test]
fn a_static_external_attachment_needs_a_remote_ipv4_address() {
    for (remote, text) in [
        (
            json!(null),
            "IP address 192.0.2.1/30 attaches static external static: set its custom field hedgehog_static_remote_ip to the remote IP",
        ),
        (
            json!("router"),
            "remote IP \"router\" is not an IPv4 address; fix custom field hedgehog_static_remote_ip",
        ),
    ] {
        let (mut b, lab) = lab();
        let ext = static_external(&mut b, &lab);
        let ip = b.ip_mut("192.0.2.1/30");
        set_cf(&mut ip.custom_fields, "hedgehog_static_remote_ip", remote);
        let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
        assert_violation(&error, text, "ipam.ipaddress", ext.ip);
    }
}

#[test]
fn external_attachment_vlans_are_unique_per_connection() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    let other = b.interface(
        lab.leaf2,
        "E1/48.300",
        json!({"parent": {"id": ext.switch_port}}),
    );
    let extra = json!({"vrf": {"id": ext.vrf}, "custom_fields": {"hedgehog_neighbor_ip": "192.0.2.6", "hedgehog_neighbor_asn": 64999}});
    let second = b.ip("192.0.2.5/30", Some(other), extra);
    render_ok(&fabric_config(CLUSTER), &b.snapshot);
    b.interface_mut(other).name = "E1/48.200".into();
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "connection leaf-02--external--edge-router already has an external attachment on VLAN 200; use another sub-interface VLAN",
        "ipam.ipaddress",
        second,
    );
}
