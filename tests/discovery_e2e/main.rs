//! Discovery from the fabric source against the real test NetBox and the Kubernetes test
//! server: Agents whose status holds LLDP neighbours, oper state, speed and NOS inventory shaped
//! as the Agent CRD defines them (neighbour ports named by the NOS, as SONiC reports them), and
//! the cabling route comparing them.

mod inventory;

use std::sync::Arc;

use actix_web::http::StatusCode;
use chrono::{Duration, Utc};
use hedgehog_sidecar::api::DiscoveryApi;
use hedgehog_sidecar::config::{FabricConfig, MappingConfig};
use hedgehog_sidecar::discovery::sources::fabric::FabricSource;
use hedgehog_sidecar::discovery::{RunOptions, RunReport, Source, run};
use hedgehog_sidecar::model::Kind;
use hedgehog_sidecar::netbox::NetBoxClient;
use hedgehog_sidecar::netbox::setup::ensure_schema;
use kube::api::{Patch, PatchParams, PostParams};
use kube_testserver::TestServer;
use serde_json::{Value, json};
use testkit::kube::objects;
use testkit::netbox::{NETBOX, client, tag_slugs, unique};
use testkit::paths::crds_dir;

/// A leaf and a spine of a new fabric in NetBox, and a device the source owned long ago.
struct Lab {
    fabric: String,
    leaf: String,
    spine: String,
    gone: String,
    ids: Vec<(String, u64)>,
}

async fn post(client: &NetBoxClient, path: &str, body: Value) -> u64 {
    let created: Value = client.post(path, &body).await.expect(path);
    created["id"].as_u64().unwrap()
}

async fn get(client: &NetBoxClient, path: &str) -> Value {
    client.get(path, &[]).await.expect(path)
}

/// Interface `name` of device `device`.
async fn interface(client: &NetBoxClient, device: &str, name: &str) -> Value {
    let query = [
        ("device".to_owned(), device.to_owned()),
        ("name".to_owned(), name.to_owned()),
    ];
    let page: Value = client.get("dcim/interfaces/", &query).await.unwrap();
    page["results"][0].clone()
}

async fn seed(client: &NetBoxClient) -> Lab {
    let fabric = unique("disc");
    let slug = fabric.clone();
    let mut ids = Vec::new();
    let site = post(client, "dcim/sites/", json!({"name": slug, "slug": slug})).await;
    let maker = post(
        client,
        "dcim/manufacturers/",
        json!({"name": slug, "slug": slug}),
    )
    .await;
    let kind = post(
        client,
        "dcim/device-types/",
        json!({"manufacturer": maker, "model": slug, "slug": slug}),
    )
    .await;
    let role = post(
        client,
        "dcim/device-roles/",
        json!({"name": slug, "slug": slug}),
    )
    .await;
    let device = |name: &str, serial: &str, custom: Value| {
        json!({"name": name, "serial": serial, "site": site, "device_type": kind, "role": role,
               "custom_fields": custom})
    };
    let (leaf, spine, gone) = (unique("leaf"), unique("spine"), unique("gone"));
    let cf = json!({"hedgehog_fabric": fabric});
    let leaf_id = post(
        client,
        "dcim/devices/",
        device(&leaf, "HAND-TYPED", cf.clone()),
    )
    .await;
    let spine_id = post(client, "dcim/devices/", device(&spine, "", cf.clone())).await;
    let long_ago = (Utc::now() - Duration::days(30)).to_rfc3339();
    let owned = json!({"hedgehog_fabric": fabric, "hedgehog_discovered_by": format!("fabric:{fabric}"),
                       "hedgehog_discovery": {"last_seen": long_ago, "written": {}}});
    let gone_id = post(client, "dcim/devices/", device(&gone, "", owned)).await;
    let port = |device: u64, name: &str| json!({"device": device, "name": name, "type": "25gbase-x-sfp28"});
    let mut ports = std::collections::BTreeMap::new();
    for (device, names) in [
        (leaf_id, ["E1/1", "E1/2", "E1/3", "E1/4"]),
        (spine_id, ["E1/1", "E1/2", "E1/3", "E1/4"]),
    ] {
        for name in names {
            ports.insert(
                (device, name),
                post(client, "dcim/interfaces/", port(device, name)).await,
            );
        }
    }
    for (a, b) in [("E1/1", "E1/1"), ("E1/2", "E1/2")] {
        let end = |id: u64| json!([{"object_type": "dcim.interface", "object_id": id}]);
        post(
            client,
            "dcim/cables/",
            json!({"a_terminations": end(ports[&(leaf_id, a)]),
            "b_terminations": end(ports[&(spine_id, b)])}),
        )
        .await;
    }
    ids.extend([
        ("dcim/devices/".to_owned(), leaf_id),
        ("dcim/devices/".into(), spine_id),
        ("dcim/devices/".into(), gone_id),
        ("dcim/device-types/".into(), kind),
        ("dcim/device-roles/".into(), role),
        ("dcim/manufacturers/".into(), maker),
        ("dcim/sites/".into(), site),
    ]);
    Lab {
        fabric,
        leaf,
        spine,
        gone,
        ids,
    }
}

/// What the leaf's Agent reports: E1/1 sees the spine's E1/1 (as cabled), E1/2 the spine's
/// E1/3 (cabled to E1/2), E1/3 the spine's E1/4 (no cable), E1/4 a host NetBox lacks.
fn agent_status(serial: &str, neighbours: &[(&str, &str, &str)]) -> Value {
    let mut interfaces = serde_json::Map::new();
    for (port, system, far) in neighbours {
        interfaces.insert(
            (*port).into(),
            json!({
            "oper": "up", "speed": "25G", "admin": "up", "enabled": true,
            "lldpNeighbors": [{"sysName": system, "portID": far, "chassis": "0c:29:ef:00:00:09",
                               "manuf": "Dell", "serial": "PEER-SN"}]}),
        );
    }
    json!({"status": {"conditions": [], "state": {
        "nos": {"softwareVersion": "4.5.0", "serialNumber": serial,
                "platformName": "x86_64-dellemc_s5248f_c3538-r0", "hwskuVersion": "DellEMC-S5248f-P-25G"},
        "interfaces": interfaces}}})
}

async fn agent(server: &TestServer, name: &str, spec: Value, status: Value) {
    let api = objects(&server.client().await.unwrap(), Kind::Agent);
    let body = json!({"apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent",
                      "metadata": {"name": name}, "spec": spec});
    api.create(
        &PostParams::default(),
        &serde_json::from_value(body).unwrap(),
    )
    .await
    .unwrap();
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
}

async fn source(server: &TestServer, lab: &Lab, dir: &std::path::Path) -> Arc<dyn Source> {
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let fabric: FabricConfig = serde_json::from_value(
        json!({"name": lab.fabric, "kubeconfig": path, "context": "kubetest"}),
    )
    .unwrap();
    Arc::new(FabricSource::connect(&fabric).await.unwrap())
}

async fn discover(source: &Arc<dyn Source>, dry_run: bool, create_cables: bool) -> RunReport {
    let options = RunOptions {
        dry_run,
        create_cables,
        stale_after: Duration::days(7),
        now: Utc::now(),
    };
    run(
        &client(),
        std::slice::from_ref(source),
        &MappingConfig::default(),
        &options,
    )
    .await
    .unwrap()
}

/// `GET path` on the API serving the cabling route for `source`, with token `t`.
async fn cabling_route(source: &Arc<dyn Source>, path: &str, bearer: &str) -> (StatusCode, Value) {
    DiscoveryApi::for_source(Arc::new(client()), source.clone())
        .get("t", path, bearer)
        .await
}

async fn cleanup(client: &NetBoxClient, lab: &Lab) {
    for (path, id) in &lab.ids {
        let _ = client.delete::<Value>(&format!("{path}{id}/"), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox"]
async fn the_fabric_source_reports_cabling_drift_keeps_hand_typed_values_and_tags_the_vanished() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    ensure_schema(&client, &[MappingConfig::default()])
        .await
        .unwrap();
    let lab = seed(&client).await;
    let server = TestServer::start(&crds_dir()).await.unwrap();
    // The spine's SONiC names port E1/n Ethernet<n-1> (its profile is the S5248F-ON); the
    // leaf's Agent has no profile, so names seen on it stay as they are.
    let leaf_sees = [
        ("E1/1", lab.spine.as_str(), "Ethernet0"),
        ("E1/2", lab.spine.as_str(), "Ethernet2"),
        ("E1/3", lab.spine.as_str(), "E1/4"),
        ("E1/4", "ghost-host", "eth0"),
    ];
    agent(
        &server,
        &lab.leaf,
        json!({}),
        agent_status("SN-LEAF", &leaf_sees),
    )
    .await;
    let spine_spec = json!({"switch": {"role": "spine", "profile": "dell-s5248f-on"}});
    agent(
        &server,
        &lab.spine,
        spine_spec,
        agent_status("SN-SPINE", &[("E1/1", lab.leaf.as_str(), "E1/1")]),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let source = source(&server, &lab, dir.path()).await;

    let route = format!("/api/v1/fabrics/{}/cabling", lab.fabric);
    let (status, _) = cabling_route(&source, &route, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = cabling_route(&source, "/api/v1/fabrics/nope/cabling", "t").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = cabling_route(&source, &route, "t").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fabric"], lab.fabric.as_str());
    assert_eq!(body["mismatches"], 3, "{body}");
    let finding = |port: &str| {
        body["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["device"] == lab.leaf.as_str() && f["interface"] == port)
            .cloned()
            .unwrap_or_else(|| panic!("no finding for {port}: {body}"))
    };
    assert_eq!(
        finding("E1/1"),
        json!({"device": lab.leaf, "interface": "E1/1", "state": "ok",
               "lldp": format!("{}/E1/1", lab.spine), "netbox": [format!("{}/E1/1", lab.spine)]})
    );
    assert_eq!(finding("E1/2")["state"], "wrong_peer");
    assert_eq!(finding("E1/3")["state"], "missing_cable");
    assert_eq!(finding("E1/4")["state"], "neighbour_not_in_netbox");

    let dry = discover(&source, true, false).await;
    assert!(dry.applied.is_none());
    assert!(!dry.plan.is_empty(), "{:?}", dry.plan);
    let spine_before = get(&client, &format!("dcim/devices/?name={}", lab.spine)).await;
    assert_eq!(
        spine_before["results"][0]["serial"], "",
        "a dry run writes nothing"
    );
    let leaf_e12 = interface(&client, &lab.leaf, "E1/2").await;
    assert_eq!(
        leaf_e12["custom_fields"]["hedgehog_cabling"],
        Value::Null,
        "dry run"
    );

    let report = discover(&source, false, false).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let cabling = |port: &'static str| {
        let client = &client;
        let leaf = lab.leaf.clone();
        async move {
            interface(client, &leaf, port).await["custom_fields"]["hedgehog_cabling"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(
        cabling("E1/1").await,
        format!("ok: LLDP sees {}/E1/1", lab.spine),
        "the NOS name Ethernet0 is the spine's E1/1"
    );
    assert!(
        cabling("E1/2").await.starts_with("cable to"),
        "{}",
        cabling("E1/2").await
    );
    assert!(
        cabling("E1/3").await.starts_with("missing cable"),
        "{}",
        cabling("E1/3").await
    );
    assert!(
        cabling("E1/4").await.starts_with("neighbour not in NetBox"),
        "{}",
        cabling("E1/4").await
    );
    let e12 = interface(&client, &lab.leaf, "E1/2").await;
    let journal: Value = client
        .get(
            "extras/journal-entries/",
            &[
                ("assigned_object_type".into(), "dcim.interface".into()),
                ("assigned_object_id".into(), e12["id"].to_string()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        journal["count"], 1,
        "one drift entry on the mismatched interface: {journal}"
    );
    assert_eq!(e12["speed"], 25_000_000);
    assert_eq!(e12["custom_fields"]["hedgehog_oper_status"], "up");

    let device = |name: &str| format!("dcim/devices/?name={name}");
    let leaf = &get(&client, &device(&lab.leaf)).await["results"][0];
    assert_eq!(leaf["serial"], "HAND-TYPED", "a hand-typed serial survives");
    assert_eq!(leaf["custom_fields"]["hedgehog_nos_version"], "4.5.0");
    let spine = &get(&client, &device(&lab.spine)).await["results"][0];
    assert_eq!(spine["serial"], "SN-SPINE");
    assert_eq!(
        spine["custom_fields"]["hedgehog_hardware"],
        "DellEMC-S5248f-P-25G"
    );
    assert_eq!(
        spine["custom_fields"]["hedgehog_discovered_by"],
        format!("fabric:{}", lab.fabric)
    );
    let gone = &get(&client, &device(&lab.gone)).await["results"][0];
    assert_eq!(
        tag_slugs(gone),
        ["hedgehog-stale"],
        "the vanished device is tagged, not deleted"
    );
    assert!(
        report
            .plan
            .kept
            .iter()
            .any(|k| k.object == lab.leaf && k.field == "serial")
    );

    let again = discover(&source, false, false).await;
    assert!(
        again.plan.is_empty(),
        "a second run writes nothing: {:?}",
        again.plan
    );

    let cabled = discover(&source, false, true).await;
    assert_eq!(
        cabled.plan.cables.len(),
        1,
        "only the missing cable both ends prove is created"
    );
    let after = discover(&source, true, false).await;
    let e13 = after
        .plan
        .cabling
        .iter()
        .find(|f| f.device == lab.leaf && f.interface == "E1/3")
        .unwrap();
    assert_eq!(e13.message(), format!("ok: LLDP sees {}/E1/4", lab.spine));

    server.shutdown().await;
    cleanup(&client, &lab).await;
}
