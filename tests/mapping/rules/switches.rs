//! Switch rules: required fields per validation level, ASNs, management, protocol and VTEP
//! addresses, role, profile, redundancy, VLAN namespaces and breakouts.

use serde_json::json;

use super::super::common::*;
use super::{changed, lab_err, lab_ok};

fn set_device_cf(b: &mut Builder, device: u64, field: &str, value: serde_json::Value) {
    set_cf(&mut b.device_mut(device).custom_fields, field, value);
}

fn remove_cf(b: &mut Builder, device: u64, field: &str) {
    b.device_mut(device).custom_fields.0.remove(field);
}

#[test]
fn a_cluster_needs_each_switch_asn_but_a_wiring_file_does_not() {
    let remove_asn = |b: &mut Builder, lab: &Lab| remove_cf(b, lab.leaf1, "hedgehog_asn");
    let (error, lab) = lab_err(remove_asn);
    assert_violation(
        &error,
        "a running fabric needs every switch's ASN (custom field hedgehog_asn); add them in NetBox",
        "dcim.device",
        lab.leaf1,
    );
    let (b, _) = changed(remove_asn);
    render_ok(
        &fabric_config("name = \"lab\"\nvalidation = \"wiring\"\n"),
        &b.snapshot,
    );
}

#[test]
fn a_cluster_needs_the_management_protocol_and_vtep_ips() {
    let (error, lab) = lab_err(|b, lab| {
        b.device_mut(lab.leaf1).primary_ip4 = None;
        b.ip_mut("172.30.8.2/32").tags.clear();
        b.ip_mut("172.30.12.2/32").tags.clear();
    });
    for missing in [
        "management IP (the device's primary IPv4)",
        "protocol IP (an IP address tagged hedgehog-protocol-ip)",
        "VTEP IP (an IP address tagged hedgehog-vtep-ip)",
    ] {
        assert_violation(&error, missing, "dcim.device", lab.leaf1);
    }
}

#[test]
fn a_leaf_needs_a_vtep_ip_in_a_fabric_without_spines_too() {
    let (mut b, [leaf1, _]) = mesh_fabric();
    b.ip_mut("172.30.12.2/32").tags.clear();
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "VTEP IP (an IP address tagged hedgehog-vtep-ip)",
        "dcim.device",
        leaf1,
    );
}

#[test]
fn a_spine_has_the_spine_asn_and_no_vtep_ip() {
    let (error, lab) = lab_err(|b, lab| {
        set_device_cf(b, lab.spine, "hedgehog_asn", json!(65101));
    });
    assert_violation(
        &error,
        "a spine's ASN must be the fabric's spine ASN 65100, not 65101; fix custom field hedgehog_asn",
        "dcim.device",
        lab.spine,
    );
    let (error, lab) = lab_err(|b, lab| {
        let lo = b.snapshot.interfaces.iter();
        let lo = lo
            .filter(|i| i.device.id == lab.spine && i.name == "lo")
            .map(|i| i.id)
            .next();
        b.ip(
            "172.30.12.1/32",
            lo,
            json!({"tags": [{"slug": "hedgehog-vtep-ip"}]}),
        );
    });
    assert_violation(
        &error,
        "a spine must not have a VTEP IP; remove the hedgehog-vtep-ip tag",
        "dcim.device",
        lab.spine,
    );
}

#[test]
fn leaf_asns_lie_in_the_leaf_range() {
    lab_ok(|b, lab| set_device_cf(b, lab.leaf1, "hedgehog_asn", json!(65533)));
    for asn in [65534, 65100] {
        let (error, lab) =
            lab_err(|b, lab| set_device_cf(b, lab.leaf1, "hedgehog_asn", json!(asn)));
        assert_violation(
            &error,
            &format!(
                "leaf ASN {asn} is outside the fabric's leaf range 65101–65533; fix custom field hedgehog_asn"
            ),
            "dcim.device",
            lab.leaf1,
        );
    }
}

#[test]
fn leaf_asns_are_unique_and_valid_numbers() {
    let (error, lab) = lab_err(|b, lab| set_device_cf(b, lab.leaf2, "hedgehog_asn", json!(65102)));
    assert_violation(
        &error,
        "leaf ASN 65102 is already used by leaf-01; every leaf needs its own hedgehog_asn",
        "dcim.device",
        lab.leaf2,
    );
    let (error, lab) = lab_err(|b, lab| set_device_cf(b, lab.leaf2, "hedgehog_asn", json!(-1)));
    assert_violation(
        &error,
        "custom field hedgehog_asn = -1 is not a valid ASN",
        "dcim.device",
        lab.leaf2,
    );
}

#[test]
fn the_management_ip_lies_in_the_management_subnet_below_dhcp_and_is_not_the_vip() {
    lab_ok(|b, _| b.ip_mut("172.30.0.12/21").address = "172.30.3.254/21".into());
    // Only the address counts: the fabric admits another prefix length.
    lab_ok(|b, _| b.ip_mut("172.30.0.12/21").address = "172.30.0.12/24".into());
    for (address, text) in [
        (
            "10.1.0.12/21",
            "must lie in the management subnet 172.30.0.0/21; fix the primary IPv4",
        ),
        (
            "172.30.4.0/21",
            "must be below the management DHCP range start 172.30.4.0",
        ),
        (
            "172.30.0.1/21",
            "is the control VIP; choose another address",
        ),
        (
            "172.30.0.13/21",
            "is already used by leaf-01; give each switch its own primary IPv4",
        ),
    ] {
        let (error, lab) = lab_err(|b, _| b.ip_mut("172.30.0.12/21").address = address.into());
        let blamed = if address == "172.30.0.13/21" {
            lab.leaf2
        } else {
            lab.leaf1
        };
        assert_violation(&error, text, "dcim.device", blamed);
    }
}

#[test]
fn protocol_and_vtep_ips_are_unique_32s_in_their_subnets() {
    for (from, to, text) in [
        (
            "172.30.8.2/32",
            "172.30.8.2/24",
            "protocol IP 172.30.8.2/24 must be a /32 inside 172.30.8.0/22; fix the IP address tagged hedgehog-protocol-ip",
        ),
        (
            "172.30.12.2/32",
            "172.30.16.2/32",
            "VTEP IP 172.30.16.2/32 must be a /32 inside 172.30.12.0/22; fix the IP address tagged hedgehog-vtep-ip",
        ),
    ] {
        let (error, lab) = lab_err(|b, _| b.ip_mut(from).address = to.into());
        assert_violation(&error, text, "dcim.device", lab.leaf1);
    }
    let (error, lab) = lab_err(|b, _| b.ip_mut("172.30.12.3/32").address = "172.30.12.2/32".into());
    assert_violation(
        &error,
        "VTEP IP 172.30.12.2/32 is already used by leaf-01; tag another address hedgehog-vtep-ip",
        "dcim.device",
        lab.leaf2,
    );
}

#[test]
fn a_switch_needs_a_profile_and_a_hedgehog_role() {
    let (error, lab) = lab_err(|b, lab| remove_cf(b, lab.leaf1, "hedgehog_profile"));
    assert_violation(
        &error,
        "no switch profile: set the device's custom field hedgehog_profile, or map its device type",
        "dcim.device",
        lab.leaf1,
    );
    let (error, lab) = lab_err(|b, lab| {
        set_device_cf(b, lab.leaf1, "hedgehog_role", json!("virtual-edge"));
    });
    assert_violation(
        &error,
        "role \"virtual-edge\" is not a Hedgehog switch role",
        "dcim.device",
        lab.leaf1,
    );
}

#[test]
fn redundancy_type_is_eslag_or_mclag_and_needs_a_group() {
    let (error, lab) = lab_err(|b, lab| {
        set_device_cf(b, lab.spine, "hedgehog_redundancy_type", json!("eslag"));
    });
    assert_violation(
        &error,
        "a redundancy type needs a redundancy group; set custom field hedgehog_redundancy_group",
        "dcim.device",
        lab.spine,
    );
    let (error, lab) = lab_err(|b, lab| {
        for leaf in [lab.leaf1, lab.leaf2] {
            set_device_cf(b, leaf, "hedgehog_redundancy_type", json!("vpc"));
        }
    });
    assert_violation(
        &error,
        "redundancy type \"vpc\" is neither eslag nor mclag; fix custom field hedgehog_redundancy_type",
        "dcim.device",
        lab.leaf1,
    );
}

#[test]
fn a_switchs_vlan_namespaces_exist_and_do_not_overlap() {
    let (error, lab) = lab_err(|b, lab| {
        set_device_cf(b, lab.spine, "hedgehog_vlan_namespaces", json!("other"));
    });
    assert_violation(
        &error,
        "VLAN namespace other does not exist: create a VLAN group with slug other in the fabric, or fix custom field hedgehog_vlan_namespaces",
        "dcim.device",
        lab.spine,
    );
    let two = json!("default,second");
    let (b, _) = changed(|b, lab| {
        b.vlan_group("second", json!([[3, 999]]));
        set_device_cf(b, lab.spine, "hedgehog_vlan_namespaces", two.clone());
    });
    render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let (error, lab) = lab_err(|b, lab| {
        b.vlan_group("second", json!([[2000, 2100]]));
        set_device_cf(b, lab.spine, "hedgehog_vlan_namespaces", two);
    });
    assert_violation(
        &error,
        "VLAN namespaces default and second overlap (1000-2999 and 2000-2100); a switch's namespaces must not overlap",
        "dcim.device",
        lab.spine,
    );
}

#[test]
fn port_breakouts_are_a_json_object_of_port_to_mode() {
    let (error, lab) = lab_err(|b, lab| {
        set_device_cf(
            b,
            lab.leaf1,
            "hedgehog_port_breakouts",
            json!(["E1/1", "4x25G"]),
        );
    });
    assert_violation(
        &error,
        "custom field hedgehog_port_breakouts must be a JSON object of port → breakout mode",
        "dcim.device",
        lab.leaf1,
    );
}
