//! Transitions the fabric only admits in a certain order, published to the test server running
//! the fabric's own webhooks: each converges within two publishes (two reconciles), and the
//! second changes nothing.

use hedgehog_sidecar::config::ClusterOptions;
use hedgehog_sidecar::model::{Kind, Manifest, parse_manifests};
use hedgehog_sidecar::targets::{PublishReport, Target};
use testkit::oracle::FabricCluster;
use testkit::paths::fixture;

use super::{cause, key, target};

fn fabric_yaml() -> String {
    std::fs::read_to_string(fixture("transitions-fabric.yaml")).unwrap()
}

fn manifests(yaml: &str) -> Vec<Manifest> {
    parse_manifests(yaml).unwrap()
}

/// Publishes the fabric, then `changed` `publishes` times, and checks that one more publish
/// finds nothing left to do and that the cluster holds `changed`. The first publish of
/// `changed`.
async fn converges(
    test: &str,
    changed: &str,
    options: ClusterOptions,
    publishes: usize,
) -> Option<PublishReport> {
    converges_from(test, &fabric_yaml(), changed, options, publishes).await
}

/// [`converges`] from the fabric `base` instead of the fixture's.
async fn converges_from(
    test: &str,
    base: &str,
    changed: &str,
    options: ClusterOptions,
    publishes: usize,
) -> Option<PublishReport> {
    let cluster = FabricCluster::start(test).await?;
    let target = target(&cluster.server, "lab", options).await;
    let first = target
        .publish(&manifests(base), &cause(), false)
        .await
        .unwrap();
    assert_eq!(first.failures, [], "{test}: the fabric itself: {first:?}");
    let desired = manifests(changed);
    let mut steps = Vec::new();
    for _ in 0..publishes {
        steps.push(target.publish(&desired, &cause(), false).await.unwrap());
    }
    let again = target.publish(&desired, &cause(), false).await.unwrap();
    assert!(
        again.failures.is_empty() && !again.changed(),
        "{test}: not converged after {publishes} publishes: {steps:?}, then {again:?}"
    );
    assert_eq!(again.unchanged, desired.len(), "{test}: {again:?}");
    let held = target.actual().await.unwrap().len();
    assert_eq!(
        held,
        desired.len(),
        "{test}: the cluster holds what is desired"
    );
    cluster.shutdown().await;
    steps.into_iter().next()
}

fn renamed(yaml: &str, from: &str, to: &str) -> String {
    yaml.replace(from, to)
}

/// The new switch takes the old one's ASN and IPs: it is created once the old one, its
/// connections and their attachments are gone.
#[tokio::test]
async fn a_switch_renamed_converges_in_one_publish() {
    let changed = renamed(&fabric_yaml(), "leaf-02", "leaf-03");
    let Some(step) = converges("switch renamed", &changed, ClusterOptions::default(), 1).await
    else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert!(step.created.contains(&key(Kind::Switch, "leaf-03")));
    assert!(step.deleted.contains(&key(Kind::Switch, "leaf-02")));
}

/// The new VPC takes the old one's subnet and VLAN once the old one and its attachments are
/// gone.
#[tokio::test]
async fn a_vpc_renamed_converges_in_one_publish() {
    let changed = renamed(&fabric_yaml(), "vpc-1", "vpc-2");
    let Some(step) = converges("vpc renamed", &changed, ClusterOptions::default(), 1).await else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert!(step.deleted.contains(&key(Kind::VPC, "vpc-1")));
}

#[tokio::test]
async fn a_servers_cable_moved_to_another_port_converges_in_one_publish() {
    let changed = fabric_yaml().replace("leaf-01/E1/5", "leaf-01/E1/6");
    let Some(step) = converges("cable moved", &changed, ClusterOptions::default(), 1).await else {
        return;
    };
    assert_eq!(
        step.updated,
        [key(Kind::Connection, "server-01--unbundled--leaf-01")]
    );
}

/// Neither leaf can take the other's ASN while the other holds it: one is parked on a free
/// ASN first.
#[tokio::test]
async fn two_leaves_swapping_asns_converge_in_one_publish() {
    let changed = fabric_yaml()
        .replace("asn: 65101", "asn: 65999")
        .replace("asn: 65102", "asn: 65101")
        .replace("asn: 65999", "asn: 65102");
    let Some(step) = converges("asns swapped", &changed, ClusterOptions::default(), 1).await else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert_eq!(step.updated.len(), 2, "{step:?}");
}

/// Swaps every occurrence of `a` and `b` in `yaml`.
fn swapped(yaml: &str, a: &str, b: &str) -> String {
    yaml.replace(a, "\u{0}").replace(b, a).replace('\u{0}', b)
}

/// The fabric keeps switches' management, protocol and VTEP IPs unique: one leaf is parked on
/// free ones of the fabric's subnets first.
#[tokio::test]
async fn two_leaves_swapping_their_ips_converge_in_one_publish() {
    let mut changed = fabric_yaml();
    for (a, b) in [
        ("172.30.0.12/21", "172.30.0.13/21"),
        ("172.30.8.2/32", "172.30.8.3/32"),
        ("172.30.12.2/32", "172.30.12.3/32"),
    ] {
        changed = swapped(&changed, a, b);
    }
    let Some(step) = converges("ips swapped", &changed, ClusterOptions::default(), 1).await else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert_eq!(step.updated.len(), 2, "{step:?}");
}

/// The fabric keeps link IPs unique across connections: one link is parked on a free /31 of
/// the fabric subnet first.
#[tokio::test]
async fn two_fabric_connections_swapping_their_link_ips_converge_in_one_publish() {
    let changed = swapped(
        &swapped(&fabric_yaml(), "172.30.128.0/31", "172.30.128.2/31"),
        "172.30.128.1/31",
        "172.30.128.3/31",
    );
    let Some(step) = converges("link ips swapped", &changed, ClusterOptions::default(), 1).await
    else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert_eq!(step.updated.len(), 2, "{step:?}");
}

/// The fabric keeps a VLAN namespace's VLANs unique across VPCs: one VPC is parked on a free
/// VLAN of the namespace first.
#[tokio::test]
async fn two_vpcs_swapping_their_vlans_converge_in_one_publish() {
    let base = format!(
        "{}\n---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {{name: vpc-2}}\n\
         spec: {{ipv4Namespace: default, vlanNamespace: default, subnets: \
         {{db: {{subnet: 10.0.2.0/24, gateway: 10.0.2.1, vlan: 1002}}}}}}\n",
        fabric_yaml()
    );
    let changed = swapped(&base, "vlan: 1001", "vlan: 1002");
    let Some(step) = converges_from(
        "vlans swapped",
        &base,
        &changed,
        ClusterOptions::default(),
        1,
    )
    .await
    else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert_eq!(step.updated.len(), 2, "{step:?}");
}

/// As NetBox renders it, the connection and its attachment are renamed with the type: the
/// bundled one takes the port once the unbundled one is gone. Kept under its name, the
/// connection (whose type the fabric never changes) is deleted after its attachment and both
/// are created again.
#[tokio::test]
async fn a_connection_changing_from_unbundled_to_bundled_converges_in_one_publish() {
    let bundled = "{bundled: {links: [{server: {port: server-01/enp2s1}, switch: {port: leaf-01/E1/5}}, \
                   {server: {port: server-01/enp2s2}, switch: {port: leaf-01/E1/6}}]}}";
    let unbundled =
        "{unbundled: {link: {server: {port: server-01/enp2s1}, switch: {port: leaf-01/E1/5}}}}";
    let renamed = fabric_yaml().replace(unbundled, bundled).replace(
        "server-01--unbundled--leaf-01",
        "server-01--bundled--leaf-01",
    );
    let Some(step) = converges("renamed bundled", &renamed, ClusterOptions::default(), 1).await
    else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    let same_name = fabric_yaml().replace(unbundled, bundled);
    let step = converges("bundled in place", &same_name, ClusterOptions::default(), 1)
        .await
        .unwrap();
    assert_eq!(step.failures, [], "{step:?}");
    assert!(
        step.deleted.is_empty() && step.created.is_empty(),
        "re-created, reported as updated: {step:?}"
    );
    assert!(
        step.updated
            .contains(&key(Kind::Connection, "server-01--unbundled--leaf-01"))
    );
}

/// The VPC's attachments are deleted before it, as the fabric requires.
#[tokio::test]
async fn a_vpc_deleted_with_its_attachments_converges_in_one_publish() {
    let yaml = fabric_yaml();
    let vpc_at = yaml.find("kind: VPC\n").unwrap();
    let changed = &yaml[..yaml[..vpc_at].rfind("---").unwrap()];
    let Some(step) = converges("vpc deleted", changed, ClusterOptions::default(), 1).await else {
        return;
    };
    assert_eq!(step.failures, [], "{step:?}");
    assert_eq!(step.deleted.len(), 3, "{step:?}");
    assert_eq!(step.deleted.last(), Some(&key(Kind::VPC, "vpc-1")));
}

/// With `dry_run_first`, the renamed switch is refused by the dry-run (its ASN is the old
/// one's): nothing is applied, but the old switch is still pruned, so the next publish
/// creates the new one with its connections (whose dry-run only misses the new switch).
#[tokio::test]
async fn with_dry_run_first_a_switch_renamed_converges_in_two_publishes() {
    let options = ClusterOptions {
        dry_run_first: true,
        ..ClusterOptions::default()
    };
    let changed = renamed(&fabric_yaml(), "leaf-02", "leaf-03");
    let Some(step) = converges("switch renamed, dry-run first", &changed, options, 2).await else {
        return;
    };
    assert!(
        step.deleted.contains(&key(Kind::Switch, "leaf-02")),
        "{step:?}"
    );
}

/// One object the fabric refuses holds back neither the applies nor the prunes of the
/// others, with or without a dry-run first.
#[tokio::test]
async fn a_refused_object_does_not_block_the_prunes_of_others() {
    for dry_run_first in [false, true] {
        let Some(cluster) = FabricCluster::start("refusal and prunes").await else {
            return;
        };
        let options = ClusterOptions {
            dry_run_first,
            ..ClusterOptions::default()
        };
        let target = target(&cluster.server, "lab", options).await;
        let yaml = fabric_yaml();
        target
            .publish(&manifests(&yaml), &cause(), false)
            .await
            .unwrap();
        // leaf-01's ASN leaves the fabric's range; vpc-1 and its attachments are removed.
        let vpc_at = yaml.find("kind: VPC\n").unwrap();
        let changed =
            yaml[..yaml[..vpc_at].rfind("---").unwrap()].replace("asn: 65101", "asn: 64000");
        let report = target
            .publish(&manifests(&changed), &cause(), false)
            .await
            .unwrap();
        assert_eq!(report.failures.len(), 1, "{report:?}");
        assert_eq!(report.failures[0].key, key(Kind::Switch, "leaf-01"));
        assert!(
            report.deleted.contains(&key(Kind::VPC, "vpc-1")),
            "dry_run_first = {dry_run_first}: {report:?}"
        );
        cluster.shutdown().await;
    }
}
