//! Discovery from two inventory sources against the real test NetBox: what NetBox lacks is
//! created (devices and virtual machines with interfaces, MACs, IPs and primary IPs), a host
//! both sources list becomes one object, a dry run writes nothing, a hand-typed value survives,
//! a second run writes nothing and a host that leaves the files is tagged stale.

use std::path::Path;

use hedgehog_sidecar::netbox::NetBoxClient;
use serde_json::{Value, json};
use testkit::discovery::{
    Scenario, assert_second_run_writes_nothing, delete_all, delete_references, discover, find,
    inventory_source,
};
use testkit::netbox::tag_slugs;

/// The first inventory lists a server and a virtual machine; the second the same server under
/// another name (same serial and MAC), which must not become a second device.
fn write_inventories(dir: &Path, prefix: &str, octet: u8, with_vm: bool) {
    let server = json!({"name": format!("{prefix}-srv"), "serial": format!("{prefix}-SN"),
        "primary_ip": format!("10.{octet}.0.10"),
        "interfaces": [{"name": "eno1", "type": "1000base-t", "mac": "0c:17:c0:00:00:01",
                        "macs": ["0c:17:c0:00:00:02"], "ips": [format!("10.{octet}.0.10/24")]}]});
    let vm = json!({"name": format!("{prefix}-vm"), "kind": "virtual_machine",
        "cluster": format!("{prefix}-cluster"), "primary_ip": format!("10.{octet}.0.20"),
        "interfaces": [{"name": "net0", "mac": "bc:17:c0:00:00:20",
                        "ips": [format!("10.{octet}.0.20/24")]}]});
    let mut first = vec![server];
    if with_vm {
        first.push(vm);
    }
    let first = json!({ "devices": first });
    std::fs::write(dir.join("a.json"), first.to_string()).unwrap();
    let csv =
        format!("name,serial,interface,mac\n{prefix}-srv.lab,{prefix}-SN,eno1,0c:17:c0:00:00:01\n");
    std::fs::write(dir.join("b.csv"), csv).unwrap();
}

async fn cleanup(client: &NetBoxClient, prefix: &str, octet: u8) {
    for path in ["dcim/devices/", "virtualization/virtual-machines/"] {
        for source in ["a", "b"] {
            let owner = format!("inventory:{prefix}-{source}");
            let owned = find(client, path, "cf_hedgehog_discovered_by", &owner).await;
            delete_all(client, path, owned).await;
        }
    }
    let block = format!("10.{octet}.0.0/16");
    let ips = find(client, "ipam/ip-addresses/", "parent", &block).await;
    delete_all(client, "ipam/ip-addresses/", ips).await;
    delete_references(client, prefix, &format!("{prefix}-cluster")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox"]
async fn two_inventories_create_one_object_per_host_and_keep_typed_values() {
    let Scenario {
        client,
        prefix,
        octet,
        lock: _netbox,
    } = Scenario::start("e2e-inventory").await;
    let dir = tempfile::tempdir().unwrap();
    write_inventories(dir.path(), &prefix, octet, true);
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.csv"));
    let sources = [
        inventory_source(&format!("{prefix}-a"), vec![a], &prefix),
        inventory_source(&format!("{prefix}-b"), vec![b], &prefix),
    ];

    let dry = discover(&sources, true, 0).await;
    assert!(dry.applied.is_none());
    assert_eq!(
        dry.plan.creates.len(),
        2,
        "server and VM: {:?}",
        dry.plan.creates
    );
    assert!(
        find(&client, "dcim/sites/", "slug", &prefix)
            .await
            .is_empty(),
        "dry run"
    );
    let serial = format!("{prefix}-SN");
    assert!(
        find(&client, "dcim/devices/", "serial", &serial)
            .await
            .is_empty()
    );

    let report = discover(&sources, false, 0).await;
    let created = &report.applied.as_ref().unwrap().created;
    assert_eq!(
        (
            created.objects,
            created.interfaces,
            created.macs,
            created.ips
        ),
        (2, 2, 1, 2)
    );
    let servers = find(&client, "dcim/devices/", "serial", &serial).await;
    assert_eq!(servers.len(), 1, "one device for the host both files list");
    let server = &servers[0];
    assert_eq!(server["name"], format!("{prefix}-srv"));
    assert_eq!(
        server["primary_ip4"]["address"],
        format!("10.{octet}.0.10/24")
    );
    assert_eq!(
        server["custom_fields"]["hedgehog_discovered_by"],
        format!("inventory:{prefix}-a")
    );
    let eno1 = &find(
        &client,
        "dcim/interfaces/",
        "device_id",
        &server["id"].to_string(),
    )
    .await[0];
    assert_eq!(eno1["mac_address"], "0C:17:C0:00:00:01");
    let macs = find(
        &client,
        "dcim/mac-addresses/",
        "interface_id",
        &eno1["id"].to_string(),
    )
    .await;
    assert_eq!(macs.len(), 2, "{macs:?}");
    let vm = &find(
        &client,
        "virtualization/virtual-machines/",
        "name",
        &format!("{prefix}-vm"),
    )
    .await[0];
    assert_eq!(vm["cluster"]["name"], format!("{prefix}-cluster"));
    assert_eq!(vm["primary_ip4"]["address"], format!("10.{octet}.0.20/24"));

    assert_second_run_writes_nothing(&sources).await;

    let path = format!("dcim/devices/{}/", server["id"]);
    let _: Value = client
        .patch(&path, &json!({"serial": "TYPED"}))
        .await
        .unwrap();
    let typed = discover(&sources, false, 0).await;
    assert!(
        typed.plan.kept.iter().any(|k| k.field == "serial"),
        "{:?}",
        typed.plan
    );
    let server: Value = client.get(&path, &[]).await.unwrap();
    assert_eq!(server["serial"], "TYPED", "a hand-typed serial survives");
    assert!(
        typed.plan.creates.is_empty(),
        "matched by MAC, not created again"
    );

    write_inventories(dir.path(), &prefix, octet, false);
    let later = discover(&sources, false, 8).await;
    assert_eq!(later.plan.stale, [format!("{prefix}-vm")]);
    let vm: Value = client
        .get(
            &format!("virtualization/virtual-machines/{}/", vm["id"]),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        tag_slugs(&vm),
        ["hedgehog-stale"],
        "the vanished VM is tagged, not deleted"
    );

    cleanup(&client, &prefix, octet).await;
}
