//! The README's saved filters for problem objects, run against the real NetBox on what the
//! sidecar itself wrote: an object in sync carries no status, so a filter on the status finds
//! exactly the objects with a problem.

use std::collections::BTreeSet;

use hedgehog_sidecar::pipeline::FabricServices;
use hedgehog_sidecar::reconcile::{ReconcileOptions, SyncStatus};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;

use super::harness::*;

/// The ids of the fabric's devices (its own site) that NetBox's device list returns for
/// `filter`, a saved filter's query string.
async fn devices_found(site: &str, filter: &str) -> BTreeSet<u64> {
    let found = get(&format!("/dcim/devices/?site={site}&{filter}&limit=1000")).await;
    found["results"]
        .as_array()
        .unwrap_or_else(|| panic!("NetBox refused `{filter}`: {found}"))
        .iter()
        .filter_map(|d| d["id"].as_u64())
        .collect()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn problem_filters_find_a_drifted_device_and_not_a_synced_one() {
    let Some((_netbox, mut cluster)) = cluster_scenario("e2e-filters").await else {
        return;
    };
    // The first reconcile fills the empty cluster (self-heal); later ones run without it, so
    // they report drift on the NetBox object instead of repairing it.
    let filling = FabricServices::build(&cluster.settings(), None)
        .await
        .expect("services");
    let first = filling
        .reconcile(&cluster.seeded.name, ReconcileOptions::default())
        .await
        .unwrap();
    cluster.fabric.cluster.self_heal = false;
    let services = FabricServices::build(&cluster.settings(), None)
        .await
        .expect("services");
    let ClusterFabric { seeded, server, .. } = cluster;
    let reconcile = || services.reconcile(&seeded.name, ReconcileOptions::default());
    let steady = reconcile().await.unwrap();
    assert_eq!(steady.sync, SyncStatus::Synced, "{first:?} then {steady:?}");
    let site = &seeded.name;
    let (spine, leaf) = (seeded.device_id("spine-01"), seeded.device_id("leaf-01"));
    assert!(
        devices_found(site, "cf_hedgehog_status__empty=false")
            .await
            .is_empty(),
        "a fabric in sync has no problem objects"
    );

    let kube = server.client().await.unwrap();
    let switches: Api<DynamicObject> = Api::namespaced_with(
        kube,
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", "Switch"),
            "switches",
        ),
    );
    let edit = Patch::Merge(json!({"spec": {"description": "edited with kubectl"}}));
    switches
        .patch("spine-01", &PatchParams::default(), &edit)
        .await
        .unwrap();
    let drifted = reconcile().await.unwrap();
    assert_eq!(drifted.sync, SyncStatus::OutOfSync, "{drifted:?}");

    let problems = devices_found(site, "cf_hedgehog_status__empty=false").await;
    assert!(
        problems.contains(&spine),
        "all problems: the drifted spine is found"
    );
    assert!(
        !problems.contains(&leaf),
        "all problems: the synced leaf is not"
    );
    assert_eq!(
        devices_found(site, "cf_hedgehog_status=drifted").await,
        BTreeSet::from([spine]),
        "drifted: only the drifted spine"
    );
    let errors = devices_found(site, "cf_hedgehog_status=error").await;
    assert!(
        !errors.contains(&spine) && !errors.contains(&leaf),
        "error: neither a drifted nor a synced device, found {errors:?}"
    );

    server.shutdown().await;
    seeded.remove().await;
}
