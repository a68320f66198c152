//! A NetBox change published against the watched view of the cluster
//! (`Target::publish_change`): the view follows what others do to the cluster, and our own
//! writes are never taken for new changes, however soon the next change follows.

use std::time::Duration;

use hedgehog_sidecar::config::ClusterOptions;
use hedgehog_sidecar::model::{Kind, Manifest};
use hedgehog_sidecar::targets::Target;
use kube::api::DeleteParams;
use kube_testserver::fixtures::switches;
use testkit::oracle::FabricCluster;

use super::{cause, key, switch_json, switch_manifest, target, with_vlans};

/// Leaf `name` described as `description`.
fn described(name: &str, n: u8, description: &str) -> Manifest {
    let mut switch = switch_json(name, "server-leaf", n);
    switch["spec"]["description"] = description.into();
    serde_json::from_value(switch).unwrap()
}

#[tokio::test]
async fn a_change_is_planned_against_the_watched_cluster() {
    let Some(cluster) = FabricCluster::start("watched").await else {
        return;
    };
    let server = &cluster.server;
    let east = target(server, "east", ClusterOptions::default()).await;
    let desired = with_vlans([
        switch_manifest("leaf-01", "server-leaf", 1),
        switch_manifest("leaf-02", "server-leaf", 2),
    ]);
    let first = east.publish_change(&desired, &cause()).await.unwrap();
    assert_eq!(first.created.len(), 3, "{first:?}");
    assert!(
        server
            .wait_for_watchers(Kind::RENDERED.len(), Duration::from_secs(10))
            .await,
        "the first change starts a watch of every rendered kind"
    );

    let edited = with_vlans([
        described("leaf-01", 1, "edited"),
        switch_manifest("leaf-02", "server-leaf", 2),
    ]);
    let report = east.publish_change(&edited, &cause()).await.unwrap();
    assert_eq!(report.updated, [key(Kind::Switch, "leaf-01")], "{report:?}");
    let again = east.publish_change(&edited, &cause()).await.unwrap();
    assert!(
        again.created.is_empty() && again.updated.is_empty() && again.failures.is_empty(),
        "our own write is not a new change: {again:?}"
    );
    assert_eq!(again.unchanged, 3);

    switches(server)
        .await
        .delete("leaf-02", &DeleteParams::default())
        .await
        .unwrap();
    testkit::eventually(
        Duration::from_secs(10),
        "a change after a deletion by hand creates the switch again",
        || async {
            let report = east.publish_change(&edited, &cause()).await.unwrap();
            report.created == [key(Kind::Switch, "leaf-02")]
        },
    )
    .await;
    assert_eq!(
        switches(server).await.get("leaf-02").await.unwrap().data["spec"]["description"],
        "leaf-02"
    );
    cluster.shutdown().await;
}
