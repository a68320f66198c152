//! The cluster target against the test server: apply order, pruning (only labelled objects),
//! reverse-order deletes, conflicts, error reporting, dry-run, and reading back.

use hedgehog_sidecar::config::{ClusterOptions, FabricConfig};
use hedgehog_sidecar::model::parse_manifests;
use hedgehog_sidecar::model::{Kind, Manifest, ObjectKey};
use hedgehog_sidecar::targets::cluster::ClusterTarget;
use hedgehog_sidecar::targets::{Cause, Target};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube_testserver::TestServer;
use kube_testserver::fixtures::{edit_as, names, rv, switch, switch_json, switches};
use serde_json::json;
use testkit::paths::{crds_dir, shared};

fn sample() -> Vec<Manifest> {
    let path = shared("hedgehog/samples/demo-gitops_env-1_vpcs.yaml");
    parse_manifests(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn switch_manifest(name: &str, role: &str) -> Manifest {
    serde_json::from_value(switch_json(name, role)).unwrap()
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

async fn resource_versions(server: &TestServer, kind: Kind) -> Vec<(u64, Kind)> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), "v1beta1", kind.as_str()),
        kind.plural(),
    );
    let api: Api<DynamicObject> =
        Api::namespaced_with(server.client().await.unwrap(), "default", &resource);
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|o| (rv(o), kind))
        .collect()
}

#[tokio::test]
async fn objects_are_applied_in_dependency_order_and_labelled() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let target = target(&server, "east", ClusterOptions::default()).await;
    let mut desired = sample();
    desired.reverse();
    let report = target.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(
        (report.created.len(), report.failures.len()),
        (8, 0),
        "{report:?}"
    );
    let mut writes = Vec::new();
    for kind in [
        Kind::VPC,
        Kind::VPCAttachment,
        Kind::VPCPeering,
        Kind::ExternalPeering,
    ] {
        writes.extend(resource_versions(&server, kind).await);
    }
    writes.sort();
    let kinds: Vec<Kind> = writes.iter().map(|(_, k)| *k).collect();
    let mut ordered = kinds.clone();
    ordered.sort();
    assert_eq!(kinds, ordered, "written in Kind order");

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
    assert_eq!(again.unchanged, 8);
    server.shutdown().await;
}

#[tokio::test]
async fn pruning_deletes_only_this_fabrics_objects_in_reverse_order() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let east = target(&server, "east", ClusterOptions::default()).await;
    let west = target(&server, "west", ClusterOptions::default()).await;
    east.publish(&sample(), &cause(), false).await.unwrap();
    west.publish(&[switch_manifest("west-leaf", "spine")], &cause(), false)
        .await
        .unwrap();
    let api = switches(&server).await;
    api.create(&PostParams::default(), &switch("by-hand", "spine"))
        .await
        .unwrap();

    let keep: Vec<Manifest> = sample()
        .into_iter()
        .filter(|m| m.kind == "VPC" && m.metadata.name == "demo-vpc-1")
        .collect();
    let report = east.publish(&keep, &cause(), false).await.unwrap();
    assert_eq!(report.unchanged, 1);
    let deleted: Vec<String> = report.deleted.iter().map(ToString::to_string).collect();
    assert_eq!(
        deleted,
        [
            "ExternalPeering/demo-vpc-1--default",
            "VPCPeering/demo-vpc-1--demo-vpc-2",
            "VPCAttachment/demo-vpc-3--server-3--bundled--s5248-01",
            "VPCAttachment/demo-vpc-2--server-4--unbundled--s5248-02",
            "VPCAttachment/demo-vpc-1--server-1--mclag--s5248-01--s5248-02",
            "VPC/demo-vpc-3",
            "VPC/demo-vpc-2",
        ],
        "dependents first: the exact reverse of the apply order"
    );
    assert!(
        api.get("by-hand").await.is_ok(),
        "unlabelled objects are never touched"
    );
    assert!(
        api.get("west-leaf").await.is_ok(),
        "another fabric's objects are never touched"
    );

    let no_prune = target(
        &server,
        "west",
        ClusterOptions {
            prune: false,
            ..Default::default()
        },
    )
    .await;
    let report = no_prune.publish(&[], &cause(), false).await.unwrap();
    assert!(report.deleted.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn conflicts_are_reported_unless_the_fabric_forces_them() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let east = target(&server, "east", ClusterOptions::default()).await;
    let desired = [switch_manifest("leaf-01", "server-leaf")];
    east.publish(&desired, &cause(), false).await.unwrap();
    edit_as(
        &switches(&server).await,
        "kubectl-edit",
        "leaf-01",
        json!({"spec": {"role": "spine"}}),
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
    assert!(message.ends_with(": .spec.role"), "{message}");

    let forcing = target(
        &server,
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
        switches(&server).await.get("leaf-01").await.unwrap().data["spec"]["role"],
        "server-leaf"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn refused_objects_quote_the_cluster_and_the_rest_is_applied() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let east = target(&server, "east", ClusterOptions::default()).await;
    let desired = [
        switch_manifest("good", "spine"),
        switch_manifest("bad", "core"),
    ];
    let report = east.publish(&desired, &cause(), false).await.unwrap();
    assert_eq!(report.created, vec![key(Kind::Switch, "good")]);
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].message.starts_with("Switch.wiring.githedgehog.com \"bad\" is invalid: spec.role: Unsupported value: \"core\""), "{}", report.failures[0].message);
    server.shutdown().await;
}

#[tokio::test]
async fn dry_runs_report_without_changing_anything() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let east = target(&server, "east", ClusterOptions::default()).await;
    let report = east.publish(&sample(), &cause(), true).await.unwrap();
    assert_eq!(report.created.len(), 8);
    assert!(
        east.actual().await.unwrap().is_empty(),
        "a dry-run stores nothing"
    );

    // dry_run_first: one refused object means nothing is applied.
    let careful = target(
        &server,
        "east",
        ClusterOptions {
            dry_run_first: true,
            ..Default::default()
        },
    )
    .await;
    let report = careful
        .publish(
            &[
                switch_manifest("good", "spine"),
                switch_manifest("bad", "core"),
            ],
            &cause(),
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.failures.len(), 1);
    assert!(report.created.is_empty());
    assert!(east.actual().await.unwrap().is_empty());
    let report = careful
        .publish(&[switch_manifest("good", "spine")], &cause(), false)
        .await
        .unwrap();
    assert_eq!(report.created, vec![key(Kind::Switch, "good")]);

    // A dry-run of a change and of a prune.
    let report = east
        .publish(&[switch_manifest("good", "server-leaf")], &cause(), true)
        .await
        .unwrap();
    assert_eq!(report.updated, vec![key(Kind::Switch, "good")]);
    let report = east.publish(&[], &cause(), true).await.unwrap();
    assert_eq!(report.deleted, vec![key(Kind::Switch, "good")]);
    assert_eq!(
        switches(&server).await.get("good").await.unwrap().data["spec"]["role"],
        "spine"
    );
    server.shutdown().await;
}

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

    let agents = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("agent.githedgehog.com", "v1beta1", "Agent"),
        "agents",
    );
    let api: Api<DynamicObject> =
        Api::namespaced_with(server.client().await.unwrap(), "default", &agents);
    api.create(&PostParams::default(), &serde_json::from_value(json!({"apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent", "metadata": {"name": "leaf-01"}, "spec": {}})).unwrap()).await.unwrap();
    let actual = target.actual().await.unwrap();
    assert!(actual.iter().any(|o| o["kind"] == "Agent"), "{actual:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_command_applies_a_yaml_file_to_the_fabrics_cluster() {
    let server = TestServer::start(&crds_dir()).await.unwrap();
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
    let sample = shared("hedgehog/samples/demo-gitops_env-1_vpcs.yaml");
    let run = |dry_run: bool| {
        let (config, sample) = (config.clone(), sample.clone());
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"));
            command
                .arg("--config")
                .arg(&config)
                .args(["apply", "--fabric", "east", "--from-yaml"])
                .arg(&sample);
            if dry_run {
                command.arg("--dry-run");
            }
            command
                .env_remove("HEDGEHOG_SIDECAR_CONFIG")
                .output()
                .expect("the binary runs")
        })
    };
    let dry = run(true).await.unwrap();
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["created"].as_array().unwrap().len(), 8);
    assert!(
        names(&switches(&server).await, &ListParams::default())
            .await
            .is_empty()
    );

    let applied = run(false).await.unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&applied.stdout).unwrap();
    assert_eq!(
        report["created"][0],
        json!({"kind": "VPC", "name": "demo-vpc-1"})
    );
    assert_eq!(resource_versions(&server, Kind::VPC).await.len(), 3);
    server.shutdown().await;
}

/// A test server with the fabric's own webhooks (hhfab's default configuration); `None` when
/// the oracle cannot be built.
async fn with_fabric_webhooks(test: &str) -> Option<(TestServer, testkit::oracle::FabricWebhooks)> {
    use hedgehog_sidecar::model::fabric_config::fabric_config_yaml;
    let server = TestServer::start(&crds_dir()).await.unwrap();
    let config = fabric_config_yaml(&Default::default());
    let webhooks = testkit::oracle::FabricWebhooks::start(&server, &config, test).await?;
    Some((server, webhooks))
}

/// The test server calls the fabric's own webhooks (`hh-fabric-oracle serve`): the defaulting
/// webhook's patch is applied before the object is stored, and a refusal comes back as the API
/// server words it; deletes are admitted too.
#[tokio::test]
async fn the_fabrics_webhooks_default_and_refuse_through_the_test_server() {
    let Some((server, _webhooks)) = with_fabric_webhooks("fabric webhooks").await else {
        return;
    };
    let client = server.client().await.unwrap();
    let api = |kind: &str, plural: &str, group: &str| -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(group, "v1beta1", kind);
        Api::namespaced_with(
            client.clone(),
            "default",
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        )
    };
    let ipns = api("IPv4Namespace", "ipv4namespaces", "vpc.githedgehog.com");
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
    let vpcs = api("VPC", "vpcs", "vpc.githedgehog.com");
    let vpc: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC",
        "metadata": {"name": "a-name-too-long"},
        "spec": {"subnets": {"default": {"subnet": "10.10.1.0/24", "vlan": 1001}}},
    }))
    .unwrap();
    let refused = vpcs.create(&PostParams::default(), &vpc).await.unwrap_err();
    let kube::Error::Api(status) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
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
    let vlans = api("VLANNamespace", "vlannamespaces", "wiring.githedgehog.com");
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
    let kube::Error::Api(status) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
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
    let Some((server, _webhooks)) = with_fabric_webhooks("rendered fabric admitted").await else {
        return;
    };
    let target = target(&server, "lab", ClusterOptions::default()).await;
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
