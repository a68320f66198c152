//! Kubernetes Events on the applied objects, as controllers record them: a Warning on an
//! object the cluster refused, a Warning on a drifted object (folded into one Event's series
//! when it repeats), and a Normal Event on what a self-heal re-applied.

use hedgehog_sidecar::config::ClusterOptions;
use hedgehog_sidecar::model::Kind;
use hedgehog_sidecar::targets::{Cause, Target};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use kube_testserver::TestServer;
use testkit::paths::crds_dir;

use super::{key, switch_manifest, target, with_vlans};

/// The Events on object `name`: (type, reason, note, series count).
async fn events_on(server: &TestServer, name: &str) -> Vec<(String, String, String, i32)> {
    let api: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    let list = api.list(&ListParams::default()).await.unwrap();
    list.items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| {
            let count = e.series.as_ref().map_or(1, |s| s.count);
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
                count,
            )
        })
        .collect()
}

#[tokio::test]
async fn refusals_drift_and_self_heal_are_recorded_as_events_on_the_objects() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let east = target(&server, "east", ClusterOptions::default()).await;
    let desired = with_vlans([
        switch_manifest("good", "spine", 1),
        switch_manifest("bad", "core", 2),
    ]);
    let cause = Cause {
        reason: "reconcile: self-heal".into(),
        ..Cause::default()
    };
    let report = east.publish(&desired, &cause, false).await.unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    let drifted = [(
        key(Kind::Switch, "good"),
        vec!["spec.description".to_owned()],
    )];
    east.record_drift(&drifted).await;
    east.record_drift(&drifted).await;

    let bad = events_on(&server, "bad").await;
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (bad[0].0.as_str(), bad[0].1.as_str()),
        ("Warning", "Refused")
    );
    assert!(bad[0].2.contains("Unsupported value"), "{bad:?}");
    let good = events_on(&server, "good").await;
    let reasons: Vec<(&str, &str, i32)> = good
        .iter()
        .map(|(t, r, _, n)| (t.as_str(), r.as_str(), *n))
        .collect();
    assert!(reasons.contains(&("Normal", "SelfHealed", 1)), "{good:?}");
    assert!(
        reasons.contains(&("Warning", "Drifted", 2)),
        "one Event, seen twice: {good:?}"
    );
}
