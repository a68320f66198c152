//! External, VPCPeering and ExternalPeering rules.

use serde_json::{Value, json};

use super::super::common::*;

fn set_vrf_cf(b: &mut Builder, vrf: u64, field: &str, value: Value) {
    set_cf(&mut b.vrf_mut(vrf).custom_fields, field, value);
}

#[test]
fn a_bgp_external_community_when_set_is_a_colon_b_in_plain_decimal() {
    for (field, value) in [
        ("hedgehog_inbound_community", "65536:1"),
        ("hedgehog_outbound_community", "065:1"),
        ("hedgehog_outbound_community", "+1:1"),
    ] {
        let (mut b, lab) = lab();
        let ext = bgp_external(&mut b, &lab, &[]);
        set_vrf_cf(&mut b, ext.vrf, field, json!(value));
        let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
        let text = format!(
            "community \"{value}\" must be A:B with both parts 0–65535 in plain decimal; fix custom field {field}"
        );
        assert_violation(&error, &text, "ipam.vrf", ext.vrf);
    }
}

#[test]
fn a_bgp_external_without_communities_is_admitted() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    for field in ["hedgehog_inbound_community", "hedgehog_outbound_community"] {
        set_vrf_cf(&mut b, ext.vrf, field, json!(null));
    }
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let external = &rendered
        .manifests
        .iter()
        .find(|m| m.kind == "External")
        .expect("the external is rendered")
        .spec;
    assert_eq!(external.get("inboundCommunity"), None);
    assert_eq!(external.get("outboundCommunity"), None);
}

#[test]
fn a_static_external_has_disjoint_prefixes_and_no_communities() {
    for (field, value, text) in [
        (
            "hedgehog_inbound_community",
            json!("65102:5000"),
            "a static external has no BGP communities; clear the community custom fields",
        ),
        (
            "hedgehog_static_prefixes",
            json!(["203.0.113.0/24", "203.0.113.128/25"]),
            "static prefix 203.0.113.0/24 overlaps another static prefix; fix custom field hedgehog_static_prefixes",
        ),
        (
            "hedgehog_static_prefixes",
            json!(["internet"]),
            "static prefix internet is not an IPv4 prefix; fix custom field hedgehog_static_prefixes",
        ),
    ] {
        let (mut b, lab) = lab();
        let ext = static_external(&mut b, &lab);
        set_vrf_cf(&mut b, ext.vrf, field, value);
        let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
        assert_violation(&error, text, "ipam.vrf", ext.vrf);
    }
}

#[test]
fn an_externals_ipv4_namespace_exists() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    set_vrf_cf(&mut b, ext.vrf, "hedgehog_ipv4_namespace", json!("other"));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "IPv4 namespace other does not exist: add prefixes with role hedgehog-ipv4-namespace for it, or fix the VRF's custom field hedgehog_ipv4_namespace",
        "ipam.vrf",
        ext.vrf,
    );
}

/// A second VPC `vpc-2` (subnet app, VLAN 1010) that peers with vpc-1 through route targets.
pub fn peered_vpc(b: &mut Builder, lab: &Lab) -> u64 {
    let (rt1, rt2) = (b.route_target("65000:1"), b.route_target("65000:2"));
    let vpc1 = b.vrf_mut(lab.vrf);
    vpc1.export_targets = serde_json::from_value(json!([{"id": rt1}])).unwrap();
    vpc1.import_targets = serde_json::from_value(json!([{"id": rt2}])).unwrap();
    let vpc2 = b.vrf("vpc-2", &[rt1], &[rt2], json!({}));
    let vlan = b.vlan(1010, "app");
    b.subnet(vpc2, "10.0.10.0/24", vlan, json!({}));
    vpc2
}

#[test]
fn vpc_peering_can_be_disabled_for_the_fabric() {
    let (mut b, lab) = lab();
    let vpc2 = peered_vpc(&mut b, &lab);
    render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let disabled =
        fabric_config("name = \"lab\"\n[mapping.settings]\nvpc_peering_disabled = true\n");
    let error = render_err(&disabled, &b.snapshot);
    for vrf in [lab.vrf, vpc2] {
        assert_violation(
            &error,
            "VPC peering is disabled in this fabric; remove the route targets the two VRFs share",
            "ipam.vrf",
            vrf,
        );
    }
}

#[test]
fn peered_vpcs_share_their_namespaces() {
    let (mut b, lab) = lab();
    let vpc2 = peered_vpc(&mut b, &lab);
    b.vlan_group("tenant", json!([[1010, 1019]]));
    set_vrf_cf(&mut b, vpc2, "hedgehog_vlan_namespace", json!("tenant"));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "VPCs vpc-1 and vpc-2 are in different namespaces and cannot peer; give both VRFs the same hedgehog_ipv4_namespace and hedgehog_vlan_namespace, or remove the route targets they share",
        "ipam.vrf",
        vpc2,
    );
}

#[test]
fn an_external_peering_shares_the_ipv4_namespace_and_permits_ipv4_prefixes() {
    let (mut b, lab) = lab();
    let rt = b.route_target("65000:99");
    let ext = bgp_external(&mut b, &lab, &[rt]);
    b.vrf_mut(lab.vrf).import_targets = serde_json::from_value(json!([{"id": rt}])).unwrap();
    render_ok(&fabric_config(CLUSTER), &b.snapshot);

    let mut other = b.snapshot.clone();
    b.namespace_prefix(
        "10.50.0.0/16",
        json!({"hedgehog_ipv4_namespace": "transit"}),
    );
    set_vrf_cf(&mut b, ext.vrf, "hedgehog_ipv4_namespace", json!("transit"));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "VPC vpc-1 (IPv4 namespace default) and external inet (transit) are in different IPv4 namespaces; give both VRFs the same hedgehog_ipv4_namespace",
        "ipam.vrf",
        ext.vrf,
    );

    let vrf = other.vrfs.iter_mut().find(|v| v.id == ext.vrf).unwrap();
    set_cf(
        &mut vrf.custom_fields,
        "hedgehog_permit_prefixes",
        json!(["any"]),
    );
    let error = render_err(&fabric_config(CLUSTER), &other);
    assert_violation(
        &error,
        "permitted prefix \"any\" is not an IPv4 prefix; fix custom field hedgehog_permit_prefixes",
        "ipam.vrf",
        ext.vrf,
    );
}
