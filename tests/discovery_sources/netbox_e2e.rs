//! The Proxmox VE source into the real test NetBox: a generated cluster's nodes become
//! devices and its VMs virtual machines in the cluster, with their interfaces, MACs, IPs and
//! primary IPs; a dry run writes nothing and a second run writes nothing. With an inventory
//! listing one of its VMs under another name, the VM is still one NetBox object.

use hedgehog_sidecar::netbox::NetBoxClient;
use serde_json::json;
use testkit::discovery::{
    Scenario, assert_second_run_writes_nothing, delete_all, delete_references, discover, find,
    find_one, inventory_source, proxmox_source,
};
use testkit::recorded_api::RecordedApi;

const VMS: usize = 12;

/// Removes what the run created: the objects the Proxmox and inventory sources named `prefix`
/// own, their addresses, and the references.
async fn cleanup(client: &NetBoxClient, prefix: &str, octet: u8) {
    for owner in [format!("proxmox:{prefix}"), format!("inventory:{prefix}")] {
        for path in ["virtualization/virtual-machines/", "dcim/devices/"] {
            let owned = find(client, path, "cf_hedgehog_discovered_by", &owner).await;
            delete_all(client, path, owned).await;
        }
    }
    let block = format!("10.{octet}.0.0/16");
    let ips = find(client, "ipam/ip-addresses/", "parent", &block).await;
    delete_all(client, "ipam/ip-addresses/", ips).await;
    delete_references(client, prefix, prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox"]
async fn a_generated_cluster_becomes_devices_and_virtual_machines_once() {
    let Scenario {
        client,
        prefix,
        octet,
        lock: _netbox,
    } = Scenario::start("e2e-proxmox").await;
    let api = RecordedApi::start(testkit::proxmox::generated(&prefix, VMS, octet)).await;
    let source = proxmox_source(&prefix, &api.url);

    let dry = discover(std::slice::from_ref(&source), true, 0).await;
    assert_eq!(dry.plan.creates.len(), VMS + 1, "one node and the VMs");
    assert!(
        find(&client, "dcim/sites/", "slug", &prefix)
            .await
            .is_empty(),
        "dry run"
    );

    let report = discover(std::slice::from_ref(&source), false, 0).await;
    let created = &report.applied.as_ref().unwrap().created;
    assert_eq!(
        (created.objects, created.interfaces, created.ips),
        (VMS + 1, VMS + 1, VMS + 1)
    );
    let vm = find_one(
        &client,
        "virtualization/virtual-machines/",
        "name",
        &format!("{prefix}-vm-3"),
    )
    .await;
    assert_eq!(
        vm["cluster"]["name"],
        prefix.as_str(),
        "in the Proxmox cluster"
    );
    let address = format!("{}/16", testkit::proxmox::address(octet, 2));
    assert_eq!(vm["primary_ip4"]["address"], address.as_str());
    let net0 = find_one(
        &client,
        "virtualization/interfaces/",
        "virtual_machine_id",
        &vm["id"].to_string(),
    )
    .await;
    assert_eq!(net0["name"], "net0");
    assert_eq!(
        net0["mac_address"],
        testkit::proxmox::mac(octet, 2).as_str()
    );
    let node = find_one(
        &client,
        "dcim/devices/",
        "name",
        &format!("{prefix}-node-1"),
    )
    .await;
    assert_eq!(
        node["primary_ip4"]["address"],
        format!("10.{octet}.255.1/16").as_str()
    );
    assert_eq!(
        node["custom_fields"]["hedgehog_platform"],
        "Proxmox VE 8.2.4"
    );

    assert_second_run_writes_nothing(std::slice::from_ref(&source)).await;

    cleanup(&client, &prefix, octet).await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox"]
async fn a_vm_proxmox_and_an_inventory_both_list_is_one_virtual_machine() {
    let Scenario {
        client,
        prefix,
        octet,
        lock: _netbox,
    } = Scenario::start("e2e-dedupe").await;
    let api = RecordedApi::start(testkit::proxmox::generated(&prefix, 2, octet)).await;
    // The inventory knows the first VM by another name, through the MAC Proxmox reports too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vms.json");
    let listed = json!({"devices": [{"name": format!("{prefix}-web"), "kind": "virtual_machine",
        "cluster": prefix, "interfaces": [{"name": "eth0", "mac": testkit::proxmox::mac(octet, 0)}]}]});
    std::fs::write(&file, listed.to_string()).unwrap();
    let inventory = inventory_source(&prefix, vec![file], &prefix);
    let sources = [proxmox_source(&prefix, &api.url), inventory];

    let dry = discover(&sources, true, 0).await;
    assert_eq!(
        dry.plan.creates.len(),
        3,
        "the node and two VMs, not a fourth object for the inventory's entry: {:?}",
        dry.plan.creates
    );
    let report = discover(&sources, false, 0).await;
    assert_eq!(report.applied.as_ref().unwrap().created.objects, 3);
    let vms = find(
        &client,
        "virtualization/virtual-machines/",
        "cluster",
        &prefix,
    )
    .await;
    assert_eq!(vms.len(), 2, "{vms:?}");
    let first = vms
        .iter()
        .find(|vm| vm["name"] == format!("{prefix}-vm-1"))
        .expect("the VM under the name the first source gives it");
    assert_eq!(
        first["custom_fields"]["hedgehog_discovered_by"],
        format!("proxmox:{prefix}"),
        "owned by the source listed first"
    );
    let web = find(
        &client,
        "virtualization/virtual-machines/",
        "name",
        &format!("{prefix}-web"),
    )
    .await;
    assert!(web.is_empty(), "no second object: {web:?}");

    assert_second_run_writes_nothing(&sources).await;

    cleanup(&client, &prefix, octet).await;
    api.stop().await;
}
