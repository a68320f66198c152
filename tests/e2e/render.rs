//! `render` and `snapshot` against the real NetBox: the docs sample's fabric, built in NetBox
//! through the client, renders from the live NetBox exactly as from a saved snapshot of it, and
//! as the fixture it was built from (which `tests/mapping/samples.rs` proves equal to the
//! published sample).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use hedgehog_sidecar::config::FabricMode;
use hedgehog_sidecar::mapping;
use hedgehog_sidecar::model::parse_manifests;
use serde_json::Value;

use super::harness::*;

/// Runs the real binary with a configuration for the seeded fabric; the NetBox token travels in
/// the environment, as operators are told to pass it.
fn sidecar(config: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .env("HEDGEHOG_SIDECAR_NETBOX_TOKEN", var("NETBOX_TOKEN_V2"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run hedgehog-sidecar");
    assert!(
        output.status.success(),
        "hedgehog-sidecar {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// `(kind, name) → spec` of a YAML stream (labels and annotations carry NetBox ids, which
/// differ between NetBox and the fixture; the specs must not).
fn specs(yaml: &str) -> BTreeMap<(String, String), Value> {
    parse_manifests(yaml)
        .expect("the render output parses")
        .into_iter()
        .map(|m| ((m.kind, m.metadata.name), m.spec))
        .collect()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn the_docs_fabric_renders_from_live_netbox_as_from_its_snapshot_and_its_fixture() {
    show_logs();
    let _netbox = NETBOX.lock().await;
    let seeded = Seeded::create("e2e-render").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sidecar.toml");
    std::fs::write(
        &config,
        format!(
            "[netbox]\nurl = \"{}\"\n\n[[fabric]]\nname = \"{}\"\nvalidation = \"wiring\"\n",
            var("NETBOX_URL"),
            seeded.name
        ),
    )
    .unwrap();
    let snapshot_file = dir.path().join("snapshot.json");
    sidecar(
        &config,
        &[
            "snapshot",
            "--fabric",
            &seeded.name,
            "--output",
            snapshot_file.to_str().unwrap(),
        ],
    );
    let live = sidecar(&config, &["render", "--fabric", &seeded.name]);
    let saved = sidecar(
        &config,
        &[
            "render",
            "--fabric",
            &seeded.name,
            "--from-snapshot",
            snapshot_file.to_str().unwrap(),
        ],
    );
    let fixture = mapping::render(&seeded.fabric(FabricMode::Apply), &seeded.snapshot)
        .expect("the fixture renders")
        .to_yaml();

    seeded.remove().await;
    assert_eq!(
        live, saved,
        "live NetBox and its snapshot render byte-identical YAML"
    );
    assert!(live.contains("kind: Switch"), "{live}");
    let (live, fixture) = (specs(&live), specs(&fixture));
    assert_eq!(
        live.keys().collect::<Vec<_>>(),
        fixture.keys().collect::<Vec<_>>(),
        "the same objects"
    );
    for (key, spec) in &fixture {
        assert_eq!(&live[key], spec, "{key:?} renders the same from NetBox");
    }
}
