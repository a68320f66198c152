//! A steady fabric on the fabric's own webhooks: what the sidecar renders is what the fabric's
//! defaulting leaves, so once applied, reconcile passes find it Synced and write nothing to the
//! cluster.

use hedgehog_sidecar::pipeline::FabricServices;
use hedgehog_sidecar::reconcile::{ReconcileOptions, SyncStatus};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

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

#[tokio::test]
#[ignore = "needs NetBox"]
async fn a_steady_fabric_on_the_fabrics_webhooks_reconciles_synced_without_writes() {
    show_logs();
    let _netbox = NETBOX.lock().await;
    let Some(webhook_fabric) = WebhookFabric::create("e2e-steady").await else {
        return;
    };
    let settings = settings(webhook_fabric.fabric.clone(), webhook_fabric.dir.path());
    let services = FabricServices::build(&settings, None)
        .await
        .expect("services");
    let name = webhook_fabric.fabric.name.clone();
    let kube = webhook_fabric.cluster.server.client().await.unwrap();
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        let first = services
            .reconcile(&name, ReconcileOptions::default())
            .await
            .unwrap();
        assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.errors);
        let applied = first.healed.as_ref().expect("the first pass applies");
        assert!(
            applied.failures.is_empty() && applied.created.len() > 10,
            "the fabric's webhooks admit the whole rendered fabric: {applied:?}"
        );
        for pass in 2..=3 {
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
            assert!(
                steady.healed.as_ref().is_none_or(|h| !h.changed()),
                "pass {pass} applied: {:?}",
                steady.healed
            );
            assert_eq!(
                revision(&kube).await,
                before,
                "pass {pass} wrote to the cluster"
            );
        }
    }))
    .await;
    webhook_fabric.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
