//! The kustomize base's ServiceAccount and Roles are what apply mode needs, and no more: the
//! sidecar's cluster target, authenticated as that ServiceAccount against the test server with
//! RBAC on, reads the fabric's configuration and switch profiles, applies, heals drift and
//! prunes; a verb the Role does not grant is refused with the API server's `Forbidden`, and
//! without `delete` pruning fails.

use hedgehog_sidecar::config::{Environment, FabricConfig, FabricSettings, load_from};
use hedgehog_sidecar::fabric_env::FabricEnvSource;
use hedgehog_sidecar::model::{Kind, Manifest, ObjectKey};
use hedgehog_sidecar::targets::cluster::ClusterTarget;
use hedgehog_sidecar::targets::{Cause, Target};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::api::{Patch, PatchParams, PostParams};
use kube_testserver::TestServer;
use kube_testserver::fixtures::{edit_as, switch_resource};
use serde_json::{Value, json};

use crate::kubernetes::render;

const ACCOUNT: (&str, &str) = ("hedgehog-sidecar", "hedgehog-sidecar");
const USER: &str = "system:serviceaccount:hedgehog-sidecar:hedgehog-sidecar";

fn api_for(client: &kube::Client, object: &Value) -> Api<DynamicObject> {
    let api_version = object["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind),
        &format!("{}s", kind.to_ascii_lowercase()),
    );
    match object["metadata"]["namespace"].as_str() {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// Creates the rendered ServiceAccount, Roles and RoleBindings (and the sidecar's Namespace)
/// as the cluster's administrator.
async fn create_access(admin: &kube::Client, rendered: &[Value]) {
    for object in rendered.iter().filter(|o| {
        let kind = o["kind"].as_str().unwrap_or_default();
        ["ServiceAccount", "Role", "RoleBinding"].contains(&kind)
            || (kind == "Namespace" && o["metadata"]["name"] == ACCOUNT.0)
    }) {
        let typed: DynamicObject = serde_json::from_value(object.clone()).unwrap();
        api_for(admin, object)
            .create(&PostParams::default(), &typed)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", object["metadata"]["name"]));
    }
}

/// The overlay's `[[fabric]]`, reaching the cluster with the ServiceAccount's kubeconfig.
fn fabric(rendered: &[Value], kubeconfig: &std::path::Path, dir: &std::path::Path) -> FabricConfig {
    let config = rendered
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["data"]["sidecar.toml"].is_string())
        .expect("the configuration");
    let text = config["data"]["sidecar.toml"].as_str().unwrap();
    assert!(
        text.trim_end().ends_with("self_heal = true"),
        "[[fabric]] is the last table"
    );
    let file = dir.join("sidecar.toml");
    std::fs::write(&file, format!("{text}kubeconfig = {:?}\n", kubeconfig)).unwrap();
    let settings = load_from(Some(&file), &Environment::default()).expect("the configuration");
    settings.fabrics.into_iter().next().expect("a fabric")
}

fn switch(name: &str, n: u8) -> Manifest {
    serde_json::from_value(json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
        "metadata": {"name": name},
        "spec": {"role": "server-leaf", "profile": "vs", "description": name,
            "asn": 65100 + u32::from(n), "ip": format!("172.30.0.{}/21", 100 + n),
            "protocolIP": format!("172.30.8.{}/32", 100 + n),
            "vtepIP": format!("172.30.12.{}/32", 100 + n)},
    }))
    .unwrap()
}

fn key(name: &str) -> ObjectKey {
    ObjectKey {
        kind: Kind::Switch,
        name: name.into(),
    }
}

fn cause() -> Cause {
    Cause {
        reason: "rbac test".into(),
        ..Default::default()
    }
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn apply_mode_works_with_the_bases_role_and_nothing_more() {
    let Some(rendered) = render("apply") else {
        return;
    };
    let server = TestServer::start(&testkit::paths::crds_dir())
        .await
        .unwrap();
    testkit::fabric_env::seed_fabric(&server, &FabricSettings::default()).await;
    server.enable_rbac();
    let admin = server.client().await.unwrap();
    create_access(&admin, &rendered).await;
    let dir = tempfile::tempdir().unwrap();
    let token = server.service_account_token(ACCOUNT.0, ACCOUNT.1);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml_with_token(&token)).unwrap();
    let fabric = fabric(&rendered, &kubeconfig, dir.path());

    let source = FabricEnvSource::connect(&fabric).await.unwrap();
    let resolved = source
        .resolve(&fabric)
        .await
        .expect("config and profiles are readable");
    assert!(resolved.mapping.profiles.get("vs").is_some());
    let target = ClusterTarget::connect(&fabric).await.unwrap();
    target.health_check().await.expect("GET /version");

    let both = [switch("leaf-1", 1), switch("leaf-2", 2)];
    let report = target.publish(&both, &cause(), false).await.unwrap();
    assert_eq!(report.created, [key("leaf-1"), key("leaf-2")], "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
    let change = target.publish_change(&both, &cause()).await.unwrap();
    assert_eq!(change.unchanged, 2, "{change:?}");
    assert!(
        server
            .wait_for_watchers(Kind::RENDERED.len(), std::time::Duration::from_secs(10))
            .await,
        "the Role lets a webhook job's publish watch every rendered kind"
    );

    // Drift: an administrator edits one switch and deletes the other; the sidecar reads
    // both changes back and re-creates the missing one.
    let admin_switches = Api::namespaced_with(admin.clone(), "default", &switch_resource());
    edit_as(
        &admin_switches,
        "kubectl-edit",
        "leaf-1",
        json!({"spec": {"description": "x"}}),
    )
    .await;
    admin_switches
        .delete("leaf-2", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    let actual = target.actual().await.expect("every kind can be listed");
    let descriptions: Vec<&Value> = actual.iter().map(|o| &o["spec"]["description"]).collect();
    assert_eq!(descriptions, [&json!("x")], "{actual:?}");
    let healed = target.publish(&both, &cause(), false).await.unwrap();
    assert_eq!(healed.created, [key("leaf-2")], "{healed:?}");

    let pruned = target.publish(&both[..1], &cause(), false).await.unwrap();
    assert_eq!(pruned.deleted, [key("leaf-2")], "{pruned:?}");

    refused_outside_the_role(&server, &token).await;
    pruning_needs_delete(&admin, &target).await;
    server.shutdown().await;
}

/// What the Role does not grant: reading one Switch, Switches in another namespace, other
/// ConfigMaps of `fab`.
async fn refused_outside_the_role(server: &TestServer, token: &str) {
    let sidecar = server.client_with_token(token).await.unwrap();
    let switches: Api<DynamicObject> =
        Api::namespaced_with(sidecar.clone(), "default", &switch_resource());
    let forbidden = |result: Result<_, kube::Error>| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => status.message,
        other => panic!("expected 403 Forbidden, got {other:?}"),
    };
    assert_eq!(
        forbidden(switches.get("leaf-1").await.map(|_| ())),
        format!(
            "switches.wiring.githedgehog.com \"leaf-1\" is forbidden: User \"{USER}\" cannot get \
             resource \"switches\" in API group \"wiring.githedgehog.com\" in the namespace \
             \"default\""
        )
    );
    let elsewhere: Api<DynamicObject> =
        Api::namespaced_with(sidecar.clone(), "kube-system", &switch_resource());
    forbidden(elsewhere.list(&ListParams::default()).await.map(|_| ()));
    let maps: Api<DynamicObject> = Api::namespaced_with(
        sidecar,
        "fab",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "ConfigMap"),
            "configmaps",
        ),
    );
    let message = forbidden(maps.list(&ListParams::default()).await.map(|_| ()));
    assert!(
        message.contains("cannot list resource \"configmaps\""),
        "{message}"
    );
}

/// Without `delete` in the Role, the prune the sidecar attempts is refused and reported.
async fn pruning_needs_delete(admin: &kube::Client, target: &ClusterTarget) {
    let roles: Api<DynamicObject> = Api::namespaced_with(
        admin.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", "Role"),
            "roles",
        ),
    );
    let role = roles.get(ACCOUNT.1).await.unwrap();
    let mut rules = role.data["rules"].clone();
    for rule in rules.as_array_mut().unwrap() {
        rule["verbs"] = json!(["list", "create", "patch"]);
    }
    roles
        .patch(
            ACCOUNT.1,
            &PatchParams::default(),
            &Patch::Merge(json!({"rules": rules})),
        )
        .await
        .unwrap();
    let report = target.publish(&[], &cause(), false).await.unwrap();
    assert!(report.deleted.is_empty(), "{report:?}");
    let messages: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [format!(
            "switches.wiring.githedgehog.com \"leaf-1\" is forbidden: User \"{USER}\" cannot \
             delete resource \"switches\" in API group \"wiring.githedgehog.com\" in the \
             namespace \"default\""
        )],
        "the refused prune is reported"
    );
}
