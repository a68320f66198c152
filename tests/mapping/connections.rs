//! Each connection type, rendered from cables, and the grouping and naming rules of the design
//! doc ("Connections from cables").

use serde_json::json;

use super::common::*;

fn connection_names(b: &Builder, config: &str) -> Vec<String> {
    names_of(
        &render_ok(&fabric_config(config), &b.snapshot),
        "Connection",
    )
}

#[test]
fn a_server_nic_not_in_a_lag_is_unbundled_with_the_switch_ports_mtu() {
    let (b, _) = lab();
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "Connection", "server-02--unbundled--leaf-01").spec,
        json!({"unbundled": {
            "link": {"server": {"port": "server-02/enp2s1"}, "switch": {"port": "leaf-01/E1/6"}},
            "mtu": 9000,
        }})
    );
}

#[test]
fn a_lag_to_one_switch_is_bundled_in_port_order_and_attaches_the_switch_lags_vlans() {
    let (mut b, lab) = lab();
    let server = b.device("server-03", "server", json!({"hedgehog_fabric": null}));
    let bond = b.interface(server, "bond0", json!({"type": "lag"}));
    let port_channel = b.interface(
        lab.leaf1,
        "PortChannel3",
        json!({"type": "lag", "mode": "tagged", "tagged_vlans": [{"id": lab.vlan_web}]}),
    );
    // Cabled E1/10 first: links are still listed in natural port order (E1/9 before E1/10).
    for (nic, port) in [("enp2s1", "E1/10"), ("enp2s2", "E1/9")] {
        let sw = b.interface(lab.leaf1, port, json!({"lag": {"id": port_channel}}));
        let nic = b.interface(server, nic, json!({"lag": {"id": bond}}));
        b.cable(nic, sw, json!({}));
    }
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "Connection", "server-03--bundled--leaf-01").spec,
        json!({"bundled": {"links": [
            {"server": {"port": "server-03/enp2s2"}, "switch": {"port": "leaf-01/E1/9"}},
            {"server": {"port": "server-03/enp2s1"}, "switch": {"port": "leaf-01/E1/10"}},
        ]}})
    );
    assert_eq!(
        find(
            &rendered,
            "VPCAttachment",
            "vpc-1--server-03--bundled--leaf-01"
        )
        .spec,
        json!({"subnet": "vpc-1/web", "connection": "server-03--bundled--leaf-01"})
    );
}

#[test]
fn a_lag_across_the_switches_of_one_redundancy_group_is_eslag() {
    let (b, _) = lab();
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(
            &rendered,
            "Connection",
            "server-01--eslag--leaf-01--leaf-02"
        )
        .spec,
        json!({"eslag": {"links": [
            {"server": {"port": "server-01/enp2s1"}, "switch": {"port": "leaf-01/E1/5"}},
            {"server": {"port": "server-01/enp2s2"}, "switch": {"port": "leaf-02/E1/5"}},
        ]}})
    );
}

#[test]
fn a_lag_across_switches_without_a_shared_redundancy_group_is_reported_on_its_cables() {
    let (mut b, lab) = lab();
    b.device_mut(lab.leaf2)
        .custom_fields
        .0
        .remove("hedgehog_redundancy_group");
    let error = render_err(&fabric_config(CLUSTER), &b.snapshot);
    for cable in lab.eslag_cables {
        assert_violation(
            &error,
            "do not share one redundancy group; set the same custom field hedgehog_redundancy_group",
            "dcim.cable",
            cable,
        );
    }
}

/// The lab with leaf-01 and leaf-02 in an MCLAG (not ESLAG) redundancy group.
fn mclag_lab() -> Builder {
    let (mut b, lab) = lab();
    for leaf in [lab.leaf1, lab.leaf2] {
        set_cf(
            &mut b.device_mut(leaf).custom_fields,
            "hedgehog_redundancy_type",
            json!("mclag"),
        );
    }
    b
}

#[test]
fn mclag_is_skipped_with_a_warning_unless_the_fabric_renders_it() {
    let b = mclag_lab();
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let names = names_of(&rendered, "Connection");
    assert!(!names.iter().any(|n| n.contains("mclag")), "{names:?}");
    assert!(
        !names_of(&rendered, "VPCAttachment")
            .iter()
            .any(|n| n.contains("server-01")),
        "nothing attaches to a connection that is not rendered"
    );
    let warning = rendered
        .warnings
        .iter()
        .find(|w| w.message.contains("MCLAG"))
        .expect("an MCLAG warning");
    assert!(warning.message.contains("render_mclag = true"));
    assert_eq!(warning.sources.len(), 2, "both cables are named");

    // In a wiring file (a running fabric refuses the VPC attachment on it, as tested below).
    let rendered = render_ok(
        &fabric_config("name = \"lab\"\nvalidation = \"wiring\"\n[mapping]\nrender_mclag = true\n"),
        &b.snapshot,
    );
    let mclag = find(
        &rendered,
        "Connection",
        "server-01--mclag--leaf-01--leaf-02",
    );
    assert_eq!(mclag.spec["mclag"]["links"].as_array().unwrap().len(), 2);
}

/// The fabric attaches no VPC to an MCLAG connection ("vpc can be attached only to Unbundled,
/// Bundled or ESLAG connections"): a running fabric's refusal, only a warning in a wiring file.
#[test]
fn a_vpc_on_an_mclag_connection_is_refused_for_a_cluster_and_a_warning_in_a_wiring_file() {
    let b = mclag_lab();
    let cluster = fabric_config("name = \"lab\"\n[mapping]\nrender_mclag = true\n");
    let error = render_err(&cluster, &b.snapshot);
    let refusal = error
        .violations
        .iter()
        .find(|v| v.message.contains("is an MCLAG connection"))
        .unwrap_or_else(|| panic!("no MCLAG refusal:\n{error}"));
    assert_eq!(
        refusal.object.as_ref().map(|o| o.kind.as_str()),
        Some("VPCAttachment"),
        "{refusal:?}"
    );
    let wiring =
        fabric_config("name = \"lab\"\nvalidation = \"wiring\"\n[mapping]\nrender_mclag = true\n");
    let rendered = render_ok(&wiring, &b.snapshot);
    assert!(
        names_of(&rendered, "VPCAttachment")
            .iter()
            .any(|n| n.contains("--mclag--")),
        "a wiring file keeps the attachment"
    );
    assert!(
        rendered
            .warnings
            .iter()
            .any(|w| w.message.contains("is an MCLAG connection")),
        "{:?}",
        rendered.warnings
    );
}

#[test]
fn all_cables_of_a_spine_leaf_pair_form_one_fabric_connection_spine_side_first() {
    let (mut b, lab) = lab();
    // Cabled from the leaf's side: the link is still spine first.
    let (leaf_port, spine_port, _) = b.link(lab.leaf1, "E1/2", lab.spine, "E1/3");
    b.ip("172.30.128.4/31", Some(spine_port), json!({}));
    b.ip("172.30.128.5/31", Some(leaf_port), json!({}));
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        names_of(&rendered, "Connection")
            .iter()
            .filter(|n| n.contains("--fabric--"))
            .count(),
        2
    );
    assert_eq!(
        find(&rendered, "Connection", "spine-01--fabric--leaf-01").spec,
        json!({"fabric": {"links": [
            {"spine": {"port": "spine-01/E1/1", "ip": "172.30.128.0/31"},
             "leaf": {"port": "leaf-01/E1/1", "ip": "172.30.128.1/31"}},
            {"spine": {"port": "spine-01/E1/3", "ip": "172.30.128.4/31"},
             "leaf": {"port": "leaf-01/E1/2", "ip": "172.30.128.5/31"}},
        ]}})
    );
}

#[test]
fn leaf_cables_in_a_fabric_without_spines_form_a_mesh_connection_in_name_order() {
    let (b, _) = mesh_fabric();
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "Connection", "leaf-01--mesh--leaf-02").spec,
        json!({"mesh": {"links": [
            {"leaf1": {"port": "leaf-01/E1/1", "ip": "172.30.128.0/31"},
             "leaf2": {"port": "leaf-02/E1/1", "ip": "172.30.128.1/31"}},
        ]}})
    );
}

#[test]
fn a_leaf_to_leaf_cable_in_a_spine_leaf_fabric_is_skipped_with_a_warning() {
    let (mut b, lab) = lab();
    let (_, _, cable) = b.link(lab.leaf1, "E1/20", lab.leaf2, "E1/20");
    assert_cable_skipped(&b, cable, "mesh");
}

/// Renders `b`: no connection name contains `part`, and a warning names `cable`.
fn assert_cable_skipped(b: &Builder, cable: u64, part: &str) {
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let names = names_of(&rendered, "Connection");
    assert!(!names.iter().any(|n| n.contains(part)), "{names:?}");
    assert!(
        rendered
            .warnings
            .iter()
            .any(|w| w.sources[0].id == cable && w.message.contains("is not rendered")),
        "{:?}",
        rendered.warnings
    );
}

#[test]
fn cables_between_ports_of_one_switch_form_its_vpc_loopback() {
    let (mut b, lab) = lab();
    b.link(lab.leaf1, "E1/14", lab.leaf1, "E1/13");
    b.link(lab.leaf1, "E1/11", lab.leaf1, "E1/12");
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "Connection", "leaf-01--vpc-loopback").spec,
        json!({"vpcLoopback": {"links": [
            {"switch1": {"port": "leaf-01/E1/11"}, "switch2": {"port": "leaf-01/E1/12"}},
            {"switch1": {"port": "leaf-01/E1/13"}, "switch2": {"port": "leaf-01/E1/14"}},
        ]}})
    );
}

#[test]
fn two_external_cables_to_one_device_are_named_by_their_switch_ports() {
    let (mut b, lab) = lab();
    let ext = bgp_external(&mut b, &lab, &[]);
    b.link(lab.leaf2, "E1/47", ext.router, "eth1");
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(
            &rendered,
            "Connection",
            "leaf-02--e1-47--external--edge-router"
        )
        .spec,
        json!({"external": {"link": {"switch": {"port": "leaf-02/E1/47"}}}})
    );
    let attachment = find(&rendered, "ExternalAttachment", "leaf-02--inet");
    assert_eq!(
        attachment.spec["connection"],
        "leaf-02--e1-48--external--edge-router"
    );
}

#[test]
fn a_static_external_device_gives_a_static_external_connection_with_its_routes() {
    let (mut b, lab) = lab();
    let vlan = b.vlan(1500, "dhcp-relay");
    let device = b.device(
        "dhcp-server",
        "static-external",
        json!({"hedgehog_fabric": null, "hedgehog_static_prefixes": ["198.51.100.0/24"]}),
    );
    let switch = b.interface(
        lab.leaf2,
        "E1/47",
        json!({"mode": "access", "untagged_vlan": {"id": vlan}}),
    );
    let remote = b.interface(device, "eth0", json!({}));
    b.cable(switch, remote, json!({}));
    // An address in a VPC's VRF places the route in that VPC (withinVPC).
    b.ip(
        "10.0.200.1/30",
        Some(switch),
        json!({"vrf": {"id": lab.vrf}}),
    );
    b.ip("10.0.200.2/30", Some(remote), json!({}));
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(
            &rendered,
            "Connection",
            "leaf-02--static-external--dhcp-server"
        )
        .spec,
        json!({"staticExternal": {
            "link": {"switch": {"port": "leaf-02/E1/47", "ip": "10.0.200.1/30", "nextHop": "10.0.200.2",
                                "subnets": ["198.51.100.0/24"], "vlan": 1500}},
            "withinVPC": "vpc-1",
        }})
    );
}

#[test]
fn a_gateway_device_cabled_to_a_spine_gives_a_gateway_connection() {
    let (mut b, lab) = lab();
    let gateway = b.device("gateway-1", "gateway", json!({"hedgehog_fabric": null}));
    let (switch, remote, _) = b.link(lab.spine, "E1/10", gateway, "enp2s1");
    b.ip("172.30.128.10/31", Some(switch), json!({}));
    b.ip("172.30.128.11/31", Some(remote), json!({}));
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "Connection", "spine-01--gateway--gateway-1").spec,
        json!({"gateway": {"links": [
            {"switch": {"port": "spine-01/E1/10", "ip": "172.30.128.10/31"},
             "gateway": {"port": "gateway-1/enp2s1", "ip": "172.30.128.11/31"}},
        ]}})
    );
}

#[test]
fn a_cable_to_a_device_of_no_fabric_role_is_skipped_with_a_warning() {
    let (mut b, lab) = lab();
    let pdu = b.device("pdu-1", "pdu", json!({"hedgehog_fabric": null}));
    let (_, _, cable) = b.link(lab.leaf1, "E1/30", pdu, "outlet-1");
    assert_cable_skipped(&b, cable, "pdu");
}

#[test]
fn colliding_connection_names_get_the_server_interface_name() {
    let (mut b, lab) = lab();
    b.link(lab.leaf1, "E1/7", lab.server2, "enp2s2");
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let names = names_of(&rendered, "Connection");
    for name in [
        "server-02--enp2s1--unbundled--leaf-01",
        "server-02--enp2s2--unbundled--leaf-01",
    ] {
        assert!(names.contains(&name.to_owned()), "{names:?}");
    }
    assert!(!names.contains(&"server-02--unbundled--leaf-01".to_owned()));
    assert_eq!(
        find(
            &rendered,
            "VPCAttachment",
            "vpc-1--server-02--enp2s1--unbundled--leaf-01"
        )
        .spec["connection"],
        "server-02--enp2s1--unbundled--leaf-01"
    );
}

#[test]
fn a_hedgehog_name_on_the_cables_names_the_connection() {
    let (mut b, lab) = lab();
    set_cf(
        &mut b.cable_mut(lab.unbundled_cable).custom_fields,
        "hedgehog_name",
        json!("db-link"),
    );
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    find(&rendered, "Connection", "db-link");
    assert_eq!(
        find(&rendered, "VPCAttachment", "vpc-1--db-link").spec["connection"],
        "db-link"
    );
}

#[test]
fn names_over_63_characters_are_shortened_deterministically_and_stay_distinct() {
    let long = "server-with-a-rather-long-name-that-fills-a-label-01";
    let (mut b, lab) = lab();
    b.device_mut(lab.server2).name = Some(long.into());
    let other = b.device(
        &long.replace("-01", "-02"),
        "server",
        json!({"hedgehog_fabric": null}),
    );
    b.link(lab.leaf1, "E1/7", other, "enp2s1");
    let names: Vec<String> = connection_names(&b, CLUSTER)
        .into_iter()
        .filter(|n| n.starts_with("server-with"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_ne!(names[0], names[1]);
    for name in &names {
        assert!(name.len() <= 63, "{name}");
        let (cut, hash) = name.rsplit_once('-').unwrap();
        assert!(format!("{long}--unbundled--leaf-01").starts_with(&cut[..40]));
        assert_eq!(hash.len(), 8);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    }
    assert_eq!(connection_names(&b, CLUSTER), connection_names(&b, CLUSTER));
    // The server keeps its name (it fits), and its attachment follows the shortened name.
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    find(&rendered, "Server", long);
    let attachments = names_of(&rendered, "VPCAttachment");
    assert!(
        attachments
            .iter()
            .any(|a| names.iter().any(|n| *a == format!("vpc-1--{n}"))),
        "{attachments:?}"
    );
}
