//! The inverse mapping against the forward one: the published samples (and objects they refer
//! to) imported into NetBox objects render back to themselves; references to objects not in the
//! input are errors naming the object; names rendering cannot reproduce are kept or reported.

use std::path::PathBuf;

use serde_json::json;

use super::roundtrip::{compare, differences, normalised};
use super::*;
use crate::mapping;
use crate::model::parse_manifests;
use crate::netbox::types::has_tag;

fn read(path: PathBuf) -> Vec<Manifest> {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    parse_manifests(&text).expect("sample parses")
}

fn sample(file: &str) -> Vec<Manifest> {
    read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/hedgehog/samples")
            .join(file),
    )
}

fn fixture(file: &str) -> Vec<Manifest> {
    read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file),
    )
}

/// The demo-gitops sample plus the wiring it refers to.
pub fn demo_input() -> Vec<Manifest> {
    let mut manifests = sample("demo-gitops_env-1_vpcs.yaml");
    manifests.extend(fixture("demo-gitops-env-1.wiring.yaml"));
    manifests
}

pub(crate) fn wiring_fabric(name: &str, mclag: bool) -> FabricConfig {
    serde_json::from_value(json!({
        "name": name, "validation": "wiring", "mapping": {"render_mclag": mclag},
    }))
    .expect("fabric config")
}

fn render(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> Vec<Manifest> {
    match mapping::render(fabric, snapshot) {
        Ok(rendered) => rendered.manifests,
        Err(error) => panic!("imported objects do not render:\n{error}"),
    }
}

/// Every object carries the imported tag and, where NetBox keeps custom fields, the fabric.
fn assert_tagged(fabric: &FabricConfig, s: &FabricSnapshot) {
    let tag = &fabric.mapping.tag_imported;
    let field = &fabric.mapping.custom_fields.fabric;
    let tagged = s
        .devices
        .iter()
        .map(|o| (&o.tags, &o.custom_fields))
        .chain(s.interfaces.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.ip_addresses.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.cables.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.vlan_groups.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.vlans.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.vrfs.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.route_targets.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.prefixes.iter().map(|o| (&o.tags, &o.custom_fields)))
        .chain(s.ip_ranges.iter().map(|o| (&o.tags, &o.custom_fields)));
    for (tags, fields) in tagged {
        assert!(has_tag(tags, tag), "an object lacks tag {tag}");
        assert_eq!(fields.string(field).as_deref(), Some(fabric.name.as_str()));
    }
}

#[test]
fn docs_wiring_sample_imports_and_renders_back_to_itself() {
    let fabric = wiring_fabric("docs", false);
    let manifests = sample("docs_build-wiring_sample-wiring-diagram.yaml");
    let imported = inverse(&fabric, &manifests).expect("the sample maps");
    // Documented skips: the Gateway kind is not one the sidecar manages; the SwitchGroup no
    // switch names has no NetBox representation.
    assert_eq!(
        imported
            .skipped
            .iter()
            .map(|(o, _)| o.as_str())
            .collect::<Vec<_>>(),
        ["Gateway/gateway-1"]
    );
    assert_eq!(imported.notes.len(), 1, "{:?}", imported.notes);
    assert_eq!(imported.notes[0].object, "SwitchGroup/empty");
    let mut expected = normalised(&manifests);
    expected.remove(&("SwitchGroup".into(), "empty".into()));
    // The gateway connections are imported too (the gateway becomes a device).
    assert_eq!(
        expected.len(),
        18,
        "2 namespaces, 6 switches, 8 fabric + 2 gateway connections"
    );
    let actual = normalised(&render(&fabric, &imported.snapshot));
    assert_eq!(compare(&expected, &actual), []);
    assert_eq!(actual, expected);
    assert_tagged(&fabric, &imported.snapshot);
    assert_eq!(
        imported.snapshot.devices.len(),
        7,
        "6 switches and the gateway"
    );
    assert_eq!(
        imported.snapshot.cables.len(),
        18,
        "2 per fabric pair, 1 per gateway link"
    );
}

#[test]
fn demo_gitops_sample_with_its_wiring_imports_and_renders_back_to_itself() {
    let fabric = wiring_fabric("env-1", true);
    let manifests = demo_input();
    let imported = inverse(&fabric, &manifests).expect("the sample maps");
    assert!(
        imported.skipped.is_empty() && imported.notes.is_empty(),
        "{:?}",
        imported.notes
    );
    let expected = normalised(&manifests);
    assert_eq!(
        expected.len(),
        8 + 14,
        "the sample's 8 objects and its wiring's 14"
    );
    let actual = normalised(&render(&fabric, &imported.snapshot));
    assert_eq!(compare(&expected, &actual), []);
    assert_eq!(actual, expected);
    assert_eq!(differences(&fabric, &manifests, &imported.snapshot), []);
    assert_tagged(&fabric, &imported.snapshot);
    let s = &imported.snapshot;
    assert_eq!(
        (s.vrfs.len(), s.route_targets.len()),
        (4, 4),
        "3 VPCs and 1 External, one route target each"
    );
    assert_eq!(s.ip_ranges.len(), 3, "three DHCP ranges");
    assert!(
        s.route_targets.iter().all(|r| r.name.len() <= 21),
        "NetBox's limit"
    );
}

#[test]
fn a_reference_to_an_object_not_in_the_input_is_an_error_naming_both() {
    let fabric = wiring_fabric("env-1", true);
    // The sample alone: its attachments name connections and its peering an External it lacks.
    let error = inverse(&fabric, &sample("demo-gitops_env-1_vpcs.yaml")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("nothing was imported"), "{text}");
    for expected in [
        "VPCAttachment/demo-vpc-2--server-4--unbundled--s5248-02: connection server-4--unbundled--s5248-02 is not among the imported connections",
        "ExternalPeering/demo-vpc-1--default: VPC demo-vpc-1 and External default must both be among the imported objects",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(
        error.errors.len(),
        4,
        "3 attachments and 1 external peering: {text}"
    );
}

#[test]
fn a_port_on_an_unknown_device_or_used_twice_is_an_error_of_its_connection() {
    let fabric = wiring_fabric("env-1", true);
    let mut manifests = demo_input();
    let mut stray = manifests
        .iter()
        .find(|m| m.metadata.name == "server-4--unbundled--s5248-02")
        .unwrap()
        .clone();
    stray.metadata.name = "server-9--unbundled--s5248-02".into();
    stray.spec["unbundled"]["link"]["server"]["port"] = json!("server-9/enp2s1");
    let mut reused = stray.clone();
    reused.metadata.name = "x-reused".into(); // sorts after the connection it collides with
    reused.spec["unbundled"]["link"]["server"]["port"] = json!("server-3/eth9");
    reused.spec["unbundled"]["link"]["switch"]["port"] = json!("s5248-02/E1/4");
    manifests.extend([stray, reused]);
    let text = inverse(&fabric, &manifests).unwrap_err().to_string();
    assert!(text.contains("Connection/server-9--unbundled--s5248-02: port server-9/enp2s1: there is no Switch or Server server-9"), "{text}");
    assert!(
        text.contains("Connection/x-reused: port s5248-02/E1/4 is used by more than one link"),
        "{text}"
    );
}

/// Renames objects, `(kind, from, to)`, and the `connection` fields that name them.
fn rename(manifests: &mut [Manifest], renames: &[(&str, &str, &str)]) {
    for (kind, from, to) in renames {
        for m in manifests.iter_mut().filter(|m| m.kind == *kind) {
            if m.metadata.name == *from {
                m.metadata.name = (*to).into();
            }
            if m.spec.get("connection") == Some(&json!(from)) {
                m.spec["connection"] = json!(to);
            }
        }
    }
}

#[test]
fn names_rendering_would_not_give_are_kept_on_cables_and_addresses_or_reported() {
    let fabric = wiring_fabric("env-1", true);
    let mut manifests = demo_input();
    rename(
        &mut manifests,
        &[
            ("Connection", "server-4--unbundled--s5248-02", "srv4-uplink"),
            (
                "VPCAttachment",
                "server-4--unbundled--s5248-02",
                "srv4-uplink",
            ),
            (
                "VPCAttachment",
                "demo-vpc-2--server-4--unbundled--s5248-02",
                "demo-vpc-2--srv4-uplink",
            ),
            ("ExternalAttachment", "s5248-01--default", "border"),
            (
                "VPCAttachment",
                "demo-vpc-3--server-3--bundled--s5248-01",
                "custom",
            ),
        ],
    );
    let imported = inverse(&fabric, &manifests).expect("maps");
    let name_field = &fabric.mapping.custom_fields.name;
    let named: Vec<String> = imported
        .snapshot
        .cables
        .iter()
        .filter_map(|c| c.custom_fields.string(name_field))
        .collect();
    assert_eq!(named, ["srv4-uplink"]);
    assert!(
        imported.snapshot.ip_addresses.iter().any(|a| a
            .custom_fields
            .string(name_field)
            .as_deref()
            == Some("border"))
    );
    // A VPCAttachment's name has nowhere to go: reported before import and by the round trip.
    assert_eq!(imported.notes.len(), 1, "{:?}", imported.notes);
    assert!(
        imported.notes[0]
            .to_string()
            .starts_with("VPCAttachment/custom: ")
    );
    let found: Vec<String> = differences(&fabric, &manifests, &imported.snapshot)
        .iter()
        .map(|p| p.object.clone())
        .collect();
    assert_eq!(
        found,
        [
            "VPCAttachment/custom",
            "VPCAttachment/demo-vpc-3--server-3--bundled--s5248-01"
        ]
    );
}

#[test]
fn switch_fields_map_to_their_netbox_places_and_unrepresentable_ones_are_noted() {
    let fabric = wiring_fabric("lab", false);
    let switch: Manifest = serde_json::from_value(json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
        "metadata": {"name": "leaf-01"},
        "spec": {"role": "border-leaf", "profile": "celestica-ds3000", "asn": 65101, "ip": "172.30.0.11/21",
                 "protocolIP": "172.30.8.1/32", "vtepIP": "172.30.12.1/32",
                 "groups": ["g1", "eslag-1"], "redundancy": {"group": "eslag-1", "type": "eslag"},
                 "vlanNamespaces": ["default", "extra"], "portSpeeds": {"E1/33": "10G"},
                 "portBreakouts": {"E1/2": "4x25G"}, "boot": {"mac": "0c:20:12:ff:00:00"},
                 "roce": true},
    }))
    .unwrap();
    let namespace = |name: &str, from: u16, to: u16| -> Manifest {
        serde_json::from_value(json!({
            "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "VLANNamespace",
            "metadata": {"name": name}, "spec": {"ranges": [{"from": from, "to": to}]},
        }))
        .unwrap()
    };
    let manifests = [
        switch.clone(),
        namespace("default", 1000, 1999),
        namespace("extra", 2000, 2999),
    ];
    let imported = inverse(&fabric, &manifests).unwrap();
    assert_eq!(imported.notes.len(), 1);
    assert!(imported.notes[0].message.contains("roce"));
    let device = &imported.snapshot.devices[0];
    assert_eq!(
        device.role.as_ref().and_then(|r| r.slug.as_deref()),
        Some("border-leaf")
    );
    let cf = &fabric.mapping.custom_fields;
    assert_eq!(
        device.custom_fields.string(&cf.groups).as_deref(),
        Some("g1")
    );
    assert_eq!(
        device.custom_fields.string(&cf.vlan_namespaces).as_deref(),
        Some("default,extra")
    );
    assert_eq!(device.custom_fields.integer(&cf.asn), Some(65101));
    let rendered = render(&fabric, &imported.snapshot);
    let back = rendered.iter().find(|m| m.kind == "Switch").unwrap();
    let mut expected = switch.spec.clone();
    expected.as_object_mut().unwrap().remove("roce");
    expected["groups"] = json!(["eslag-1", "g1"]);
    assert_eq!(
        crate::model::sort_keys(back.spec.clone()),
        crate::model::sort_keys(expected)
    );
}

/// Every connection type NetBox models, in one spine-leaf fabric and one mesh fabric.
const SPINE_LEAF: &str = include_str!("../../tests/fixtures/import-all-kinds.yaml");

const MESH: &str = r#"
apiVersion: wiring.githedgehog.com/v1beta1
kind: VLANNamespace
metadata: {name: default}
spec: {ranges: [{from: 1000, to: 2999}]}
---
apiVersion: wiring.githedgehog.com/v1beta1
kind: Switch
metadata: {name: leaf-01}
spec: {role: server-leaf, profile: celestica-ds3000, portSpeeds: {E1/33: 1G}}
---
apiVersion: wiring.githedgehog.com/v1beta1
kind: Switch
metadata: {name: leaf-02}
spec: {role: server-leaf, profile: celestica-ds3000}
---
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata: {name: leaf-01--mesh--leaf-02}
spec:
  mesh:
    links:
    - {leaf1: {port: leaf-01/E1/1, ip: 172.30.128.0/31}, leaf2: {port: leaf-02/E1/1, ip: 172.30.128.1/31}}
    - {leaf1: {port: leaf-01/E1/2, ip: 172.30.128.2/31}, leaf2: {port: leaf-02/E1/2, ip: 172.30.128.3/31}}
"#;

#[test]
fn every_connection_type_and_vpc_field_netbox_models_round_trips() {
    for (name, text) in [("spine-leaf", SPINE_LEAF), ("mesh", MESH)] {
        let fabric = wiring_fabric(name, false);
        let manifests = parse_manifests(text).unwrap();
        let imported = inverse(&fabric, &manifests).expect("maps");
        assert!(imported.notes.is_empty(), "{name}: {:?}", imported.notes);
        let expected = normalised(&manifests);
        let actual = normalised(&render(&fabric, &imported.snapshot));
        assert_eq!(compare(&expected, &actual), [], "{name}");
        assert_eq!(actual, expected, "{name}");
    }
}

#[test]
fn a_real_lab_wiring_file_with_comments_annotations_and_specless_servers_round_trips() {
    let fabric = wiring_fabric("real-lab", false);
    let manifests = fixture("real-lab-wiring.yaml");
    assert_eq!(manifests.len(), 9);
    let imported = inverse(&fabric, &manifests).expect("maps");
    let servers = imported
        .snapshot
        .devices
        .iter()
        .filter(|d| d.name.as_deref().is_some_and(|n| n.starts_with("server-")))
        .count();
    assert_eq!(servers, 2, "both spec-less servers are imported");
    let expected = normalised(&manifests);
    let actual = normalised(&render(&fabric, &imported.snapshot));
    assert_eq!(compare(&expected, &actual), []);
}
