//! The rendering against the fabric's own webhooks (`hh-fabric-oracle check`): what the sidecar
//! renders is already a fixed point of the fabric's defaulting for every field it manages, so a
//! steady fabric never drifts, and a complete fabric is admitted.

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::mapping::RenderedFabric;
use hedgehog_sidecar::model::fabric_config::fabric_config_yaml;
use serde_json::json;
use testkit::synthetic::SyntheticFabric;

use super::common::*;
use testkit::oracle;

/// Runs `rendered` through the oracle: no defaulting patch may touch a field the sidecar
/// manages. Returns the verdicts.
fn assert_fixed_point(
    fabric: &FabricConfig,
    rendered: &RenderedFabric,
    oracle: &std::path::Path,
) -> Vec<oracle::Verdict> {
    let config = fabric_config_yaml(&fabric.mapping.settings);
    let verdicts = oracle::check(oracle, &rendered.to_yaml(), &config);
    let mut touched = Vec::new();
    for manifest in &rendered.manifests {
        let verdict = verdicts
            .iter()
            .find(|v| v.kind == manifest.kind && v.name == manifest.metadata.name);
        let Some(verdict) = verdict else {
            // SwitchGroup has no webhook in the fabric, so nothing defaults it.
            assert_eq!(
                manifest.kind, "SwitchGroup",
                "the oracle skipped {}",
                manifest.metadata.name
            );
            continue;
        };
        for op in oracle::touched_managed_fields(&manifest.to_value(), verdict) {
            touched.push(format!(
                "{}/{}: {op}",
                manifest.kind, manifest.metadata.name
            ));
        }
    }
    assert!(
        touched.is_empty(),
        "the fabric's defaulting rewrites fields the sidecar renders (perpetual drift):\n{}",
        touched.join("\n")
    );
    verdicts
}

#[test]
fn the_docs_sample_renders_as_a_fixed_point_of_the_fabrics_defaulting() {
    let Some(bin) = oracle::binary_or_skip("docs sample fixed point") else {
        return;
    };
    let fabric = fabric_config("name = \"docs\"\nvalidation = \"wiring\"\n");
    let rendered = render_ok(&fabric, &fixture("docs-wiring.snapshot.json"));
    // A wiring file's switches carry no addresses or ASNs, which a cluster requires: only the
    // defaulting, which runs before validation, is compared here.
    assert_fixed_point(&fabric, &rendered, bin);
}

/// The lab without its ESLAG group: `hh-fabric-oracle check` admits no SwitchGroup (the fabric
/// has no webhook for the kind, and `check` only stores what it admits), so a switch in a group
/// is refused there for want of the group.
pub fn oracle_lab() -> (Builder, Lab) {
    let (mut b, lab) = lab();
    for leaf in [lab.leaf1, lab.leaf2] {
        b.device_mut(leaf)
            .custom_fields
            .0
            .remove("hedgehog_redundancy_group");
    }
    b.snapshot
        .cables
        .retain(|c| !lab.eslag_cables.contains(&c.id));
    (b, lab)
}

#[test]
fn the_lab_fabric_renders_as_a_fixed_point_and_is_admitted_whole() {
    let Some(bin) = oracle::binary_or_skip("lab fixed point") else {
        return;
    };
    let (mut b, lab) = oracle_lab();
    // Lists the fabric re-sorts, given out of its order: namespace subnets (sorted as strings,
    // so 10.x before 9.x), DNS servers; and DHCP settings on a subnet with DHCP off.
    b.namespace_prefix("9.0.0.0/16", json!({}));
    let (web, db) = (lab.prefix_web, lab.prefix_db);
    set_cf(
        &mut b.prefix_mut(db).custom_fields,
        "hedgehog_dhcp_enable",
        json!(true),
    );
    set_cf(
        &mut b.prefix_mut(db).custom_fields,
        "hedgehog_dhcp_options",
        json!({"dnsServers": ["9.9.9.9", "1.1.1.1"], "timeServers": ["10.0.0.9", "10.0.0.10"]}),
    );
    set_cf(
        &mut b.prefix_mut(web).custom_fields,
        "hedgehog_dhcp_options",
        json!({"dnsServers": ["1.1.1.1"]}),
    );
    let fabric = fabric_config(CLUSTER);
    let rendered = render_ok(&fabric, &b.snapshot);
    let verdicts = assert_fixed_point(&fabric, &rendered, bin);
    let refused: Vec<_> = verdicts.iter().filter(|v| !v.allowed).collect();
    assert!(refused.is_empty(), "the fabric refuses: {refused:#?}");
}

#[test]
fn the_demo_gitops_sample_renders_as_a_fixed_point_of_the_fabrics_defaulting() {
    let Some(bin) = oracle::binary_or_skip("demo-gitops sample fixed point") else {
        return;
    };
    let fabric = fabric_config(
        "name = \"env-1\"\nvalidation = \"wiring\"\n[mapping]\nrender_mclag = true\n",
    );
    let rendered = render_ok(&fabric, &fixture("demo-gitops-env-1.snapshot.json"));
    // A wiring-level fabric (switches without addresses) is not admitted as a whole; the
    // defaulting, which runs before validation, is what matters here.
    assert_fixed_point(&fabric, &rendered, bin);
}

/// The synthetic fabric uses only ports, breakouts and speeds its profile has.
#[test]
fn the_synthetic_fabric_renders_as_a_fixed_point_and_is_admitted_whole() {
    let Some(bin) = oracle::binary_or_skip("synthetic fabric fixed point") else {
        return;
    };
    let spec = SyntheticFabric {
        leaves: 4,
        servers_per_leaf: 4,
        vpcs: 3,
        ..SyntheticFabric::new("oracle", 7, 4_200_000_000)
    };
    let fabric = spec.fabric_config();
    let rendered = render_ok(&fabric, &spec.generate(&fabric.mapping));
    let verdicts = assert_fixed_point(&fabric, &rendered, bin);
    assert!(
        verdicts.iter().any(|v| v.kind == "VPC"),
        "the oracle saw the VPCs"
    );
    let refused: Vec<_> = verdicts.iter().filter(|v| !v.allowed).collect();
    assert!(refused.is_empty(), "the fabric refuses: {refused:#?}");
}

/// The catalog built into the sidecar (`data/switchprofiles/`) is the fabric's own, profile for
/// profile, as `hh-fabric-oracle profiles` writes it. The oracle writes a breakout profile's
/// modes in no fixed order, so the documents are compared as data.
#[test]
fn the_built_in_switch_profiles_are_the_ones_the_fabric_creates() {
    let Some(bin) = oracle::binary_or_skip("switch profile catalog") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(bin)
        .arg("profiles")
        .arg(dir.path())
        .status()
        .expect("hh-fabric-oracle profiles runs");
    assert!(status.success());
    let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/switchprofiles");
    let documents =
        |dir: &std::path::Path| -> std::collections::BTreeMap<String, serde_json::Value> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    let text = std::fs::read_to_string(&p).unwrap();
                    (name, serde_yaml_ng::from_str(&text).unwrap())
                })
                .collect()
        };
    let (written, kept) = (documents(dir.path()), documents(&catalog));
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        kept.keys().collect::<Vec<_>>(),
        "the same profiles"
    );
    for (name, document) in &written {
        assert!(
            kept[name] == *document,
            "data/switchprofiles/{name} differs from the fabric's; regenerate it with `hh-fabric-oracle profiles data/switchprofiles`"
        );
    }
}
