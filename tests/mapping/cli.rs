//! `hedgehog-sidecar render --fabric NAME --from-snapshot FILE`: the YAML documents when the
//! fabric validates; otherwise a non-zero exit and the list of violations, each naming the
//! NetBox object to change.

use std::process::{Command, Output};

use hedgehog_sidecar::netbox::FabricSnapshot;

use super::common::*;

fn render_cli(snapshot: &FabricSnapshot) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sidecar.toml");
    std::fs::write(&config, "[[fabric]]\nname = \"lab\"\n").unwrap();
    let file = dir.path().join("lab.snapshot.json");
    snapshot.save(&file).unwrap();
    Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .env_clear()
        .arg("--config")
        .arg(&config)
        .args(["render", "--fabric", "lab", "--from-snapshot"])
        .arg(&file)
        .output()
        .expect("the CLI runs")
}

#[test]
fn render_prints_the_fabric_as_yaml_documents() {
    let (b, _) = lab();
    let output = render_cli(&b.snapshot);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = render_ok(&fabric_config(CLUSTER), &b.snapshot).to_yaml();
    assert_eq!(stdout, expected);
}

#[test]
fn render_lists_every_violation_with_its_netbox_object_and_fails() {
    let (mut b, lab) = lab();
    let fields = &mut b.device_mut(lab.leaf2).custom_fields;
    set_cf(fields, "hedgehog_asn", serde_json::json!(65102));
    b.interface_mut(lab.unbundled_port).mtu = Some(9100);
    let output = render_cli(&b.snapshot);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing is printed as YAML");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let expected = [
        "error: fabric lab does not validate: the fabric breaks 2 admission rule(s); fix these NetBox objects:".to_owned(),
        format!("  - dcim.device #{} \"leaf-02\": [Switch/leaf-02] leaf ASN 65102 is already used by leaf-01; every leaf needs its own hedgehog_asn", lab.leaf2),
        format!("  - dcim.cable #{} \"cable #{}\": [Connection/server-02--unbundled--leaf-01] MTU 9100 is above the server-facing maximum 9036; lower the switch interface's MTU", lab.unbundled_cable, lab.unbundled_cable),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines, expected, "{stderr}");
}
