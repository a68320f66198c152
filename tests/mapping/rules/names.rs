//! Names (RFC 1123, lengths, uniqueness, `ext.`) and the VLANNamespace and IPv4Namespace rules.

use serde_json::json;

use super::super::common::*;
use super::{lab_err, lab_ok};

#[test]
fn object_names_must_be_lowercase_rfc_1123_subdomains() {
    let (error, lab) = lab_err(|b, lab| b.device_mut(lab.leaf1).name = Some("Leaf_01".into()));
    assert_violation(
        &error,
        "may only contain lowercase letters, digits, '-' and '.'; rename the NetBox object or set its hedgehog_name custom field",
        "dcim.device",
        lab.leaf1,
    );
}

#[test]
fn a_hedgehog_name_on_cables_is_checked_like_any_name() {
    let (error, lab) = lab_err(|b, lab| {
        set_cf(
            &mut b.cable_mut(lab.unbundled_cable).custom_fields,
            "hedgehog_name",
            json!("-db-link"),
        );
    });
    assert_violation(
        &error,
        "must start and end with a letter or digit",
        "dcim.cable",
        lab.unbundled_cable,
    );
}

#[test]
fn vpc_names_have_at_most_11_characters() {
    lab_ok(|b, lab| b.vrf_mut(lab.vrf).name = "vpc-1234567".into());
    let (error, lab) = lab_err(|b, lab| b.vrf_mut(lab.vrf).name = "vpc-12345678".into());
    assert_violation(
        &error,
        "has 12 characters, at most 11 are allowed for a VPC; choose a shorter name",
        "ipam.vrf",
        lab.vrf,
    );
}

#[test]
fn vpc_names_must_not_start_with_ext_dot() {
    let (error, lab) = lab_err(|b, lab| b.vrf_mut(lab.vrf).name = "ext.vpc".into());
    assert_violation(
        &error,
        "must not start with \"ext.\"; rename the VRF",
        "ipam.vrf",
        lab.vrf,
    );
}

#[test]
fn ipv4_namespace_names_have_at_most_11_characters() {
    let long = json!("namespace-1x");
    let (error, lab) = lab_err(|b, lab| {
        let prefix = b.prefix_mut(lab.ipv4_prefix);
        set_cf(&mut prefix.custom_fields, "hedgehog_ipv4_namespace", long);
    });
    assert_violation(
        &error,
        "has 12 characters, at most 11 are allowed for a IPv4Namespace",
        "ipam.prefix",
        lab.ipv4_prefix,
    );
}

#[test]
fn external_names_have_at_most_11_characters() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    b.vrf_mut(ext.vrf).name = "internet-edge".into();
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "at most 11 are allowed for a External",
        "ipam.vrf",
        ext.vrf,
    );
}

#[test]
fn two_objects_of_one_kind_may_not_share_a_name() {
    let (mut b, _) = lab();
    let twin = b.vrf("vpc-1", &[], &[], json!({}));
    let vlan = b.vlan(1003, "app");
    b.subnet(twin, "10.0.3.0/24", vlan, json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "another VPC is also named \"vpc-1\"; rename one of the NetBox objects",
        "ipam.vrf",
        twin,
    );
}

#[test]
fn vlan_namespaces_stay_clear_of_the_reserved_vlans() {
    lab_ok(|b, lab| b.vlan_group_mut(lab.vlan_group).vid_ranges = vec![[1, 2999]]);
    let (error, lab) = lab_err(|b, lab| {
        b.vlan_group_mut(lab.vlan_group).vid_ranges = vec![[1000, 2999], [3500, 3600]];
    });
    assert_violation(
        &error,
        "VLAN range 3500-3600 overlaps the fabric's reserved VLANs 3000-3999; change the VLAN group's VLAN ID ranges",
        "ipam.vlangroup",
        lab.vlan_group,
    );
}

#[test]
fn vlan_ranges_lie_in_1_to_4094() {
    let (error, lab) = lab_err(|b, lab| {
        b.vlan_group_mut(lab.vlan_group).vid_ranges = vec![[0, 2999]];
    });
    assert_violation(
        &error,
        "VLAN range 0-2999 is invalid: VLANs are 1–4094",
        "ipam.vlangroup",
        lab.vlan_group,
    );
}

#[test]
fn the_ranges_of_one_vlan_namespace_do_not_overlap() {
    let (error, lab) = lab_err(|b, lab| {
        b.vlan_group_mut(lab.vlan_group).vid_ranges = vec![[1000, 2000], [1500, 2999]];
    });
    assert_violation(
        &error,
        "VLAN range 1000-2000 overlaps another range of the same group",
        "ipam.vlangroup",
        lab.vlan_group,
    );
}

#[test]
fn a_vlan_namespace_has_1_to_20_ranges() {
    let twenty: Vec<[u16; 2]> = (0..20).map(|i| [1000 + 10 * i, 1005 + 10 * i]).collect();
    lab_ok(|b, lab| b.vlan_group_mut(lab.vlan_group).vid_ranges = twenty.clone());
    for ranges in [vec![], [twenty, vec![[2900, 2999]]].concat()] {
        let count = ranges.len();
        let (error, lab) = lab_err(|b, lab| b.vlan_group_mut(lab.vlan_group).vid_ranges = ranges);
        assert_violation(
            &error,
            &format!(
                "a VLAN namespace needs 1 to 20 VLAN ranges, the VLAN group has {count}; edit its VLAN ID ranges"
            ),
            "ipam.vlangroup",
            lab.vlan_group,
        );
    }
}

#[test]
fn ipv4_namespace_prefixes_stay_clear_of_the_reserved_subnets() {
    let (mut b, _) = lab();
    let reserved = b.namespace_prefix("172.30.96.0/24", json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "prefix 172.30.96.0/24 overlaps the fabric's reserved subnet 172.30.96.0/19; choose another prefix",
        "ipam.prefix",
        reserved,
    );
}

#[test]
fn an_ipv4_namespace_has_at_most_10_prefixes_that_do_not_overlap() {
    let (mut b, _) = lab();
    for i in 1..=9 {
        b.namespace_prefix(&format!("10.{i}.0.0/16"), json!({}));
    }
    render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let eleventh = b.namespace_prefix("10.10.0.0/16", json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "an IPv4 namespace holds at most 10 subnets, this one has 11; move prefixes to another namespace",
        "ipam.prefix",
        eleventh,
    );

    let (mut b, _) = lab();
    let inner = b.namespace_prefix("10.0.5.0/24", json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "prefixes 10.0.0.0/16 and 10.0.5.0/24 of the namespace overlap; remove one",
        "ipam.prefix",
        inner,
    );
}
