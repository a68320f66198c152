//! Each kind renders with the fields the design doc maps, and passes its CRD schema.

use hedgehog_sidecar::mapping;
use hedgehog_sidecar::model::{
    Agent, ConnectionSpec, ServerProfileSpec, SwitchProfileSpec, SwitchSpec, from_manifest,
};
use serde_json::json;

use super::common::*;

#[test]
fn the_lab_renders_every_wiring_kind_at_cluster_level() {
    let (b, _) = lab();
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    for kind in [
        "VLANNamespace",
        "IPv4Namespace",
        "SwitchGroup",
        "Switch",
        "Server",
        "Connection",
        "VPC",
        "VPCAttachment",
    ] {
        assert!(!names_of(&rendered, kind).is_empty(), "no {kind}");
    }
    let leaf = find(&rendered, "Switch", "leaf-01");
    assert_eq!(
        leaf.spec,
        json!({
            "role": "server-leaf", "profile": "vs", "asn": 65102,
            "ip": "172.30.0.12/21", "protocolIP": "172.30.8.2/32", "vtepIP": "172.30.12.2/32",
            "groups": ["eslag-1"], "redundancy": {"group": "eslag-1", "type": "eslag"},
            "vlanNamespaces": ["default"],
        })
    );
    let spine: SwitchSpec = from_manifest(find(&rendered, "Switch", "spine-01"))
        .unwrap()
        .unwrap();
    assert_eq!((spine.asn, spine.vtep_ip), (Some(65100), None));
    assert_eq!(names_of(&rendered, "SwitchGroup"), ["eslag-1"]);
    assert_eq!(
        find(&rendered, "VLANNamespace", "default").spec,
        json!({"ranges": [{"from": 1000, "to": 2999}]})
    );
    assert_eq!(
        find(&rendered, "IPv4Namespace", "default").spec,
        json!({"subnets": ["10.0.0.0/16"]})
    );
    assert_eq!(names_of(&rendered, "Server"), ["server-01", "server-02"]);
}

#[test]
fn labels_and_annotations_point_back_at_netbox() {
    let (b, lab) = lab();
    let mut fabric = fabric_config(
        "name = \"lab\"\n[mapping]\nlabel_domain = \"example.org\"\nnetbox_public_url = \"https://nb.example.org/\"\n",
    );
    fabric.name = "lab".into();
    let rendered = render_ok(&fabric, &b.snapshot);
    for m in &rendered.manifests {
        assert_eq!(
            m.metadata.labels["app.kubernetes.io/managed-by"],
            "hedgehog-sidecar"
        );
        assert_eq!(m.metadata.labels["example.org/fabric"], "lab");
        assert!(
            m.metadata
                .labels
                .keys()
                .all(|k| !k.contains("fabric.githedgehog.com/"))
        );
        assert_eq!(m.metadata.namespace.as_deref(), Some("default"));
        assert!(
            m.metadata
                .annotations
                .contains_key("example.org/netbox-object-id"),
            "{}",
            m.metadata.name
        );
    }
    let leaf = find(&rendered, "Switch", "leaf-01");
    assert_eq!(
        leaf.metadata.annotations["example.org/netbox-object-type"],
        "dcim.device"
    );
    assert_eq!(
        leaf.metadata.annotations["example.org/netbox-object-id"],
        lab.leaf1.to_string()
    );
    assert_eq!(
        leaf.metadata.annotations["example.org/netbox-url"],
        format!("https://nb.example.org/dcim/devices/{}/", lab.leaf1)
    );
    // A connection made of two cables names both.
    let key = find(&rendered, "Connection", "spine-01--fabric--leaf-01")
        .key()
        .unwrap();
    let cables: Vec<u64> = rendered.sources_of(&key).iter().map(|s| s.id).collect();
    assert_eq!(cables, [lab.fabric_cables[0]]);
    let eslag = find(
        &rendered,
        "Connection",
        "server-01--eslag--leaf-01--leaf-02",
    );
    assert_eq!(
        eslag.metadata.annotations["example.org/netbox-object-type"],
        "dcim.cable"
    );
    assert!(eslag.metadata.annotations["example.org/netbox-object-id"].contains(','));
    assert!(
        eslag.metadata.annotations["example.org/netbox-url"]
            .starts_with("https://nb.example.org/dcim/cables/?id=")
    );
    let vpc = find(&rendered, "VPC", "vpc-1").key().unwrap();
    assert_eq!(rendered.sources_of(&vpc)[0].object_type, "ipam.vrf");
}

#[test]
fn vpcs_subnets_gateways_dhcp_and_attachments() {
    let (mut b, lab) = lab();
    b.ip(
        "10.0.1.254/24",
        None,
        json!({"vrf": {"id": lab.vrf}, "role": {"value": "anycast"}}),
    );
    b.snapshot.ip_ranges.push(
        serde_json::from_value(json!({
            "id": 9001, "start_address": "10.0.1.10/24", "end_address": "10.0.1.99/24",
            "vrf": {"id": lab.vrf}, "role": {"id": 1, "slug": "dhcp"}
        }))
        .unwrap(),
    );
    let prefix = b.prefix_mut(lab.prefix_db);
    set_cf(
        &mut prefix.custom_fields,
        "hedgehog_subnet_name",
        json!("database"),
    );
    set_cf(
        &mut prefix.custom_fields,
        "hedgehog_dhcp_enable",
        json!(true),
    );
    set_cf(
        &mut prefix.custom_fields,
        "hedgehog_dhcp_options",
        json!({"dnsServers": ["1.1.1.1"], "leaseTimeSeconds": 600}),
    );
    set_cf(&mut prefix.custom_fields, "hedgehog_isolated", json!(true));
    let vrf = b.vrf_mut(lab.vrf);
    set_cf(&mut vrf.custom_fields, "hedgehog_vpc_mode", json!("l3vni"));
    set_cf(
        &mut vrf.custom_fields,
        "hedgehog_vpc_permit",
        json!([["web", "database"]]),
    );
    set_cf(
        &mut vrf.custom_fields,
        "hedgehog_vpc_static_routes",
        json!([{"prefix": "192.168.0.0/24", "nextHops": ["10.0.1.5"]}]),
    );
    // l3vni VPCs cannot go over ESLAG: take the web VLAN off the ESLAG ports.
    for port in lab.eslag_ports {
        b.interface_mut(port).tagged_vlans.clear();
    }
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "VPC", "vpc-1").spec,
        json!({
            "mode": "l3vni", "ipv4Namespace": "default", "vlanNamespace": "default",
            "permit": [["web", "database"]],
            "staticRoutes": [{"prefix": "192.168.0.0/24", "nextHops": ["10.0.1.5"]}],
            "subnets": {
                "web": {"subnet": "10.0.1.0/24", "vlan": 1001, "gateway": "10.0.1.254",
                        "dhcp": {"enable": true, "range": {"start": "10.0.1.10", "end": "10.0.1.99"}}},
                // The gateway and the DHCP range the fabric's defaulting fills in are rendered.
                "database": {"subnet": "10.0.2.0/24", "vlan": 1002, "isolated": true, "gateway": "10.0.2.1",
                             "dhcp": {"enable": true, "range": {"start": "10.0.2.2", "end": "10.0.2.255"},
                                      "options": {"dnsServers": ["1.1.1.1"], "interfaceMTU": 9036, "leaseTimeSeconds": 600}}},
            }
        })
    );
    assert_eq!(
        find(
            &rendered,
            "VPCAttachment",
            "vpc-1--server-02--unbundled--leaf-01"
        )
        .spec,
        json!({"subnet": "vpc-1/database", "connection": "server-02--unbundled--leaf-01", "nativeVLAN": true})
    );
}

#[test]
fn a_vpc_attaching_two_subnets_to_one_connection_names_each_attachment_by_subnet() {
    let (mut b, lab) = lab();
    for port in lab.eslag_ports {
        b.interface_mut(port)
            .tagged_vlans
            .push(serde_json::from_value(json!({"id": lab.vlan_db})).unwrap());
    }
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let names = names_of(&rendered, "VPCAttachment");
    assert!(
        names.contains(&"vpc-1--web--server-01--eslag--leaf-01--leaf-02".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"vpc-1--db--server-01--eslag--leaf-01--leaf-02".to_owned()),
        "{names:?}"
    );
}

#[test]
fn vpc_peerings_externals_and_their_attachments_and_peerings() {
    let (mut b, lab) = lab();
    let rt1 = b.route_target("65000:1");
    let rt2 = b.route_target("65000:2");
    let rt_ext = b.route_target("65000:99");
    b.vrf_mut(lab.vrf)
        .export_targets
        .push(serde_json::from_value(json!({"id": rt1})).unwrap());
    b.vrf_mut(lab.vrf).import_targets.extend([
        serde_json::from_value(json!({"id": rt2})).unwrap(),
        serde_json::from_value(json!({"id": rt_ext})).unwrap(),
    ]);
    let vrf2 = b.vrf("vpc-2", &[rt1], &[rt2], json!({}));
    let vlan = b.vlan(1010, "app");
    b.subnet(vrf2, "10.0.10.0/24", vlan, json!({}));
    // Only one direction: no peering with vpc-3.
    let vrf3 = b.vrf("vpc-3", &[rt1], &[], json!({}));
    let vlan3 = b.vlan(1020, "other");
    b.subnet(vrf3, "10.0.20.0/24", vlan3, json!({}));
    let ext = bgp_external(&mut b, &lab, &[rt_ext]).vrf;
    set_cf(
        &mut b.vrf_mut(ext).custom_fields,
        "hedgehog_permit_prefixes",
        json!(["10.99.0.0/16"]),
    );
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(names_of(&rendered, "VPCPeering"), ["vpc-1--vpc-2"]);
    assert_eq!(
        find(&rendered, "VPCPeering", "vpc-1--vpc-2").spec,
        json!({"permit": [{"vpc-1": {"subnets": ["db", "web"]}, "vpc-2": {"subnets": ["app"]}}]})
    );
    assert_eq!(
        find(&rendered, "External", "inet").spec,
        json!({"ipv4Namespace": "default", "inboundCommunity": "65102:5000", "outboundCommunity": "50000:50001"})
    );
    assert_eq!(
        find(&rendered, "Connection", "leaf-02--external--edge-router").spec,
        json!({"external": {"link": {"switch": {"port": "leaf-02/E1/48"}}}})
    );
    assert_eq!(
        find(&rendered, "ExternalAttachment", "leaf-02--inet").spec,
        json!({"external": "inet", "connection": "leaf-02--external--edge-router",
               "switch": {"ip": "192.0.2.1/30", "vlan": 200}, "neighbor": {"asn": 64999, "ip": "192.0.2.2"}})
    );
    assert_eq!(
        find(&rendered, "ExternalPeering", "vpc-1--inet").spec,
        json!({"permit": {"vpc": {"name": "vpc-1", "subnets": ["db", "web"]},
                          "external": {"name": "inet", "prefixes": [{"prefix": "10.99.0.0/16"}]}}})
    );
}

#[test]
fn static_externals_render_static_attachments() {
    let (mut b, lab) = lab();
    static_external(&mut b, &lab);
    let rendered = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    assert_eq!(
        find(&rendered, "External", "static").spec,
        json!({"ipv4Namespace": "default", "static": {"prefixes": ["203.0.113.0/24"]}})
    );
    assert_eq!(
        find(&rendered, "ExternalAttachment", "leaf-02--static").spec,
        json!({"external": "static", "connection": "leaf-02--external--edge-router", "switch": {}, "neighbor": {},
               "static": {"remoteIP": "192.0.2.2", "ip": "192.0.2.1/30"}})
    );
}

#[test]
fn switch_profile_from_device_type_map_breakouts_speeds_serial_and_name_override() {
    let (mut b, lab) = lab();
    let leaf = b.device_mut(lab.leaf1);
    leaf.custom_fields.0.remove("hedgehog_profile");
    leaf.device_type =
        Some(serde_json::from_value(json!({"id": 7, "slug": "dell-s5248f-on"})).unwrap());
    leaf.serial = Some("SN123".into());
    leaf.description = Some("rack 1".into());
    set_cf(
        &mut leaf.custom_fields,
        "hedgehog_port_breakouts",
        json!({"E1/55": "4x25G"}),
    );
    set_cf(
        &mut leaf.custom_fields,
        "hedgehog_groups",
        json!(["rack-1"]),
    );
    b.interface_mut(lab.unbundled_port).speed = Some(25_000_000);
    let server = b.device_mut(lab.server2);
    set_cf(
        &mut server.custom_fields,
        "hedgehog_name",
        json!("db-server"),
    );
    set_cf(
        &mut server.custom_fields,
        "hedgehog_profile",
        json!("dual-nic"),
    );
    let fabric = fabric_config(
        "name = \"lab\"\n[mapping.device_type_profiles]\ndell-s5248f-on = \"dell-s5248f-on\"\n",
    );
    let rendered = render_ok(&fabric, &b.snapshot);
    let leaf: SwitchSpec = from_manifest(find(&rendered, "Switch", "leaf-01"))
        .unwrap()
        .unwrap();
    assert_eq!(leaf.profile.as_deref(), Some("dell-s5248f-on"));
    assert_eq!(leaf.port_breakouts["E1/55"], "4x25G");
    // dell-s5248f-on's E1/6 is in port group 2, whose speed is set for the group.
    assert_eq!(leaf.port_group_speeds["2"], "25G");
    assert!(leaf.port_speeds.is_empty());
    assert_eq!(leaf.boot.serial.as_deref(), Some("SN123"));
    assert_eq!(leaf.description.as_deref(), Some("rack 1"));
    assert_eq!(leaf.groups, ["eslag-1", "rack-1"]);
    assert_eq!(names_of(&rendered, "SwitchGroup"), ["eslag-1", "rack-1"]);
    assert_eq!(
        find(&rendered, "Server", "db-server").spec,
        json!({"profile": "dual-nic"})
    );
    let conn: ConnectionSpec = from_manifest(find(
        &rendered,
        "Connection",
        "db-server--unbundled--leaf-01",
    ))
    .unwrap()
    .unwrap();
    assert_eq!(conn.unbundled.unwrap().link.server.port, "db-server/enp2s1");
}

#[test]
fn read_only_kinds_deserialise_and_tolerate_unknown_fields() {
    let agent: Agent = serde_json::from_value(json!({
        "apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent",
        "metadata": {"name": "leaf-01", "namespace": "default", "generation": 7, "uid": "x"},
        "spec": {"whatever": true},
        "status": {
            "lastHeartbeat": "2026-01-01T00:00:00Z", "lastAppliedGen": 7, "lastAppliedTime": "2026-01-01T00:00:00Z",
            "version": "v0.126.0", "runID": "r",
            "conditions": [{"type": "Applied", "status": "True", "reason": "ApplySucceeded", "message": "Config applied, gen=7", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "state": {"nos": {"softwareVersion": "4.5.0", "uptime": "1d"}, "interfaces": {"E1/1": {"oper": "up"}}}
        }
    })).unwrap();
    assert!(agent.is_ready());
    assert_eq!(
        agent.status.state.nos.software_version.as_deref(),
        Some("4.5.0")
    );
    assert!(agent.status.state.other.contains_key("interfaces"));
    let profile: SwitchProfileSpec = serde_json::from_value(json!({
        "displayName": "Dell S5248F-ON", "features": {"eslag": true, "l2vni": true, "subinterfaces": true},
        "ports": {"E1/1": {"nos": "Ethernet0", "profile": "SFP28-25G"}}, "switchSilicon": "TD3"
    })).unwrap();
    assert!(profile.features.eslag && !profile.features.mclag);
    assert!(profile.other.contains_key("switchSilicon"));
    let server: ServerProfileSpec =
        serde_json::from_value(json!({"nics": [{"name": "nic0", "ports": [{"name": "p0"}]}]}))
            .unwrap();
    assert_eq!(server.nics[0].ports[0].name, "p0");
}

#[test]
fn build_exposes_typed_objects_without_validation() {
    let (mut b, lab) = lab();
    b.device_mut(lab.leaf1)
        .custom_fields
        .0
        .remove("hedgehog_asn");
    let (objects, violations) = mapping::build(&fabric_config(CLUSTER), &b.snapshot);
    assert!(violations.errors.is_empty());
    assert_eq!(objects.switches.len(), 3);
    assert!(
        objects
            .switches
            .iter()
            .any(|s| s.name == "leaf-01" && s.spec.asn.is_none())
    );
}
