//! VPC rules: mode, subnet count and size, reserved subnets, gateways, VLANs, DHCP, permit lists,
//! static routes and the checks against namespaces and other VPCs.

use serde_json::{Value, json};

use super::super::common::*;
use super::{lab_err, lab_ok};

fn set_vrf_cf(b: &mut Builder, lab: &Lab, field: &str, value: Value) {
    set_cf(&mut b.vrf_mut(lab.vrf).custom_fields, field, value);
}

fn set_prefix_cf(b: &mut Builder, prefix: u64, field: &str, value: Value) {
    set_cf(&mut b.prefix_mut(prefix).custom_fields, field, value);
}

/// A DHCP range (role dhcp) in the lab's VRF.
fn dhcp_range(b: &mut Builder, lab: &Lab, start: &str, end: &str) {
    b.snapshot.ip_ranges.push(
        serde_json::from_value(json!({
            "id": 9001, "start_address": start, "end_address": end,
            "vrf": {"id": lab.vrf}, "role": {"id": 1, "slug": "dhcp"}
        }))
        .unwrap(),
    );
}

#[test]
fn the_vpc_mode_is_l2vni_or_l3vni() {
    let (error, lab) = lab_err(|b, lab| set_vrf_cf(b, lab, "hedgehog_vpc_mode", json!("l3flat")));
    assert_violation(
        &error,
        "VPC mode \"l3flat\" is not supported (use empty for L2VNI, or l3vni); fix custom field hedgehog_vpc_mode",
        "ipam.vrf",
        lab.vrf,
    );
}

#[test]
fn a_vpc_has_1_to_20_subnets() {
    let add = |b: &mut Builder, lab: &Lab, count: u16| {
        for i in 0..count {
            let vlan = b.vlan(1100 + i, &format!("extra-{i}"));
            b.subnet(lab.vrf, &format!("10.0.{}.0/24", 100 + i), vlan, json!({}));
        }
    };
    lab_ok(|b, lab| add(b, lab, 18));
    let (error, lab) = lab_err(|b, lab| add(b, lab, 19));
    assert_violation(
        &error,
        "a VPC needs 1 to 20 subnets (prefixes in the VRF with a VLAN), this one has 21",
        "ipam.vrf",
        lab.vrf,
    );
}

#[test]
fn a_vrf_without_subnets_is_reported() {
    let (mut b, _) = lab();
    let empty = b.vrf("vpc-2", &[], &[], json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(&error, "this one has 0", "ipam.vrf", empty);
}

#[test]
fn vpc_subnets_are_30_or_larger_and_clear_of_reserved_subnets() {
    lab_ok(|b, lab| b.prefix_mut(lab.prefix_web).prefix = "10.0.1.0/30".into());
    let (error, lab) = lab_err(|b, lab| b.prefix_mut(lab.prefix_web).prefix = "10.0.1.0/31".into());
    assert_violation(
        &error,
        "subnet 10.0.1.0/31 is too small: VPC subnets are /30 or larger",
        "ipam.prefix",
        lab.prefix_web,
    );
    let (error, lab) =
        lab_err(|b, lab| b.prefix_mut(lab.prefix_web).prefix = "172.30.96.0/24".into());
    assert_violation(
        &error,
        "subnet 172.30.96.0/24 overlaps the fabric's reserved subnet 172.30.96.0/19; choose another prefix",
        "ipam.prefix",
        lab.prefix_web,
    );
}

#[test]
fn a_gateway_is_a_host_address_of_its_subnet() {
    let anycast = |address: &'static str| {
        move |b: &mut Builder, lab: &Lab| {
            let extra = json!({"vrf": {"id": lab.vrf}, "role": {"value": "anycast"}});
            b.ip(address, None, extra);
        }
    };
    lab_ok(anycast("10.0.1.254/24"));
    let (error, lab) = lab_err(anycast("10.0.1.0/24"));
    assert_violation(
        &error,
        "gateway 10.0.1.0 is not a host address inside 10.0.1.0/24; fix the IP address with role anycast",
        "ipam.prefix",
        lab.prefix_web,
    );
}

#[test]
fn subnets_of_a_vpc_have_distinct_names() {
    let (error, lab) = lab_err(|b, lab| {
        set_prefix_cf(b, lab.prefix_db, "hedgehog_subnet_name", json!("web"));
    });
    assert_violation(
        &error,
        "VPC vpc-1 has two subnets named web; give one of its prefixes another custom field hedgehog_subnet_name",
        "ipam.prefix",
        lab.prefix_db,
    );
}

#[test]
fn subnets_of_a_vpc_have_distinct_vlans() {
    let (mut b, lab) = lab();
    let extra = json!({"hedgehog_subnet_name": "web2"});
    let twin = b.subnet(lab.vrf, "10.0.3.0/24", lab.vlan_web, extra);
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "VLAN 1001 is used by subnets web and web2 of the same VPC; give each prefix its own VLAN",
        "ipam.prefix",
        twin,
    );
}

#[test]
fn subnets_of_a_vpc_do_not_overlap() {
    let (mut b, lab) = lab();
    let vlan = b.vlan(1003, "web2");
    let inner = b.subnet(lab.vrf, "10.0.1.128/25", vlan, json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "subnet 10.0.1.128/25 overlaps subnet web of the same VPC; change one of the prefixes",
        "ipam.prefix",
        inner,
    );
}

#[test]
fn vpcs_of_one_ipv4_namespace_share_no_subnet() {
    let (mut b, _) = lab();
    let vpc2 = b.vrf("vpc-2", &[], &[], json!({}));
    let vlan = b.vlan(1003, "app");
    let overlapping = b.subnet(vpc2, "10.0.1.0/25", vlan, json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "subnet 10.0.1.0/25 overlaps a subnet of VPC vpc-1 in the same IPv4 namespace; change one of the prefixes",
        "ipam.prefix",
        overlapping,
    );
}

#[test]
fn vpcs_of_one_vlan_namespace_share_no_vlan() {
    let (mut b, lab) = lab();
    let vpc2 = b.vrf("vpc-2", &[], &[], json!({}));
    let reused = b.subnet(vpc2, "10.0.3.0/24", lab.vlan_web, json!({}));
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    assert_violation(
        &error,
        "VLAN 1001 is already used by VPC vpc-1 in VLAN namespace default; give the prefix another VLAN",
        "ipam.prefix",
        reused,
    );
}

#[test]
fn a_vpcs_namespaces_exist_and_hold_its_subnets_and_vlans() {
    for (field, text) in [
        (
            "hedgehog_ipv4_namespace",
            "IPv4 namespace other does not exist: add prefixes with role hedgehog-ipv4-namespace for it",
        ),
        (
            "hedgehog_vlan_namespace",
            "VLAN namespace other does not exist: create the VLAN group",
        ),
    ] {
        let (error, lab) = lab_err(|b, lab| set_vrf_cf(b, lab, field, json!("other")));
        assert_violation(&error, text, "ipam.vrf", lab.vrf);
    }
    let (error, lab) = lab_err(|b, lab| b.prefix_mut(lab.prefix_web).prefix = "10.1.1.0/24".into());
    assert_violation(
        &error,
        "subnet 10.1.1.0/24 is not inside any subnet of IPv4 namespace default; add a covering namespace prefix or change the prefix",
        "ipam.prefix",
        lab.prefix_web,
    );
    let (error, lab) = lab_err(|b, lab| {
        let vlan = b.snapshot.vlans.iter_mut().find(|v| v.id == lab.vlan_web);
        vlan.unwrap().vid = 500;
    });
    assert_violation(
        &error,
        "VLAN 500 is outside VLAN namespace default; use a VLAN inside the group's ranges",
        "ipam.prefix",
        lab.prefix_web,
    );
}

#[test]
fn dhcp_server_and_relay_exclude_each_other_and_the_relay_is_a_prefix() {
    let (error, lab) = lab_err(|b, lab| {
        set_prefix_cf(b, lab.prefix_web, "hedgehog_dhcp_enable", json!(true));
        set_prefix_cf(
            b,
            lab.prefix_web,
            "hedgehog_dhcp_relay",
            json!("10.99.0.1/32"),
        );
    });
    assert_violation(
        &error,
        "DHCP server and DHCP relay are mutually exclusive; clear hedgehog_dhcp_enable or hedgehog_dhcp_relay",
        "ipam.prefix",
        lab.prefix_web,
    );
    lab_ok(|b, lab| {
        set_prefix_cf(
            b,
            lab.prefix_web,
            "hedgehog_dhcp_relay",
            json!("10.99.0.1/32"),
        )
    });
    let (error, lab) =
        lab_err(|b, lab| set_prefix_cf(b, lab.prefix_web, "hedgehog_dhcp_relay", json!("dhcp-1")));
    assert_violation(
        &error,
        "DHCP relay dhcp-1 must be an IPv4 address with prefix length",
        "ipam.prefix",
        lab.prefix_web,
    );
}

#[test]
fn a_dhcp_range_excludes_the_gateway_and_is_dropped_with_dhcp_off() {
    // The fabric's defaulting drops the range and options of a subnet whose DHCP is off, and
    // admits it; the rendering drops them too, so nothing drifts.
    let rendered = lab_ok(|b, lab| {
        dhcp_range(b, lab, "10.0.1.10/24", "10.0.1.99/24");
        set_prefix_cf(b, lab.prefix_web, "hedgehog_dhcp_enable", json!(false));
        set_prefix_cf(
            b,
            lab.prefix_web,
            "hedgehog_dhcp_options",
            json!({"dnsServers": ["1.1.1.1"]}),
        );
    });
    let web = &find(&rendered, "VPC", "vpc-1").spec["subnets"]["web"];
    assert_eq!(web.get("dhcp"), None, "{web}");
    lab_ok(|b, lab| dhcp_range(b, lab, "10.0.1.2/24", "10.0.1.255/24"));
    let (error, lab) = lab_err(|b, lab| dhcp_range(b, lab, "10.0.1.1/24", "10.0.1.99/24"));
    assert_violation(
        &error,
        "DHCP range 10.0.1.1–10.0.1.99 must lie inside 10.0.1.0/24, exclude the network and gateway addresses, and start below its end; fix the IP range with role dhcp",
        "ipam.prefix",
        lab.prefix_web,
    );
}

#[test]
fn dhcp_options_are_a_json_object_with_a_valid_mtu_and_lease_time() {
    for (options, text) in [
        (
            json!({"interfaceMTU": 9037}),
            "DHCP option interfaceMTU 9037 must be 96–9036; fix custom field hedgehog_dhcp_options",
        ),
        (
            json!({"interfaceMTU": 95}),
            "DHCP option interfaceMTU 95 must be 96–9036",
        ),
        (
            json!({"dns": ["1.1.1.1"]}),
            "custom field hedgehog_dhcp_options must be a JSON object of DHCP options",
        ),
    ] {
        let (error, lab) = lab_err(|b, lab| {
            set_prefix_cf(b, lab.prefix_db, "hedgehog_dhcp_enable", json!(true));
            set_prefix_cf(b, lab.prefix_db, "hedgehog_dhcp_options", options);
        });
        assert_violation(&error, text, "ipam.prefix", lab.prefix_db);
    }
}

#[test]
fn a_zero_dhcp_lease_time_is_the_fabrics_default() {
    let rendered = lab_ok(|b, lab| {
        set_prefix_cf(b, lab.prefix_db, "hedgehog_dhcp_enable", json!(true));
        set_prefix_cf(
            b,
            lab.prefix_db,
            "hedgehog_dhcp_options",
            json!({"leaseTimeSeconds": 0}),
        );
    });
    let options = &find(&rendered, "VPC", "vpc-1").spec["subnets"]["db"]["dhcp"]["options"];
    assert_eq!(options["leaseTimeSeconds"], 3600, "{options}");
}

#[test]
fn host_bgp_subnets_cannot_use_dhcp() {
    lab_ok(|b, lab| set_prefix_cf(b, lab.prefix_db, "hedgehog_host_bgp", json!(true)));
    let (error, lab) = lab_err(|b, lab| {
        set_prefix_cf(b, lab.prefix_db, "hedgehog_host_bgp", json!(true));
        set_prefix_cf(b, lab.prefix_db, "hedgehog_dhcp_enable", json!(true));
    });
    assert_violation(
        &error,
        "hostBGP subnets cannot use DHCP; clear hedgehog_dhcp_enable or hedgehog_host_bgp",
        "ipam.prefix",
        lab.prefix_db,
    );
}

#[test]
fn permit_lists_name_at_least_2_distinct_existing_subnets() {
    lab_ok(|b, lab| set_vrf_cf(b, lab, "hedgehog_vpc_permit", json!([["web", "db"]])));
    for (permit, text) in [
        (
            json!([["web"]]),
            "permit list 1 must name at least 2 subnets",
        ),
        (
            json!([["web", "app"]]),
            "permit list 1 names subnet app, which the VPC does not have",
        ),
        (
            json!([["web", "db"], ["db", "db"]]),
            "permit list 2 names subnet db twice",
        ),
        (
            json!(["web", "db"]),
            "custom field hedgehog_vpc_permit must be a JSON list of lists of subnet names",
        ),
    ] {
        let (error, lab) = lab_err(|b, lab| set_vrf_cf(b, lab, "hedgehog_vpc_permit", permit));
        assert_violation(&error, text, "ipam.vrf", lab.vrf);
        if !text.starts_with("custom field") {
            assert_violation(
                &error,
                "fix the VRF's custom field hedgehog_vpc_permit",
                "ipam.vrf",
                lab.vrf,
            );
        }
    }
}

#[test]
fn static_routes_are_canonical_and_have_next_hops() {
    let route = |prefix: &str, hops: Value| json!([{"prefix": prefix, "nextHops": hops}]);
    let hop = json!(["10.0.1.5"]);
    // A default route and a route into a reserved subnet are admitted: the fabric checks
    // static-route prefixes against nothing.
    for prefix in ["192.168.0.0/24", "0.0.0.0/0", "172.30.8.0/24"] {
        lab_ok(|b, lab| {
            set_vrf_cf(
                b,
                lab,
                "hedgehog_vpc_static_routes",
                route(prefix, hop.clone()),
            );
        });
    }
    for (routes, text) in [
        (
            route("192.168.0.1/24", hop.clone()),
            "static route prefix 192.168.0.1/24 is not a canonical IPv4 prefix; fix the VRF's custom field hedgehog_vpc_static_routes",
        ),
        (
            route("192.168.0.0/24", json!([])),
            "static route 192.168.0.0/24 needs at least one next hop",
        ),
    ] {
        let (error, lab) =
            lab_err(|b, lab| set_vrf_cf(b, lab, "hedgehog_vpc_static_routes", routes));
        assert_violation(&error, text, "ipam.vrf", lab.vrf);
    }
}
