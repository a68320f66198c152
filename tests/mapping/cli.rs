//! `hedgehog-sidecar render --fabric NAME --from-snapshot FILE`: the YAML documents when the
//! fabric validates; otherwise a non-zero exit and the list of violations, each naming the
//! NetBox object to change.

use std::process::{Command, Output};

use hedgehog_sidecar::netbox::FabricSnapshot;

use super::common::*;

fn render_cli(snapshot: &FabricSnapshot) -> Output {
    render_cli_with(snapshot, &[])
}

/// The binary with `args` and no configuration but fabric `lab` (NetBox at a closed port).
fn sidecar(args: &[&str]) -> Output {
    sidecar_with("", args)
}

/// [`sidecar`] with `extra` appended to its configuration.
fn sidecar_with(extra: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sidecar.toml");
    std::fs::write(
        &config,
        format!(
            "[netbox]\nurl = \"http://127.0.0.1:9\"\ntoken = \"t\"\nmax_retries = 0\n\n[[fabric]]\nname = \"lab\"\nkubeconfig = \"/nonexistent\"\n{extra}"
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .env_clear()
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn render_cli_with(snapshot: &FabricSnapshot, extra: &[&str]) -> Output {
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
        .args(extra)
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

#[test]
fn render_prints_a_json_list_or_a_table_on_request() {
    let (b, _) = lab();
    let expected = render_ok(&fabric_config(CLUSTER), &b.snapshot);
    let json = render_cli_with(&b.snapshot, &["-o", "json"]);
    assert!(json.status.success(), "{json:?}");
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        expected.manifests.len()
    );
    let text = render_cli_with(&b.snapshot, &["--output", "text"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("KIND"), "{text}");
    assert_eq!(text.lines().count(), expected.manifests.len() + 1);
    assert!(text.contains("Switch                 leaf-01"), "{text}");
}

#[test]
fn diff_and_a_dry_run_reconcile_exit_2_when_nothing_can_be_compared() {
    for args in [
        &["diff", "--fabric", "lab"][..],
        &[
            "reconcile",
            "--dry-run",
            "--fabric",
            "lab",
            "--format",
            "json",
        ][..],
    ] {
        let out = sidecar(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error"),
            "{out:?}"
        );
    }
}

#[test]
fn kubeconfig_and_context_flags_override_the_configured_cluster() {
    // The configured kubeconfig does not exist; the flag's file does not either, and the
    // error names the flag's file: the override reached the fabric.
    let out = sidecar(&[
        "--kubeconfig",
        "/from/flag",
        "--context",
        "x",
        "diff",
        "--fabric",
        "lab",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/from/flag"), "{stderr}");
}

#[test]
fn completions_need_no_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .env_clear()
        .args(["--config", "/nonexistent.toml", "completions", "zsh"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("#compdef hedgehog-sidecar"));
}

#[test]
fn discover_names_the_source_kinds_when_none_is_selected_and_a_missing_credential() {
    let out = sidecar(&["discover", "--source", "proxmox:nope", "--dry-run"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no discovery source `proxmox:nope` is configured"),
        "{stderr}"
    );
    for kind in [
        "fabric:",
        "inventory:",
        "proxmox:",
        "truenas:",
        "home_assistant:",
        "scanner:",
    ] {
        assert!(stderr.contains(kind), "{kind} is named: {stderr}");
    }

    let table = "\n[[discovery.proxmox]]\nname = \"lab\"\nurl = \"https://pve.invalid:8006\"\n\
                 token_env = \"HHS_TEST_NO_SUCH_VARIABLE\"\n";
    let out = sidecar_with(table, &["discover", "--source", "proxmox", "--dry-run"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HHS_TEST_NO_SUCH_VARIABLE is not set"),
        "the missing credential is named: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
