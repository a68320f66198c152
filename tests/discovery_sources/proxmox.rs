//! Proxmox VE: a three-node cluster recorded as the PVE 8.2 API answers.

use hedgehog_sidecar::config::CustomFieldNames;
use hedgehog_sidecar::discovery::Source;
use hedgehog_sidecar::discovery::kind::ObjectKind;
use hedgehog_sidecar::discovery::observation::Field;
use hedgehog_sidecar::discovery::sources::proxmox::ProxmoxSource;
use serde_json::json;
use testkit::recorded_api::{RecordedApi, Reply, Routes};

use crate::support::{host, iface, interfaces, recorded, settings, unreachable_url};

const TOKEN: &str = "monitor@pve!sidecar=3f1c9a52-7d1e-4b8a-9c55-0d7e2a6b1f00";

async fn source_for(routes: Routes) -> (RecordedApi, ProxmoxSource) {
    let api = RecordedApi::start(routes).await;
    let source = ProxmoxSource::new(
        0,
        &settings("homelab", &api.url, TOKEN),
        &CustomFieldNames::default(),
    )
    .unwrap();
    (api, source)
}

#[tokio::test]
async fn nodes_become_devices_and_guests_virtual_machines_of_the_cluster() {
    let (_api, source) = source_for(recorded("proxmox")).await;
    let hosts = source.hosts().await.unwrap();
    let identities: Vec<_> = hosts.iter().map(|h| h.identity.as_str()).collect();
    assert_eq!(
        identities,
        [
            "node/pve1",
            "node/pve2",
            "node/pve3",
            "qemu/100",
            "qemu/101",
            "lxc/200",
            "qemu/102",
            "lxc/201"
        ],
        "nodes then guests; template 9000 is no machine"
    );

    let pve1 = host(&hosts, "node/pve1");
    assert_eq!(pve1.kind, ObjectKind::Device);
    assert_eq!(pve1.cluster.as_deref(), Some("homelab"));
    assert_eq!(pve1.primary_ip, "192.168.10.11".parse().ok());
    assert_eq!(pve1.facts["version"], json!("8.2.4"));
    assert_eq!(
        interfaces(pve1),
        [
            iface("eno1", None, &[]),
            iface("vmbr0", None, &["192.168.10.11/24"])
        ]
    );
    let pve3 = host(&hosts, "node/pve3");
    assert_eq!(
        pve3.active,
        Some(false),
        "an offline node is seen, as offline"
    );

    let web = host(&hosts, "qemu/100");
    assert_eq!(
        (web.kind, web.name.as_str()),
        (ObjectKind::VirtualMachine, "web-01")
    );
    assert_eq!(web.cluster.as_deref(), Some("homelab"));
    assert_eq!(web.active, Some(true));
    assert_eq!(web.facts["memory_mb"], json!(4096));
    assert_eq!(
        interfaces(web),
        [
            iface("net0", Some("BC:24:11:A1:00:01"), &["192.168.10.50/24"]),
            iface(
                "net1",
                Some("BC:24:11:A1:00:02"),
                &["10.20.0.50/24", "2001:db8:20::50/64"]
            ),
        ],
        "the agent's addresses by MAC; loopback, link-local and docker0 left out"
    );
    assert_eq!(web.primary_address(), "192.168.10.50".parse().ok());

    let build = host(&hosts, "qemu/101");
    assert_eq!(build.active, Some(false));
    assert_eq!(
        interfaces(build),
        [iface("net0", Some("BC:24:11:A1:01:01"), &[])]
    );

    let dns = host(&hosts, "lxc/200");
    assert_eq!(
        interfaces(dns),
        [iface(
            "eth0",
            Some("BC:24:11:C2:00:01"),
            &["192.168.10.53/24"]
        )],
        "a running container's DHCP address from its interfaces"
    );
    let db = host(&hosts, "qemu/102");
    assert_eq!(
        interfaces(db),
        [iface("net0", Some("BC:24:11:B2:00:01"), &[])],
        "an agent that does not answer leaves the addresses out, not the VM"
    );
    let proxy = host(&hosts, "lxc/201");
    assert_eq!(
        interfaces(proxy),
        [iface(
            "eth0",
            Some("BC:24:11:C2:01:01"),
            &["192.168.10.60/24", "2001:db8:10::60/64"]
        )],
        "a stopped container's static addresses"
    );
}

#[tokio::test]
async fn observations_are_virtual_machines_in_the_cluster_with_interface_macs_and_ips() {
    let (_api, source) = source_for(recorded("proxmox")).await;
    assert_eq!(source.name(), "proxmox:homelab");
    assert!(
        source.creation().is_some(),
        "creates what NetBox lacks by default"
    );
    assert!(
        source.vm_scope().is_some(),
        "matches NetBox's virtual machines too"
    );
    let observed = source.observe().await.unwrap();
    assert_eq!(observed.len(), 8);
    let web = observed.iter().find(|o| o.identity == "qemu/100").unwrap();
    assert_eq!(web.source, "proxmox:homelab");
    assert_eq!(web.kind, ObjectKind::VirtualMachine);
    let cluster = web.cluster.as_ref().unwrap();
    assert_eq!(
        (cluster.name.as_str(), cluster.cluster_type.as_str()),
        ("homelab", "discovered")
    );
    assert_eq!(web.placement.status.as_deref(), Some("active"));
    assert_eq!(web.name.as_deref(), Some("web-01"));
    assert_eq!(web.macs, ["BC:24:11:A1:00:01", "BC:24:11:A1:00:02"]);
    assert_eq!(web.interfaces[1].macs, ["BC:24:11:A1:00:02"]);
    assert_eq!(
        web.interfaces[1].ips,
        ["10.20.0.50/24", "2001:db8:20::50/64"]
    );
    assert_eq!(web.primary_ip.as_deref(), Some("192.168.10.50"));
    let build = observed.iter().find(|o| o.identity == "qemu/101").unwrap();
    assert_eq!(build.placement.status.as_deref(), Some("offline"));
    let pve1 = observed.iter().find(|o| o.identity == "node/pve1").unwrap();
    assert_eq!(pve1.kind, ObjectKind::Device);
    assert!(
        pve1.cluster.is_none(),
        "a node is a device, in no virtualization cluster"
    );
    assert_eq!(pve1.interfaces[1].interface_type.as_deref(), Some("bridge"));
    assert_eq!(
        pve1.facts[&Field::Custom(CustomFieldNames::default().platform)],
        json!("Proxmox VE 8.2.4")
    );
}

#[tokio::test]
async fn every_request_carries_the_api_token_and_stopped_guests_are_not_asked() {
    let (api, source) = source_for(recorded("proxmox")).await;
    source.hosts().await.unwrap();
    let received = api.received();
    let expected = format!("PVEAPIToken={TOKEN}");
    assert!(!received.is_empty());
    for request in &received {
        assert_eq!(
            request.authorization.as_deref(),
            Some(expected.as_str()),
            "{}",
            request.path
        );
    }
    let paths: Vec<_> = received.iter().map(|r| r.path.as_str()).collect();
    assert!(paths.contains(&"/api2/json/nodes/pve1/qemu/100/agent/network-get-interfaces"));
    assert!(
        !paths.iter().any(|p| p.contains("/qemu/101/agent")),
        "VM 101 is stopped"
    );
    assert!(
        !paths.iter().any(|p| p.contains("/9000/")),
        "a template is not read"
    );
    assert!(
        !paths.iter().any(|p| p.contains("/nodes/pve3/")),
        "pve3 is offline"
    );
}

#[tokio::test]
async fn a_refused_token_fails_the_source_instead_of_an_empty_list() {
    let mut routes = recorded("proxmox");
    routes.insert(
        "/api2/json/nodes".into(),
        Reply::status(401, "authentication failure"),
    );
    let (_api, source) = source_for(routes).await;
    let error = source.observe().await.unwrap_err().to_string();
    assert!(error.starts_with("source proxmox:homelab: GET "), "{error}");
    assert!(
        error.contains("401") && error.contains("authentication failure"),
        "{error}"
    );
    assert!(
        !error.contains("3f1c9a52"),
        "the token is never in a message: {error}"
    );
}

#[tokio::test]
async fn a_forbidden_guest_read_fails_the_source() {
    let mut routes = recorded("proxmox");
    routes.insert(
        "/api2/json/nodes/pve1/qemu/100/agent/network-get-interfaces".into(),
        Reply::status(
            403,
            json!({"data": null, "message": "Permission check failed (/vms/100, VM.Monitor)"}),
        ),
    );
    let (_api, source) = source_for(routes).await;
    let error = source.observe().await.unwrap_err().to_string();
    assert!(
        error.contains("403") && error.contains("VM.Monitor"),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_of_another_shape_is_an_error() {
    let mut routes = recorded("proxmox");
    routes.insert(
        "/api2/json/nodes/pve1/qemu".into(),
        Reply::ok(json!({"data": {"vmid": 1}})),
    );
    let (_api, source) = source_for(routes).await;
    let error = source.observe().await.unwrap_err().to_string();
    assert!(error.contains("not the documented shape"), "{error}");
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error() {
    let source = ProxmoxSource::new(
        0,
        &settings("homelab", &unreachable_url(), TOKEN),
        &CustomFieldNames::default(),
    )
    .unwrap();
    assert!(source.observe().await.is_err());
}

#[tokio::test]
async fn the_generated_cluster_serves_the_asked_number_of_vms() {
    let (api, source) = source_for(testkit::proxmox::generated("gen", 600, 77)).await;
    let hosts = source.hosts().await.unwrap();
    let vms: Vec<_> = hosts
        .iter()
        .filter(|h| h.kind == ObjectKind::VirtualMachine)
        .collect();
    assert_eq!(vms.len(), 600);
    assert_eq!(hosts.len() - vms.len(), 3, "250 VMs per node");
    let vm7 = host(&hosts, "qemu/1006");
    assert_eq!(vm7.name, "gen-vm-7");
    assert_eq!(
        interfaces(vm7),
        [iface(
            "net0",
            Some(&testkit::proxmox::mac(77, 6)),
            &[&format!("{}/16", testkit::proxmox::address(77, 6))]
        )]
    );
    let mut macs: Vec<_> = vms.iter().map(|h| h.interfaces[0].mac.clone()).collect();
    macs.sort();
    macs.dedup();
    assert_eq!(macs.len(), 600, "every generated VM has its own MAC");
    api.stop().await;
}
