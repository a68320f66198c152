//! The published samples, rendered from hand-built NetBox snapshots (tests/fixtures/).
//!
//! Left out of the comparison, on purpose:
//! * the docs sample's Gateway (`gateway.githedgehog.com`, not one of the 12 kinds) and its two
//!   `gateway` connections, which reference that Gateway;
//! * the docs sample's SwitchGroup `empty`: no switch names it, and a group no switch names
//!   cannot be represented in NetBox (design doc, SwitchGroup).
//!
//! Normalised before comparing as `import::roundtrip::normalised` does: field order, `metadata`
//! beyond the name (the sidecar's labels, annotations and namespace), empty objects such as
//! `redundancy: {}`, and fields rendered explicitly with the value the samples leave to defaults
//! (`vlanNamespaces: [default]`, `ipv4Namespace: default`, `vlanNamespace: default`).

use std::collections::BTreeMap;

use hedgehog_sidecar::import::roundtrip::normalised;
use hedgehog_sidecar::model::parse_manifests;
use serde_json::Value;

use super::common::*;

/// `(kind, name) → normalised spec` of a sample's objects, minus the documented skips (the
/// Gateway kind is not a rendered kind, so `normalised` leaves it out already).
fn normalised_sample(file: &str) -> BTreeMap<(String, String), Value> {
    let text = std::fs::read_to_string(shared(&format!("hedgehog/samples/{file}"))).unwrap();
    let mut objects = normalised(&parse_manifests(&text).unwrap());
    objects.retain(|(kind, name), spec| {
        spec.get("gateway").is_none() && !(kind == "SwitchGroup" && name == "empty")
    });
    objects
}

fn normalised_render(
    rendered: &hedgehog_sidecar::mapping::RenderedFabric,
) -> BTreeMap<(String, String), Value> {
    normalised(&rendered.manifests)
}

#[test]
fn docs_wiring_sample_renders_from_its_netbox_snapshot() {
    let fabric = fabric_config("name = \"docs\"\nvalidation = \"wiring\"\n");
    let rendered = render_ok(&fabric, &fixture("docs-wiring.snapshot.json"));
    let expected = normalised_sample("docs_build-wiring_sample-wiring-diagram.yaml");
    let actual = normalised_render(&rendered);
    assert_eq!(
        expected.len(),
        16,
        "2 namespaces, 6 switches, 8 fabric connections"
    );
    for (key, spec) in &expected {
        assert_eq!(actual.get(key), Some(spec), "{key:?} differs");
    }
    let extra: Vec<_> = actual
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        extra.is_empty(),
        "rendered objects the sample does not have: {extra:?}"
    );
}

#[test]
fn demo_gitops_sample_renders_from_its_netbox_snapshot() {
    let fabric = fabric_config(
        "name = \"env-1\"\nvalidation = \"wiring\"\n[mapping]\nrender_mclag = true\n",
    );
    let rendered = render_ok(&fabric, &fixture("demo-gitops-env-1.snapshot.json"));
    let expected = normalised_sample("demo-gitops_env-1_vpcs.yaml");
    let actual = normalised_render(&rendered);
    assert_eq!(expected.len(), 8);
    for (key, spec) in &expected {
        assert_eq!(actual.get(key), Some(spec), "{key:?} differs");
    }
    // The snapshot models everything the sample references.
    for name in [
        "server-1--mclag--s5248-01--s5248-02",
        "server-3--bundled--s5248-01",
        "server-4--unbundled--s5248-02",
    ] {
        find(&rendered, "Connection", name);
    }
    find(&rendered, "External", "default");
    find(&rendered, "ExternalAttachment", "s5248-01--default");
}

#[test]
fn demo_gitops_without_render_mclag_skips_the_mclag_connection_with_a_warning() {
    let fabric = fabric_config("name = \"env-1\"\nvalidation = \"wiring\"\n");
    let rendered = render_ok(&fabric, &fixture("demo-gitops-env-1.snapshot.json"));
    assert!(
        rendered
            .warnings
            .iter()
            .any(|w| w.message.contains("MCLAG")),
        "{:?}",
        rendered.warnings
    );
    assert!(
        !names_of(&rendered, "Connection")
            .iter()
            .any(|n| n.contains("mclag"))
    );
    assert!(
        !names_of(&rendered, "VPCAttachment")
            .iter()
            .any(|n| n.contains("mclag"))
    );
}

#[test]
fn rendering_is_byte_identical_and_sorted_in_apply_order() {
    let fabric = fabric_config(
        "name = \"env-1\"\nvalidation = \"wiring\"\n[mapping]\nrender_mclag = true\n",
    );
    let mut snapshot = fixture("demo-gitops-env-1.snapshot.json");
    let first = render_ok(&fabric, &snapshot).to_yaml();
    // NetBox returns lists in any order: shuffle them all and expect the same bytes.
    snapshot.devices.reverse();
    snapshot.interfaces.reverse();
    snapshot.cables.reverse();
    snapshot.ip_addresses.reverse();
    snapshot.prefixes.reverse();
    snapshot.vrfs.reverse();
    let second = render_ok(&fabric, &snapshot);
    assert_eq!(first, second.to_yaml());
    let keys: Vec<_> = second.manifests.iter().map(|m| m.key().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        first.starts_with("---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: VLANNamespace\n")
    );
}

#[test]
fn the_generated_fabric_of_the_benchmarks_renders_at_cluster_level() {
    use testkit::synthetic::SyntheticFabric;
    // Every switch port is a 4x25G sub-port; each leaf's uplinks come first (E1/1/1, E1/1/2),
    // then its 60 server ports.
    let spec = SyntheticFabric {
        leaves: 3,
        servers_per_leaf: 40,
        vpcs: 3,
        ..SyntheticFabric::new("synthetic", 7, 4_200_000_000)
    };
    let config = spec.fabric_config();
    let rendered = render_ok(&config, &spec.generate(&config.mapping));
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let count = |kind| names_of(&rendered, kind).len();
    assert_eq!(count("Switch"), 5);
    assert_eq!(count("Connection"), 2 * 3 + 3 * 40);
    assert_eq!(count("VPCAttachment"), 3 * 40, "every server is in a VPC");
    assert_eq!(count("VPC"), 3);
    assert_eq!(count("ExternalPeering"), 1);
    let uplink = find(&rendered, "Connection", "spine-02--fabric--leaf-01");
    assert_eq!(
        uplink.spec["fabric"]["links"][0]["leaf"]["port"],
        "leaf-01/E1/1/2"
    );
}
