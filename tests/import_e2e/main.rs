//! Import end to end against the real NetBox 4.7 (`eval "$(../shared/netbox/netbox-up)"` sets
//! NETBOX_URL and the tokens; CI always does): each published sample is imported through
//! `import_fabric` (what `hedgehog-sidecar import` runs), rendered from the live NetBox and
//! compared with the sample; a second import creates nothing; a dry run creates nothing. The
//! cluster case reads the objects back from the Kubernetes test server, running the fabric's
//! own webhooks, first.
//!
//! NetBox is shared: every case uses its own fabric name and site, its own address space (the
//! samples' global prefixes are moved to a random 10.x/16), and deletes what it created, also
//! when it fails. No webhook or event rule is created (`ensure_schema` is setup without them).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use futures::FutureExt;
use hedgehog_sidecar::config::{FabricConfig, ValidationLevel};
use hedgehog_sidecar::import::roundtrip::{compare, normalised};
use hedgehog_sidecar::import::{ImportOptions, ImportReport, import_fabric, source};
use hedgehog_sidecar::mapping;
use hedgehog_sidecar::model::Manifest;
use hedgehog_sidecar::model::parse_manifests;
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::seed::delete_snapshot_objects;
use hedgehog_sidecar::netbox::{ListQuery, NetBoxClient, load_fabric};
use hedgehog_sidecar::targets::cluster::ClusterTarget;
use hedgehog_sidecar::targets::{Cause, Target};
use serde_json::{Value, json};
use testkit::netbox::{NETBOX, client, unique};
use testkit::oracle::FabricCluster;

type Specs = BTreeMap<(String, String), Value>;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sample_text(file: &str) -> String {
    read(&testkit::paths::shared("hedgehog/samples").join(file))
}

fn fixture_text(file: &str) -> String {
    read(&testkit::paths::fixture(file))
}

/// A random second octet for the samples' 10.x addresses.
fn octet() -> u8 {
    20 + rand::random::<u8>() % 200
}

/// The docs sample, its IPv4Namespace moved to 10.<octet>.0.0/16.
fn docs_sample() -> Vec<Manifest> {
    let text = sample_text("docs_build-wiring_sample-wiring-diagram.yaml")
        .replace("10.0.0.0/16", &format!("10.{}.0.0/16", octet()));
    parse_manifests(&text).unwrap()
}

/// The demo-gitops sample plus the wiring it refers to, its 10.10.x addresses moved.
fn demo_input() -> Vec<Manifest> {
    let text = format!(
        "{}\n---\n{}",
        sample_text("demo-gitops_env-1_vpcs.yaml"),
        fixture_text("demo-gitops-env-1.wiring.yaml")
    )
    .replace("10.10.", &format!("10.{}.", octet()));
    parse_manifests(&text).unwrap()
}

/// Every connection type and VPC field the model holds; global addresses moved.
fn all_kinds() -> Vec<Manifest> {
    let fabric_block = 128 + rand::random::<u8>() % 100;
    let text = fixture_text("import-all-kinds.yaml")
        .replace("10.0.", &format!("10.{}.", octet()))
        .replace("172.30.128.", &format!("172.30.{fabric_block}."));
    parse_manifests(&text).unwrap()
}

fn fabric(prefix: &str, mclag: bool) -> FabricConfig {
    serde_json::from_value(json!({
        "name": unique(prefix), "validation": "wiring", "mapping": {"render_mclag": mclag},
    }))
    .unwrap()
}

fn options(fabric: &FabricConfig, dry_run: bool) -> ImportOptions {
    ImportOptions {
        dry_run,
        site: fabric.name.clone(),
    }
}

/// Runs `scenario`, then deletes the fabric's objects and its site whatever happened.
async fn with_cleanup<F>(client: &NetBoxClient, fabric: &FabricConfig, scenario: F)
where
    F: std::future::Future<Output = ()>,
{
    let outcome = AssertUnwindSafe(scenario).catch_unwind().await;
    if let Ok(snapshot) = load_fabric(client, fabric).await {
        let deleted = delete_snapshot_objects(client, &snapshot).await;
        assert!(
            deleted.is_ok() || outcome.is_err(),
            "clean-up failed: {deleted:?}"
        );
    }
    let sites: Vec<Value> = client
        .list(
            ep::SITES.path,
            &ListQuery::new().filter("slug", &fabric.name),
        )
        .await
        .unwrap_or_default();
    for site in sites.iter().filter(|s| s["slug"] == fabric.name.as_str()) {
        if let Some(id) = site["id"].as_u64() {
            let _ = client.delete::<()>(&ep::SITES.detail(id), None).await;
        }
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Dry run, import, render from the live NetBox, import again. Returns the first report.
async fn import_round_trip(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    manifests: &[Manifest],
    expected: &Specs,
) -> ImportReport {
    let dry = import_fabric(client, fabric, manifests, &options(fabric, true))
        .await
        .expect("dry run");
    assert!(dry.dry_run && dry.created_count() > 0, "{dry}");
    let untouched = load_fabric(client, fabric).await.unwrap();
    assert!(
        untouched.is_empty(),
        "a dry run created {} objects",
        untouched.len()
    );

    let first = import_fabric(client, fabric, manifests, &options(fabric, false))
        .await
        .expect("import");
    assert_eq!(
        first.created, dry.created,
        "the dry run listed what the import created"
    );
    let snapshot = load_fabric(client, fabric).await.unwrap();
    assert_eq!(snapshot.len(), first.created_count(), "{first}");
    let rendered = match mapping::render(fabric, &snapshot) {
        Ok(rendered) => rendered,
        Err(error) => panic!("the imported fabric does not render:\n{error}"),
    };
    assert_eq!(compare(expected, &normalised(&rendered.manifests)), []);

    let second = import_fabric(client, fabric, manifests, &options(fabric, false))
        .await
        .expect("second import");
    assert_eq!(
        second.created_count(),
        0,
        "a second import created objects:\n{second}"
    );
    assert_eq!(
        second.present.values().sum::<usize>(),
        first.created_count()
    );
    first
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn docs_sample_imports_renders_back_and_imports_once() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let fabric = fabric("import-docs", false);
    let manifests = docs_sample();
    let mut expected = normalised(&manifests);
    // Documented skip: a SwitchGroup no switch names has no NetBox representation.
    expected.remove(&("SwitchGroup".into(), "empty".into()));
    with_cleanup(&client, &fabric, async {
        let report = import_round_trip(&client, &fabric, &manifests, &expected).await;
        assert_eq!(report.skipped.len(), 1, "the Gateway kind: {report}");
        let reported: Vec<&str> = report.roundtrip.iter().map(|p| p.object.as_str()).collect();
        assert_eq!(reported, ["SwitchGroup/empty"]);
        assert_eq!(report.created["dcim.device"].len(), 7, "{report}");
        assert_eq!(report.created["dcim.cable"].len(), 18, "{report}");
    })
    .await;
}

/// The round trip of an input the NetBox model holds completely (nothing left out, everything
/// renders back). Returns the first import's report.
async fn complete_round_trip(prefix: &str, mclag: bool, manifests: &[Manifest]) -> ImportReport {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let fabric = fabric(prefix, mclag);
    let expected = normalised(manifests);
    let mut report = ImportReport::default();
    with_cleanup(&client, &fabric, async {
        report = import_round_trip(&client, &fabric, manifests, &expected).await;
        assert!(
            report.roundtrip.is_empty() && report.notes.is_empty(),
            "{report}"
        );
    })
    .await;
    report
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn demo_gitops_sample_with_its_wiring_imports_renders_back_and_imports_once() {
    let report = complete_round_trip("import-demo", true, &demo_input()).await;
    assert_eq!(report.created["ipam.vrf"].len(), 4, "{report}");
    assert_eq!(report.created["ipam.iprange"].len(), 3, "{report}");
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn every_connection_type_and_vpc_field_imports_into_netbox_and_renders_back() {
    complete_round_trip("import-all", false, &all_kinds()).await;
}

/// The demo-gitops sample with the complete wiring a running fabric admits (its attachment's
/// connection ESLAG, as the fabric attaches no VPC to MCLAG), its namespace moved to
/// 10.`namespace`.0.0/16 and the switches' addressing into 10.`switches`.0.0/17, as
/// `testkit::synthetic::addressing(switches)` describes it.
fn demo_cluster_input(namespace: u8, switches: u8) -> Vec<Manifest> {
    let text = format!(
        "{}\n---\n{}",
        sample_text("demo-gitops_env-1_vpcs.yaml"),
        fixture_text("demo-gitops-env-1.cluster.yaml")
    )
    .replace("10.10.", &format!("10.{namespace}."))
    .replace("/21", "/24")
    .replace("172.30.0.", &format!("10.{switches}.0."))
    .replace("172.30.8.", &format!("10.{switches}.1."))
    .replace("172.30.12.", &format!("10.{switches}.2."));
    parse_manifests(&text).unwrap()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn import_from_the_cluster_reads_the_fabric_back_and_renders_it_again() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let namespace = testkit::netbox::free_octet(&client).await;
    let mut switches = testkit::netbox::free_octet(&client).await;
    while switches == namespace {
        switches = testkit::netbox::free_octet(&client).await;
    }
    let mut fabric = fabric("import-cluster", false);
    fabric.validation = ValidationLevel::Cluster;
    fabric.mapping.settings = testkit::synthetic::addressing(switches);
    let Some(cluster) = FabricCluster::start_with(&fabric.mapping.settings, "import").await else {
        return;
    };
    let manifests = demo_cluster_input(namespace, switches);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    let target = ClusterTarget::new(
        cluster.client().await.unwrap(),
        &fabric.name,
        fabric.cluster.clone(),
        &fabric.mapping.label_domain,
    );
    let cause = Cause {
        reason: "import test".into(),
        ..Cause::default()
    };
    let published = target.publish(&manifests, &cause, false).await.unwrap();
    assert_eq!(
        published.failures,
        [],
        "the fabric's webhooks admit the input"
    );
    fabric.kubeconfig = Some(kubeconfig);
    // What `import --from cluster` reads: the objects as the cluster holds them, defaulted by
    // the fabric's webhooks (gateways and DHCP ranges filled in); that is what renders back.
    let from_cluster = source::from_cluster(&fabric)
        .await
        .expect("read the cluster");
    let expected = normalised(&from_cluster);
    assert!(
        expected.keys().eq(normalised(&manifests).keys()),
        "every object and only those: {:?}",
        expected.keys()
    );
    with_cleanup(&client, &fabric, async {
        let report = import_round_trip(&client, &fabric, &from_cluster, &expected).await;
        assert!(report.roundtrip.is_empty(), "{report}");
    })
    .await;
    cluster.shutdown().await;
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn an_input_with_dangling_references_creates_nothing_and_names_the_objects() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let fabric = fabric("import-bad", false);
    // The demo sample without its wiring: its attachments name connections it does not hold.
    let manifests = parse_manifests(&sample_text("demo-gitops_env-1_vpcs.yaml")).unwrap();
    with_cleanup(&client, &fabric, async {
        let error = import_fabric(&client, &fabric, &manifests, &options(&fabric, false))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("VPCAttachment/demo-vpc-3--server-3--bundled--s5248-01: connection server-3--bundled--s5248-01 is not among the imported connections"),
            "{error}"
        );
        assert!(load_fabric(&client, &fabric).await.unwrap().is_empty());
    })
    .await;
}
