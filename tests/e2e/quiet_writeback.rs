//! The sidecar's own write-back must not flood NetBox's webhook worker, which sends every
//! delivery serially before any user's next change. A counting receiver is the target of this
//! scenario's own webhook and event rules (the ones `setup` creates, conditions included), so
//! every delivery NetBox sends for the fabric is seen and attributed.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::netbox::load_fabric;
use hedgehog_sidecar::netbox::setup::{SetupSpec, remove_webhook, run_setup};
use hedgehog_sidecar::reconcile::netbox_io::desired_from_snapshot;
use hedgehog_sidecar::reconcile::sources::custom_fields_index;
use hedgehog_sidecar::reconcile::{ReconcileOptions, SyncStatus};
use serde_json::{Value, json};

use super::harness::*;
use super::webhook_counter::{Delivery, WebhookCounter};

/// The fabric in NetBox: how many objects its rendered objects come from, and every object
/// it is read from (by type and id), to tell its deliveries from other tests' in the shared
/// NetBox.
async fn fabric_objects(fabric: &FabricConfig) -> (usize, BTreeSet<(String, u64)>) {
    let snapshot = load_fabric(&client(), fabric).await.expect("load");
    let all = custom_fields_index(&snapshot)
        .keys()
        .map(|(t, id)| ((*t).to_owned(), *id))
        .collect();
    let desired = desired_from_snapshot(fabric, snapshot);
    let mapped: BTreeSet<_> = desired.sources.values().flatten().collect();
    (mapped.len(), all)
}

/// The deliveries that concern the fabric.
fn of_fabric(deliveries: Vec<Delivery>, objects: &BTreeSet<(String, u64)>) -> Vec<Delivery> {
    deliveries
        .into_iter()
        .filter(|d| {
            d.object_id()
                .is_some_and(|id| objects.contains(&(d.object_type().to_owned(), id)))
        })
        .collect()
}

/// Saves a user's edit of `device` and waits for its delivery. NetBox's worker sends its
/// queue in order, so everything enqueued before the edit has arrived by then: returns those
/// deliveries and how long the edit took to arrive after its save.
async fn deliveries_before_an_edit(
    counter: &WebhookCounter,
    device: u64,
) -> (Vec<Delivery>, Duration) {
    let before = counter.len();
    let description = unique("edited");
    let saved = Instant::now();
    patch(
        &format!("/dcim/devices/{device}/"),
        json!({"description": description}),
    )
    .await;
    let (index, at) = eventually_some(Duration::from_secs(120), "the edit's delivery", || async {
        counter
            .deliveries()
            .iter()
            .enumerate()
            .skip(before)
            .find(|(_, d)| d.body["data"]["description"] == json!(description))
            .map(|(i, d)| (i, d.at))
    })
    .await;
    let earlier = counter.deliveries()[before..index].to_vec();
    (earlier, at - saved)
}

fn describe(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}",
                d.object_type(),
                d.object_id(),
                d.body["event"]
            )
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn write_back_and_fabric_wide_conditions_send_at_most_one_webhook_per_100_mapped_objects() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-quiet").await else {
        return;
    };
    let services = services(&cluster.settings()).await;
    let ClusterFabric {
        seeded,
        server,
        fabric,
        ..
    } = cluster;
    let counter = WebhookCounter::start().await;
    let hook = "e2e-quiet-writeback";
    let spec = SetupSpec {
        sidecar_url: counter.url.clone(),
        webhook_secret: None,
        mappings: vec![fabric.mapping.clone()],
        name: hook.into(),
        sidecar_user: None,
        ..SetupSpec::default()
    };
    run_setup(&client(), &spec).await.expect("setup");
    let (mapped, objects) = fabric_objects(&fabric).await;
    assert!(mapped > 10, "the docs fabric maps {mapped} objects");
    let reconcile = || services.reconcile(&seeded.name, ReconcileOptions::default());
    let spine = seeded.device_id("spine-01");

    // A first reconcile applies the whole fabric to an empty cluster.
    let first = reconcile().await.unwrap();
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.errors);
    let (sent, latency) = deliveries_before_an_edit(&counter, spine).await;
    let sent = of_fabric(sent, &objects);
    eprintln!(
        "first reconcile: {} deliveries for {mapped} mapped objects ({} NetBox objects read); \
         a user's edit arrived {latency:?} after its save (the shared NetBox's queue)",
        sent.len(),
        objects.len()
    );
    assert!(
        sent.len() * 100 <= mapped,
        "{} deliveries for {mapped} mapped objects: {:?}",
        sent.len(),
        describe(&sent)
    );

    // Activity outside the fabric is not sent: a device with no fabric and no peer role.
    let template = get(&format!("/dcim/devices/{spine}/")).await;
    let outsider: Value = client()
        .post(
            "dcim/devices/",
            &json!({
                "name": unique("outsider"),
                "device_type": template["device_type"]["id"],
                "role": template["role"]["id"],
                "site": template["site"]["id"],
            }),
        )
        .await
        .expect("create a device outside the fabric");
    let outsider_id = outsider["id"].as_u64().unwrap();
    patch(
        &format!("/dcim/devices/{outsider_id}/"),
        json!({"description": "not a fabric device"}),
    )
    .await;
    let (sent, _) = deliveries_before_an_edit(&counter, spine).await;
    let _ = client()
        .delete::<()>(&format!("dcim/devices/{outsider_id}/"), None)
        .await;
    assert!(
        sent.iter().all(|d| d.object_id() != Some(outsider_id)),
        "{:?}",
        describe(&sent)
    );

    // The cluster goes away: one write on the fabric's record, which sends nothing.
    server.shutdown().await;
    let unknown = reconcile().await.unwrap();
    assert_eq!(unknown.sync, SyncStatus::Unknown);
    let (sent, _) = deliveries_before_an_edit(&counter, spine).await;
    let sent = of_fabric(sent, &objects);
    assert!(sent.is_empty(), "{:?}", describe(&sent));

    remove_webhook(&client(), hook).await.unwrap();
    seeded.remove().await;
}
