//! The fabric's own rule for the ASN and VTEP IP of a redundancy pair, which allocation's
//! planner (`allocation::plan_tests::an_mclag_pair_may_share_an_asn_and_an_eslag_pair_may_not`)
//! and the sidecar's validation follow: through the fabric's webhooks, an MCLAG leaf may share
//! its ASN and VTEP IP with its peer, an ESLAG leaf may not.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube_testserver::fixtures::switches;
use serde_json::{Value, json};
use testkit::oracle::FabricCluster;

use super::{refusal, switch_json};

/// Leaf `name` (see [`switch_json`]) in redundancy group `group` of type `kind`, with `asn`
/// and VTEP IP `172.30.12.<vtep>/32`.
fn pair_leaf(name: &str, n: u8, (group, kind): (&str, &str), asn: u32, vtep: u8) -> DynamicObject {
    let mut leaf = switch_json(name, "server-leaf", n);
    leaf["spec"]["asn"] = json!(asn);
    leaf["spec"]["vtepIP"] = json!(format!("172.30.12.{vtep}/32"));
    leaf["spec"]["redundancy"] = json!({"group": group, "type": kind});
    serde_json::from_value(leaf).unwrap()
}

#[tokio::test]
async fn the_fabric_lets_an_mclag_pair_share_an_asn_and_vtep_ip_but_not_an_eslag_pair() {
    let Some(cluster) = FabricCluster::start("redundancy pairs").await else {
        return;
    };
    let client = cluster.server.client().await.unwrap();
    let post = PostParams::default();
    let wiring = [
        (
            "VLANNamespace",
            "vlannamespaces",
            "default",
            json!({"ranges": [{"from": 1000, "to": 2999}]}),
        ),
        ("SwitchGroup", "switchgroups", "mclag-1", json!({})),
        ("SwitchGroup", "switchgroups", "eslag-1", json!({})),
    ];
    for (kind, plural, name, spec) in wiring {
        let gvk = GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
        let object: Value = json!({"apiVersion": "wiring.githedgehog.com/v1beta1",
            "kind": kind, "metadata": {"name": name}, "spec": spec});
        api.create(&post, &serde_json::from_value(object).unwrap())
            .await
            .unwrap();
    }
    let api = switches(&cluster.server).await;
    let mclag = ("mclag-1", "mclag");
    let eslag = ("eslag-1", "eslag");
    for leaf in [
        pair_leaf("mclag-a", 1, mclag, 65201, 201),
        pair_leaf("mclag-b", 2, mclag, 65201, 201),
        pair_leaf("eslag-a", 3, eslag, 65203, 203),
    ] {
        api.create(&post, &leaf).await.expect("admitted");
    }
    let shared_asn = api
        .create(&post, &pair_leaf("eslag-b", 4, eslag, 65203, 204))
        .await
        .expect_err("an ESLAG leaf sharing its peer's ASN is refused");
    assert!(
        refusal(shared_asn)
            .message
            .contains("ASN 65203 is already in use"),
        "refused for its ASN"
    );
    let shared_vtep = api
        .create(&post, &pair_leaf("eslag-b", 4, eslag, 65204, 203))
        .await
        .expect_err("an ESLAG leaf sharing its peer's VTEP IP is refused");
    assert!(
        refusal(shared_vtep).message.contains("is already in use"),
        "refused for its VTEP IP"
    );
    cluster.shutdown().await;
}
