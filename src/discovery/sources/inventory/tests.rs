use std::path::Path;

use super::*;
use crate::config::{CustomFieldNames, InventorySourceSettings};
use crate::discovery::observation::{Field, ObjectKind, ObservedDevice};

const YAML: &str = include_str!("../../../../docs/inventory/hosts.yaml");
const JSON: &str = include_str!("../../../../docs/inventory/hosts.json");
const CSV: &str = include_str!("../../../../docs/inventory/hosts.csv");

fn observe(format: Format, text: &str) -> Result<Vec<ObservedDevice>, String> {
    parse(format, text)?
        .into_iter()
        .map(|r| r.observe("inventory:lab"))
        .collect()
}

fn source(paths: &[&Path]) -> InventorySource {
    let settings = InventorySourceSettings {
        name: "lab".into(),
        paths: paths.iter().map(|p| p.to_path_buf()).collect(),
        enabled: false,
        interval_secs: 60,
        create: true,
        defaults: Default::default(),
    };
    InventorySource::new(&settings, &CustomFieldNames::default())
}

#[test]
fn the_yaml_example_gives_a_device_and_a_virtual_machine_with_macs_and_ips() {
    let seen = observe(Format::Yaml, YAML).unwrap();
    assert_eq!(seen.len(), 2);
    let web = &seen[0];
    assert_eq!(
        (web.identity.as_str(), web.kind),
        ("web-01", ObjectKind::Device)
    );
    assert_eq!(web.serial.as_deref(), Some("SRV-0001"));
    assert_eq!(web.facts[&Field::Native("serial")], "SRV-0001");
    assert_eq!(web.placement.device_type.as_deref(), Some("r650"));
    assert_eq!(web.primary_ip.as_deref(), Some("10.20.0.11"));
    assert_eq!(web.interfaces[0].macs, ["0C:42:A1:00:00:11"]);
    assert_eq!(web.interfaces[0].ips, ["10.20.0.11/24"]);
    assert_eq!(
        web.interfaces[0].interface_type.as_deref(),
        Some("1000base-t")
    );
    let db = &seen[1];
    assert_eq!(db.kind, ObjectKind::VirtualMachine);
    let cluster = db.cluster.as_ref().unwrap();
    assert_eq!(
        (cluster.name.as_str(), cluster.cluster_type.as_str()),
        ("pve-lab", "proxmox")
    );
    assert_eq!(db.interfaces[0].ips, ["10.20.0.21/24", "2001:db8::21/64"]);
}

#[test]
fn the_json_example_gives_its_device() {
    let seen = observe(Format::Json, JSON).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name.as_deref(), Some("nas-01"));
    assert_eq!(seen[0].placement.role.as_deref(), Some("storage"));
    assert_eq!(seen[0].interfaces[0].macs, ["0C:42:A1:00:00:31"]);
}

#[test]
fn csv_rows_of_one_name_form_one_entry_with_an_interface_each() {
    let seen = observe(Format::Csv, CSV).unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].serial.as_deref(), Some("PRN-0001"));
    assert_eq!(seen[0].placement.platform, None, "an empty cell is unset");
    let ha = &seen[1];
    assert_eq!(ha.kind, ObjectKind::VirtualMachine);
    assert_eq!(ha.serial, None);
    let names: Vec<&str> = ha.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["net0", "net1"]);
    assert_eq!(ha.interfaces[1].macs, ["BC:24:11:00:00:52"]);
    assert!(ha.interfaces[1].ips.is_empty());
}

#[test]
fn bad_entries_are_refused_with_what_is_wrong() {
    let cases = [
        (
            Format::Yaml,
            "devices:\n  - name: a\n    colour: red\n",
            "unknown field `colour`",
        ),
        (Format::Yaml, "devices: [name: a\n", "line"),
        (Format::Yaml, "hosts: []\n", "unknown field `hosts`"),
        (
            Format::Json,
            r#"{"devices": [{"name": 7}]}"#,
            "invalid type",
        ),
        (Format::Json, "{", "EOF"),
        (
            Format::Csv,
            "name,colour\na,red\n",
            "unknown field `colour`",
        ),
        (
            Format::Csv,
            "name,kind\na,switchish\n",
            "unknown variant `switchish`",
        ),
    ];
    for (format, text, expected) in cases {
        let error = parse(format, text).unwrap_err();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
    let invalid = [
        ("devices:\n  - site: lab\n", "needs a name or a serial"),
        (
            "devices:\n  - name: a\n    interfaces: [{name: e0, mac: nope}]\n",
            "interface e0: `nope` is not a MAC address",
        ),
        (
            "devices:\n  - name: a\n    interfaces: [{name: e0, ips: [10.0.0.1]}]\n",
            "interface e0: `10.0.0.1` is not an address/prefix",
        ),
        (
            "devices:\n  - name: a\n    primary_ip: x\n",
            "primary_ip `x` is not an IP address",
        ),
    ];
    for (text, expected) in invalid {
        let error = observe(Format::Yaml, text).unwrap_err();
        assert_eq!(error, expected, "{text:?}");
    }
}

#[tokio::test]
async fn a_directory_is_read_in_name_order_and_a_bad_file_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.json"), JSON).unwrap();
    std::fs::write(dir.path().join("a.yaml"), YAML).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not inventory").unwrap();
    let seen = source(&[dir.path()]).read().await.unwrap();
    let names: Vec<&str> = seen.iter().map(|d| d.identity.as_str()).collect();
    assert_eq!(names, ["web-01", "db-01", "nas-01"]);
    assert!(seen.iter().all(|d| d.source == "inventory:lab"));

    let bad = dir.path().join("c.yaml");
    std::fs::write(
        &bad,
        "devices:\n  - name: ok\n  - name: x\n    primary_ip: nope\n",
    )
    .unwrap();
    let error = source(&[dir.path()]).read().await.unwrap_err().to_string();
    assert!(error.starts_with(&bad.display().to_string()), "{error}");
    assert!(error.contains("entry 2 (x): primary_ip `nope`"), "{error}");

    let missing = dir.path().join("missing.csv");
    let error = source(&[&missing]).read().await.unwrap_err();
    assert!(matches!(error, InventoryError::Read { .. }), "{error}");
    let text = dir.path().join("notes.txt");
    let error = source(&[&text]).read().await.unwrap_err();
    assert!(
        matches!(error, InventoryError::UnknownFormat { .. }),
        "{error}"
    );
}
