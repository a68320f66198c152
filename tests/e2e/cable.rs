//! A server cabled to the fabric and then uncabled: what its deletion prunes from the cluster
//! is journalled on the server, and nothing on the server or its interface keeps saying
//! `synced`.

use std::time::Duration;

use hedgehog_sidecar::netbox::setup::remove_webhook;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::harness::*;

/// A server device of the fabric with one interface, and a free port on `leaf`.
async fn server_beside(seeded: &Seeded, leaf: u64) -> (u64, u64, u64) {
    let template = get(&format!("/dcim/devices/{leaf}/")).await;
    let server: Value = client()
        .post(
            "dcim/devices/",
            &json!({
                "name": unique("srv"),
                "device_type": template["device_type"]["id"],
                "role": {"slug": "server"},
                "site": template["site"]["id"],
                "custom_fields": {"hedgehog_fabric": seeded.name},
            }),
        )
        .await
        .expect("a server device");
    let server_id = server["id"].as_u64().unwrap();
    let interface = |device: u64, name: &str| {
        let body = json!({"device": device, "name": name, "type": "25gbase-x-sfp28"});
        async move {
            let created: Value = client()
                .post("dcim/interfaces/", &body)
                .await
                .expect("an interface");
            created["id"].as_u64().unwrap()
        }
    };
    let nic = interface(server_id, "enp2s1").await;
    let port = interface(leaf, "E1/1").await;
    (server_id, nic, port)
}

async fn status_fields(path: &str) -> Value {
    let object = get(path).await;
    json!([
        object["custom_fields"]["hedgehog_status"],
        object["custom_fields"]["hedgehog_message"]
    ])
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn deleting_a_cable_journals_the_prune_on_the_server_and_leaves_no_status_behind() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-cable").await else {
        return;
    };
    let settings = cluster.settings();
    let ClusterFabric { seeded, server, .. } = cluster;
    let shutdown = CancellationToken::new();
    let webhook = "e2e-cable";
    start_sidecar(&settings, &shutdown, Some(webhook), true).await;

    let leaf = seeded.device_id("leaf-01");
    let (srv, nic, port) = server_beside(&seeded, leaf).await;
    let srv_name = get(&format!("/dcim/devices/{srv}/")).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let cable: Value = client()
        .post(
            "dcim/cables/",
            &json!({
                "a_terminations": [{"object_type": "dcim.interface", "object_id": port}],
                "b_terminations": [{"object_type": "dcim.interface", "object_id": nic}],
            }),
        )
        .await
        .expect("a cable");
    let kube = server.client().await.unwrap();
    let in_cluster = |name: String| {
        let kube = kube.clone();
        async move {
            cluster_object(&kube, "servers", "Server", "wiring.githedgehog.com", &name)
                .await
                .is_some()
        }
    };
    eventually_some(
        Duration::from_secs(120),
        "the Server in the cluster",
        || {
            let check = in_cluster(srv_name.clone());
            async move { check.await.then_some(()) }
        },
    )
    .await;

    // What an older version left: a `synced` confirmation on both objects.
    let stale = json!({"custom_fields": {
        "hedgehog_status": "synced",
        "hedgehog_message": format!("Server/{srv_name} is in sync with the cluster"),
    }});
    patch(&format!("/dcim/devices/{srv}/"), stale.clone()).await;
    patch(&format!("/dcim/interfaces/{nic}/"), stale).await;
    // Those edits are changes of the Server's own objects: once their jobs have run, the stale
    // confirmations are gone. A job of theirs that ran after the deletion would read NetBox
    // without the cable and be credited with the prune as well.
    for path in [
        format!("/dcim/devices/{srv}/"),
        format!("/dcim/interfaces/{nic}/"),
    ] {
        eventually_some(Duration::from_secs(120), "the stale status cleared", || {
            let path = path.clone();
            async move { (status_fields(&path).await == json!([null, null])).then_some(()) }
        })
        .await;
    }

    let cable_id = cable["id"].as_u64().unwrap();
    client()
        .delete::<()>(&format!("dcim/cables/{cable_id}/"), None)
        .await
        .expect("delete the cable");
    let request = last_request_id("dcim.cable", cable_id).await;
    eventually_some(Duration::from_secs(120), "the Server pruned", || {
        let check = in_cluster(srv_name.clone());
        async move { (!check.await).then_some(()) }
    })
    .await;

    let entries = eventually_some(Duration::from_secs(60), "the prune journalled", || async {
        let entries = journal("dcim.device", srv).await;
        entries
            .iter()
            .any(|e| e.starts_with("Pruned from the cluster"))
            .then_some(entries)
    })
    .await;
    let pruned = entries
        .iter()
        .find(|e| e.starts_with("Pruned from the cluster"))
        .unwrap();
    assert!(
        pruned.contains(&format!("Server/{srv_name}")) && pruned.contains(&request),
        "names the pruned object and the cable's deletion: {pruned}"
    );
    for path in [
        format!("/dcim/devices/{srv}/"),
        format!("/dcim/interfaces/{nic}/"),
    ] {
        assert_eq!(
            status_fields(&path).await,
            json!([null, null]),
            "{path} keeps no status"
        );
    }

    shutdown.cancel();
    remove_webhook(&client(), webhook).await.unwrap();
    for path in [
        format!("dcim/interfaces/{port}/"),
        format!("dcim/devices/{srv}/"),
    ] {
        let _ = client().delete::<()>(&path, None).await;
    }
    seeded.remove().await;
    server.shutdown().await;
}
