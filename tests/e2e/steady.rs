//! A steady fabric on the fabric's own webhooks: what the sidecar renders is what the fabric's
//! defaulting leaves (re-sorted lists, filled-in defaults), so once applied, reconcile passes
//! find it Synced and write nothing, to the cluster or to NetBox.

use std::time::Instant;

use hedgehog_sidecar::reconcile::{FabricReport, ObjectState, ReconcileOptions, SyncStatus};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use testkit::synthetic::SyntheticFabric;

use super::harness::*;

/// The cluster's latest resourceVersion: it moves with every write, to any object.
async fn revision(client: &kube::Client) -> String {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", "Switch"),
        "switches",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let list = api.list(&ListParams::default()).await.unwrap();
    list.metadata.resource_version.unwrap_or_default()
}

/// The objects of the report that are not in sync, other than orphans not ours.
fn out_of_sync(report: &FabricReport) -> Vec<String> {
    report
        .objects
        .iter()
        .filter(|o| o.state != ObjectState::InSync)
        .filter(|o| o.state != ObjectState::Orphan || o.managed)
        .map(|o| format!("{} {} {:?}", o.key, o.state.as_str(), o.diffs))
        .collect()
}

/// A small generated fabric with every kind the defaulting touches: switches with VLAN
/// namespaces, fabric links, bundled and unbundled servers, VPCs with DHCP and attachments, an
/// External with its peering, the IPv4 and VLAN namespaces.
fn small_fabric(
    name: &str,
    octet: u8,
) -> (
    hedgehog_sidecar::netbox::FabricSnapshot,
    hedgehog_sidecar::config::MappingConfig,
) {
    let spec = SyntheticFabric::new(
        name,
        octet,
        4_200_000_000 + rand::random::<u32>() % 90_000_000,
    );
    let mapping = spec.fabric_config().mapping;
    (spec.generate(&mapping), mapping)
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn a_steady_fabric_on_the_fabrics_webhooks_reconciles_synced_without_writes() {
    show_logs();
    let _netbox = NETBOX.lock().await;
    let started = Instant::now();
    let Some(cluster) = ClusterFabric::create_from("e2e-steady", small_fabric).await else {
        return;
    };
    eprintln!("seeded NetBox in {:?}", started.elapsed());
    let services = services(&cluster.settings()).await;
    let name = cluster.seeded.name.clone();
    let kube = cluster.server.client().await.unwrap();
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        let started = Instant::now();
        let first = services
            .reconcile(&name, ReconcileOptions::default())
            .await
            .unwrap();
        assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.errors);
        let applied = first.healed.as_ref().expect("the first pass applies");
        assert!(
            applied.failures.is_empty() && applied.created.len() > 20,
            "the fabric's webhooks admit the whole rendered fabric: {applied:?}"
        );
        eprintln!("first pass (apply) took {:?}", started.elapsed());
        let switch = cluster_object(
            &kube,
            "switches",
            "Switch",
            "wiring.githedgehog.com",
            "leaf-01",
        )
        .await
        .expect("leaf-01 applied");
        assert_eq!(
            switch["metadata"]["labels"]["fabric.githedgehog.com/profile"],
            testkit::synthetic::SWITCH_PROFILE,
            "the fabric's defaulting webhook ran on what was applied: {switch}"
        );
        for pass in 2..=3 {
            let started = Instant::now();
            let before = revision(&kube).await;
            let steady = services
                .reconcile(&name, ReconcileOptions::default())
                .await
                .unwrap();
            assert_eq!(
                steady.sync,
                SyncStatus::Synced,
                "pass {pass}: {:?}",
                steady.errors
            );
            assert_eq!(out_of_sync(&steady), Vec::<String>::new(), "pass {pass}");
            assert!(
                steady.healed.as_ref().is_none_or(|h| !h.changed()),
                "pass {pass} applied: {:?}",
                steady.healed
            );
            assert_eq!(
                (steady.netbox_updates, steady.journal_entries),
                (0, 0),
                "pass {pass} wrote to NetBox"
            );
            assert_eq!(
                revision(&kube).await,
                before,
                "pass {pass} wrote to the cluster"
            );
            eprintln!("pass {pass} took {:?}", started.elapsed());
        }
    }))
    .await;
    let ClusterFabric { seeded, server, .. } = cluster;
    seeded.remove().await;
    server.shutdown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
