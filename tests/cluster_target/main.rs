//! The cluster target against the test server running the fabric's own webhooks: apply
//! order, pruning (only labelled objects), reverse-order deletes, conflicts, error reporting,
//! dry-run, and reading back.

use hedgehog_sidecar::config::{ClusterOptions, FabricConfig};
use hedgehog_sidecar::model::parse_manifests;
use hedgehog_sidecar::model::{Kind, Manifest, ObjectKey};
use hedgehog_sidecar::targets::cluster::{ClusterTarget, apply_order};
use hedgehog_sidecar::targets::{Cause, Target};
use kube::api::{DynamicObject, ListParams, PostParams};
use kube_testserver::TestServer;
use kube_testserver::fixtures::{edit_as, rv, switches};
use serde_json::{Value, json};
use testkit::kube::objects;
use testkit::oracle::FabricCluster;
use testkit::paths::{crds_dir, fixture, shared};

mod events;
mod redundancy_pairs;
mod transitions;
mod watched;

/// The demo-gitops sample with the complete wiring it names, as YAML.
fn demo_yaml() -> String {
    let wiring = std::fs::read_to_string(fixture("demo-gitops-env-1.cluster.yaml")).unwrap();
    let sample = shared("hedgehog/samples/demo-gitops_env-1_vpcs.yaml");
    format!(
        "{wiring}\n---\n{}",
        std::fs::read_to_string(sample).unwrap()
    )
}

fn demo() -> Vec<Manifest> {
    parse_manifests(&demo_yaml()).unwrap()
}

/// A Switch the fabric admits: a spine, or a leaf with ASN `65100 + n`; `n` also makes its
/// management and protocol IPs unique.
fn switch_json(name: &str, role: &str, n: u8) -> Value {
    let mut spec = json!({
        "role": role, "profile": "vs", "description": name, "asn": 65100,
        "ip": format!("172.30.0.{}/21", 100 + n), "protocolIP": format!("172.30.8.{}/32", 100 + n),
    });
    if role != "spine" {
        spec["asn"] = json!(65100 + u32::from(n));
        spec["vtepIP"] = json!(format!("172.30.12.{}/32", 100 + n));
    }
    json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
        "metadata": {"name": name}, "spec": spec,
    })
}

fn switch_manifest(name: &str, role: &str, n: u8) -> Manifest {
    serde_json::from_value(switch_json(name, role, n)).unwrap()
}

/// The VLAN namespace every switch is in, and `objects`.
fn with_vlans(objects: impl IntoIterator<Item = Manifest>) -> Vec<Manifest> {
    let vlans = json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "VLANNamespace",
        "metadata": {"name": "default"}, "spec": {"ranges": [{"from": 1000, "to": 2999}]},
    });
    std::iter::once(serde_json::from_value(vlans).unwrap())
        .chain(objects)
        .collect()
}

async fn target(server: &TestServer, fabric: &str, options: ClusterOptions) -> ClusterTarget {
    ClusterTarget::new(
        server.client().await.unwrap(),
        fabric,
        options,
        "hedgehog-sidecar.io",
    )
}

fn cause() -> Cause {
    Cause {
        reason: "test".into(),
        ..Default::default()
    }
}

fn key(kind: Kind, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        name: name.into(),
    }
}

/// Does every object of kind `first` come before every object of kind `then` in `keys`?
fn before(keys: &[ObjectKey], first: Kind, then: Kind) -> bool {
    let last_first = keys.iter().rposition(|k| k.kind == first);
    let first_then = keys.iter().position(|k| k.kind == then);
    match (last_first, first_then) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

async fn resource_versions(server: &TestServer, kind: Kind) -> Vec<(u64, ObjectKey)> {
    objects(&server.client().await.unwrap(), kind)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|o| {
            (
                rv(o),
                key(kind, o.metadata.name.as_deref().unwrap_or_default()),
            )
        })
        .collect()
}

#[tokio::test]
async fn objects_are_applied_in_dependency_order_and_labelled() {
    let Some(cluster) = FabricCluster::start("apply order").await else {
        return;
    };
    let server = &cluster.server;
    let target = target(server, "east", ClusterOptions::default()).await;
    let mut desired = demo();
    desired.reverse();
    let report = target.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(
        (report.created.len(), report.failures.len()),
        (desired.len(), 0),
        "{report:?}"
    );
    let mut writes = Vec::new();
    for kind in Kind::RENDERED {
        writes.extend(resource_versions(server, kind).await);
    }
    writes.sort();
    let written: Vec<ObjectKey> = writes.into_iter().map(|(_, k)| k).collect();
    let mut ordered = written.clone();
    ordered.sort_by(|a, b| apply_order(a).cmp(&apply_order(b)));
    assert_eq!(written, ordered, "written in apply order");
    assert!(
        before(&written, Kind::VPC, Kind::Connection) && before(&written, Kind::Switch, Kind::VPC),
        "{written:?}"
    );

    let vpc = target
        .actual()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o["kind"] == "VPC")
        .unwrap();
    assert_eq!(
        vpc["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "hedgehog-sidecar"
    );
    assert_eq!(
        vpc["metadata"]["labels"]["hedgehog-sidecar.io/fabric"],
        "east"
    );
    assert_eq!(
        vpc["metadata"]["managedFields"][0]["manager"],
        "hedgehog-sidecar"
    );

    let again = target.publish(&desired, &cause(), false).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(again.unchanged, desired.len());
    cluster.shutdown().await;
}

#[tokio::test]
async fn pruning_deletes_only_this_fabrics_objects_in_reverse_order() {
    let Some(cluster) = FabricCluster::start("pruning").await else {
        return;
    };
    let server = &cluster.server;
    let east = target(server, "east", ClusterOptions::default()).await;
    let west = target(server, "west", ClusterOptions::default()).await;
    east.publish(&demo(), &cause(), false).await.unwrap();
    let report = west
        .publish(
            &[switch_manifest("west-spine", "spine", 1)],
            &cause(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.failures, [], "{report:?}");
    let api = switches(server).await;
    let by_hand = serde_json::from_value(switch_json("by-hand", "spine", 2)).unwrap();
    api.create(&PostParams::default(), &by_hand).await.unwrap();

    // Keep VPC demo-vpc-1 and the namespaces it needs; everything else of east goes.
    let keep: Vec<Manifest> = demo()
        .into_iter()
        .filter(|m| m.metadata.name == "demo-vpc-1" || m.kind.ends_with("Namespace"))
        .collect();
    let report = east.publish(&keep, &cause(), false).await.unwrap();
    assert_eq!(report.failures, [], "{report:?}");
    assert_eq!(report.unchanged, 3);
    let expected = demo().len() - keep.len();
    assert_eq!(report.deleted.len(), expected, "{report:?}");
    let mut reversed = report.deleted.clone();
    reversed.sort_by(|a, b| apply_order(b).cmp(&apply_order(a)));
    assert_eq!(
        report.deleted, reversed,
        "dependents first: the exact reverse of the apply order"
    );
    for (first, then) in [
        (Kind::VPCAttachment, Kind::Connection),
        (Kind::ExternalAttachment, Kind::Connection),
        (Kind::ExternalPeering, Kind::External),
        (Kind::Connection, Kind::VPC),
        (Kind::Connection, Kind::Switch),
        (Kind::Switch, Kind::SwitchGroup),
    ] {
        assert!(
            before(&report.deleted, first, then),
            "{first:?} before {then:?}"
        );
    }
    assert!(
        api.get("by-hand").await.is_ok(),
        "unlabelled objects are never touched"
    );
    assert!(
        api.get("west-spine").await.is_ok(),
        "another fabric's objects are never touched"
    );

    let no_prune = target(
        server,
        "west",
        ClusterOptions {
            prune: false,
            ..Default::default()
        },
    )
    .await;
    let report = no_prune.publish(&[], &cause(), false).await.unwrap();
    assert!(report.deleted.is_empty());
    cluster.shutdown().await;
}

#[tokio::test]
async fn conflicts_are_reported_unless_the_fabric_forces_them() {
    let Some(cluster) = FabricCluster::start("conflicts").await else {
        return;
    };
    let server = &cluster.server;
    let east = target(server, "east", ClusterOptions::default()).await;
    let desired = with_vlans([switch_manifest("leaf-01", "server-leaf", 1)]);
    let report = east.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(report.failures, [], "{report:?}");
    edit_as(
        &switches(server).await,
        "kubectl-edit",
        "leaf-01",
        json!({"spec": {"description": "edited by hand"}}),
    )
    .await;

    let report = east.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].key, key(Kind::Switch, "leaf-01"));
    let message = &report.failures[0].message;
    assert!(
        message.starts_with("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using wiring.githedgehog.com/v1beta1 at "),
        "{message}"
    );
    assert!(message.ends_with(": .spec.description"), "{message}");

    let forcing = target(
        server,
        "east",
        ClusterOptions {
            force_conflicts: true,
            ..Default::default()
        },
    )
    .await;
    let report = forcing.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(report.updated, vec![key(Kind::Switch, "leaf-01")]);
    assert_eq!(
        switches(server).await.get("leaf-01").await.unwrap().data["spec"]["description"],
        "leaf-01"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn refused_objects_quote_the_cluster_and_the_rest_is_applied() {
    let Some(cluster) = FabricCluster::start("refusals").await else {
        return;
    };
    let server = &cluster.server;
    let east = target(server, "east", ClusterOptions::default()).await;
    let desired = with_vlans([
        switch_manifest("good", "spine", 1),
        switch_manifest("bad", "core", 2),
    ]);
    let report = east.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(report.created[1..], [key(Kind::Switch, "good")]);
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].message.starts_with("Switch.wiring.githedgehog.com \"bad\" is invalid: spec.role: Unsupported value: \"core\""), "{}", report.failures[0].message);
    cluster.shutdown().await;
}

#[tokio::test]
async fn dry_runs_report_without_changing_anything() {
    let Some(cluster) = FabricCluster::start("dry runs").await else {
        return;
    };
    let server = &cluster.server;
    let east = target(server, "east", ClusterOptions::default()).await;
    // Switches need their VLAN namespace: that one exists, the switches are dry-run.
    let vlans = with_vlans([]);
    let report = east.publish(&vlans, &cause(), false).await.unwrap();
    assert_eq!(report.failures, [], "{report:?}");
    let switches_only = [
        switch_manifest("spine-01", "spine", 1),
        switch_manifest("leaf-01", "server-leaf", 2),
    ];
    let report = east
        .publish(&with_vlans(switches_only), &cause(), true)
        .await
        .unwrap();
    assert_eq!(report.created.len(), 2, "{report:?}");
    assert_eq!(
        east.actual().await.unwrap().len(),
        1,
        "a dry-run stores nothing"
    );

    // dry_run_first: one refused object means nothing is applied.
    let careful = target(
        server,
        "east",
        ClusterOptions {
            dry_run_first: true,
            ..Default::default()
        },
    )
    .await;
    let report = careful
        .publish(
            &with_vlans([
                switch_manifest("good", "spine", 3),
                switch_manifest("bad", "core", 4),
            ]),
            &cause(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.failures.len(), 1);
    assert!(report.created.is_empty());
    assert_eq!(east.actual().await.unwrap().len(), 1);
    let report = careful
        .publish(
            &with_vlans([switch_manifest("good", "spine", 3)]),
            &cause(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.created, vec![key(Kind::Switch, "good")]);

    // A dry-run of a change and of a prune.
    let mut changed = switch_json("good", "spine", 3);
    changed["spec"]["description"] = json!("changed");
    let changed: Manifest = serde_json::from_value(changed).unwrap();
    let report = east
        .publish(&with_vlans([changed]), &cause(), true)
        .await
        .unwrap();
    assert_eq!(report.updated, vec![key(Kind::Switch, "good")]);
    let report = east.publish(&with_vlans([]), &cause(), true).await.unwrap();
    assert_eq!(report.deleted, vec![key(Kind::Switch, "good")]);
    assert_eq!(
        switches(server).await.get("good").await.unwrap().data["spec"]["description"],
        "good"
    );
    cluster.shutdown().await;
}

/// Only connecting and reading is tested, and an Agent (a kind the fabric has no webhook for):
/// the plain test server suffices.
#[tokio::test]
async fn connects_through_a_kubeconfig_file_and_context() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let fabric: FabricConfig =
        serde_json::from_value(json!({"name": "east", "kubeconfig": path, "context": "kubetest"}))
            .unwrap();
    let target = ClusterTarget::connect(&fabric).await.unwrap();
    target.health_check().await.unwrap();
    let wrong: FabricConfig =
        serde_json::from_value(json!({"name": "east", "kubeconfig": path, "context": "nope"}))
            .unwrap();
    let error = ClusterTarget::connect(&wrong)
        .await
        .err()
        .expect("an unknown context fails");
    assert!(!error.is_retryable(), "{error}");

    let api = objects(&server.client().await.unwrap(), Kind::Agent);
    api.create(&PostParams::default(), &serde_json::from_value(json!({"apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent", "metadata": {"name": "leaf-01"}, "spec": {}})).unwrap()).await.unwrap();
    let actual = target.actual().await.unwrap();
    assert!(actual.iter().any(|o| o["kind"] == "Agent"), "{actual:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_command_applies_a_yaml_file_to_the_fabrics_cluster() {
    let Some(cluster) = FabricCluster::start("apply command").await else {
        return;
    };
    let server = &cluster.server;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let config = dir.path().join("sidecar.toml");
    std::fs::write(
        &config,
        format!(
            "[[fabric]]\nname = \"east\"\nkubeconfig = {:?}\ncontext = \"kubetest\"\n",
            kubeconfig.display().to_string()
        ),
    )
    .unwrap();
    let whole = dir.path().join("demo.yaml");
    std::fs::write(&whole, demo_yaml()).unwrap();
    // The same fabric without its ExternalPeering (the last document).
    let fewer = dir.path().join("fewer.yaml");
    let yaml = demo_yaml();
    let last = yaml.rfind("\n---\n").unwrap();
    std::fs::write(&fewer, &yaml[..last]).unwrap();
    let run = |file: &std::path::Path, dry_run: bool| {
        let (config, file) = (config.clone(), file.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"));
            command
                .arg("--config")
                .arg(&config)
                .args(["apply", "-o", "json", "--fabric", "east", "--from-yaml"])
                .arg(&file);
            if dry_run {
                command.arg("--dry-run");
            }
            let output = command
                .env_remove("HEDGEHOG_SIDECAR_CONFIG")
                .output()
                .expect("the binary runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            serde_json::from_slice::<Value>(&output.stdout).unwrap()
        })
    };
    let report = run(&whole, false).await.unwrap();
    assert_eq!(
        report["created"][0],
        json!({"kind": "VLANNamespace", "name": "default"})
    );
    assert_eq!(report["created"].as_array().unwrap().len(), demo().len());
    assert_eq!(resource_versions(server, Kind::VPC).await.len(), 3);

    let dry = run(&fewer, true).await.unwrap();
    assert_eq!(
        dry["deleted"],
        json!([{"kind": "ExternalPeering", "name": "demo-vpc-1--default"}])
    );
    assert_eq!(
        resource_versions(server, Kind::ExternalPeering).await.len(),
        1,
        "a dry-run deletes nothing"
    );
    cluster.shutdown().await;
}

/// The API server's status of a refused call.
fn refusal(error: kube::Error) -> Box<kube::core::Status> {
    match error {
        kube::Error::Api(status) => status,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The test server calls the fabric's own webhooks (`hh-fabric-oracle serve`): the defaulting
/// webhook's patch is applied before the object is stored, and a refusal comes back as the API
/// server words it; deletes are admitted too.
#[tokio::test]
async fn the_fabrics_webhooks_default_and_refuse_through_the_test_server() {
    let Some(cluster) = FabricCluster::start("fabric webhooks").await else {
        return;
    };
    let server = &cluster.server;
    let client = server.client().await.unwrap();
    let ipns = objects(&client, Kind::IPv4Namespace);
    let namespace: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "IPv4Namespace",
        "metadata": {"name": "default"},
        "spec": {"subnets": ["10.9.0.0/16", "10.10.0.0/16"]},
    }))
    .unwrap();
    let created = ipns
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    // The defaulting webhook sorted the subnets as strings.
    assert_eq!(
        created.data["spec"]["subnets"],
        json!(["10.10.0.0/16", "10.9.0.0/16"])
    );
    let vpcs = objects(&client, Kind::VPC);
    let vpc: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC",
        "metadata": {"name": "a-name-too-long"},
        "spec": {"subnets": {"default": {"subnet": "10.10.1.0/24", "vlan": 1001}}},
    }))
    .unwrap();
    let refused = vpcs.create(&PostParams::default(), &vpc).await.unwrap_err();
    let status = refusal(refused);
    assert!(
        status
            .message
            .starts_with("admission webhook \"vvpc.kb.io\" denied the request: "),
        "{}",
        status.message
    );
    assert!(status.message.contains("too long"), "{}", status.message);
    assert_eq!(status.code, 403);

    // DELETE is admitted too: the webhook reads the VPCs back from the server and refuses to
    // delete a namespace a VPC uses.
    let vlans = objects(&client, Kind::VLANNamespace);
    let default_vlans: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "VLANNamespace",
        "metadata": {"name": "default"}, "spec": {"ranges": [{"from": 1000, "to": 2999}]},
    }))
    .unwrap();
    vlans
        .create(&PostParams::default(), &default_vlans)
        .await
        .unwrap();
    let mut vpc = vpc;
    vpc.metadata.name = Some("vpc-1".into());
    let created = vpcs.create(&PostParams::default(), &vpc).await.unwrap();
    assert_eq!(
        created.data["spec"]["subnets"]["default"]["gateway"],
        "10.10.1.1"
    );
    let refused = ipns
        .delete("default", &Default::default())
        .await
        .unwrap_err();
    let status = refusal(refused);
    assert_eq!(
        status.message,
        "admission webhook \"vipv4namespace.kb.io\" denied the request: IPv4Namespace has VPCs"
    );
    vpcs.delete("vpc-1", &Default::default()).await.unwrap();
    ipns.delete("default", &Default::default()).await.unwrap();
}

/// The cluster target against the fabric's own webhooks: a complete fabric in the sidecar's
/// rendered form is admitted whole, and a second publish changes nothing (no defaulting
/// rewrote a field the sidecar manages).
#[tokio::test]
async fn a_rendered_fabric_is_admitted_by_the_fabrics_webhooks_and_stays_unchanged() {
    let Some(cluster) = FabricCluster::start("rendered fabric admitted").await else {
        return;
    };
    let target = target(&cluster.server, "lab", ClusterOptions::default()).await;
    let fabric = std::fs::read_to_string(testkit::paths::fixture("complete-fabric.yaml")).unwrap();
    let desired = parse_manifests(&fabric).unwrap();
    let report = target.publish(&desired, &cause(), false).await.unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.created.len(), desired.len(), "{report:?}");
    let again = target.publish(&desired, &cause(), false).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    // A leaf ASN outside the fabric's range is refused by the fabric's webhook.
    let wrong = fabric.replace("asn: 65101", "asn: 65000");
    let report = target
        .publish(&parse_manifests(&wrong).unwrap(), &cause(), false)
        .await
        .unwrap();
    let failures = format!("{:?}", report.failures);
    assert!(
        failures.contains("denied the request") && failures.contains("65000"),
        "{failures}"
    );
}
