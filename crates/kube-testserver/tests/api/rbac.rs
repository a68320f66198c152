//! Opt-in authentication and RBAC: ServiceAccount tokens, Roles and ClusterRoles through their
//! bindings, the API server's 401 and 403 `Status`es, and `create` checked on an apply that
//! creates.

use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::*;

const SA_USER: &str = "system:serviceaccount:team:robot";

/// A server with RBAC on, the ServiceAccount `team/robot` and `objects` created by the
/// administrator; the robot's Switches API in `default`.
async fn with_robot(objects: &[Value]) -> (TestServer, Api<DynamicObject>) {
    let server = start().await;
    server.enable_rbac();
    let admin = server.client().await.unwrap();
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "robot", "namespace": "team"}});
    for object in [&namespace, &account].into_iter().chain(objects) {
        create_as(&admin, object).await;
    }
    let token = server.service_account_token("team", "robot");
    let robot = server.client_with_token(&token).await.unwrap();
    (
        server,
        Api::namespaced_with(robot, "default", &switch_resource()),
    )
}

async fn create_as(client: &kube::Client, object: &Value) {
    let object: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    let types = object.types.clone().unwrap();
    let (group, version) = types
        .api_version
        .split_once('/')
        .unwrap_or(("", &types.api_version));
    let plural = format!("{}s", types.kind.to_ascii_lowercase());
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, &types.kind),
        &plural,
    );
    let api: Api<DynamicObject> = match object.metadata.namespace.as_deref() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    api.create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("{} created: {e}", types.kind));
}

fn role(namespace: &str, verbs: &[&str]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "switches", "namespace": namespace},
        "rules": [{"apiGroups": ["wiring.githedgehog.com"], "resources": ["switches"], "verbs": verbs}]})
}

fn binding(kind: &str, namespace: Option<&str>, role_kind: &str) -> Value {
    let mut metadata = json!({"name": "robot"});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": "switches"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "team"}]})
}

#[tokio::test]
async fn a_role_grants_its_verbs_in_its_namespace_only() {
    let (server, robot) = with_robot(&[
        role("default", &["list", "patch"]),
        binding("RoleBinding", Some("default"), "Role"),
    ])
    .await;
    create_switch(&switches(&server).await, "leaf-1", "server-leaf").await;
    assert_eq!(names(&robot, &ListParams::default()).await, ["leaf-1"]);
    let patch = Patch::Merge(json!({"spec": {"description": "edited"}}));
    robot
        .patch("leaf-1", &PatchParams::default(), &patch)
        .await
        .expect("patch is granted");

    let refused = status(robot.get("leaf-1").await);
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        refused.message,
        format!(
            "switches.wiring.githedgehog.com \"leaf-1\" is forbidden: User \"{SA_USER}\" cannot \
             get resource \"switches\" in API group \"wiring.githedgehog.com\" in the namespace \
             \"default\""
        )
    );
    let all = Api::<DynamicObject>::all_with(robot.clone().into_client(), &switch_resource());
    let refused = status(all.list(&ListParams::default()).await);
    assert!(
        refused.message.ends_with("cannot list resource \"switches\" in API group \"wiring.githedgehog.com\" at the cluster scope"),
        "{}",
        refused.message
    );
    let elsewhere = Api::<DynamicObject>::namespaced_with(
        robot.clone().into_client(),
        "kube-system",
        &switch_resource(),
    );
    let refused = status(elsewhere.list(&ListParams::default()).await);
    assert_eq!(
        refused.message,
        format!(
            "switches.wiring.githedgehog.com is forbidden: User \"{SA_USER}\" cannot list \
             resource \"switches\" in API group \"wiring.githedgehog.com\" in the namespace \
             \"kube-system\""
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_apply_that_creates_needs_create_as_well_as_patch() {
    let (server, robot) = with_robot(&[
        role("default", &["patch"]),
        binding("RoleBinding", Some("default"), "Role"),
    ])
    .await;
    let apply = PatchParams::apply("robot");
    let object = Patch::Apply(switch_json("leaf-2", "server-leaf"));
    let refused = status(robot.patch("leaf-2", &apply, &object).await);
    assert!(
        refused
            .message
            .contains("cannot create resource \"switches\""),
        "{}",
        refused.message
    );
    create_switch(&switches(&server).await, "leaf-2", "server-leaf").await;
    robot
        .patch("leaf-2", &apply, &object)
        .await
        .expect("an apply to an existing object needs patch only");
    server.shutdown().await;
}

#[tokio::test]
async fn cluster_roles_bind_cluster_wide_or_per_namespace_and_names_restrict() {
    let mut cluster_role = role("", &["get", "delete"]);
    cluster_role["kind"] = json!("ClusterRole");
    cluster_role["metadata"] = json!({"name": "switches"});
    cluster_role["rules"][0]["resourceNames"] = json!(["leaf-3"]);
    let (server, robot) = with_robot(&[
        cluster_role,
        binding("RoleBinding", Some("default"), "ClusterRole"),
    ])
    .await;
    let admin = switches(&server).await;
    create_switch(&admin, "leaf-3", "server-leaf").await;
    create_switch(&admin, "leaf-4", "server-leaf").await;
    robot.get("leaf-3").await.expect("a named switch");
    assert_eq!(status(robot.get("leaf-4").await).code, 403, "another name");
    robot
        .delete("leaf-3", &DeleteParams::default())
        .await
        .expect("delete is granted for leaf-3");
    server.shutdown().await;
}

#[tokio::test]
async fn tokens_are_checked_and_anonymous_requests_refused() {
    let (server, _robot) = with_robot(&[]).await;
    let (code, body, _) = http(&server, "GET", SWITCHES, "application/json", "").await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("User \"system:anonymous\" cannot list"),
        "{body}"
    );
    let (code, _, _) = http(&server, "GET", "/version", "application/json", "").await;
    assert_eq!(code, 200, "/version is public");
    let (code, body, _) = http(&server, "GET", "/apis", "application/json", "").await;
    assert_eq!(code, 403, "discovery needs a user: {body}");

    let bogus = server.client_with_token("not-a-token").await.unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(bogus, "default", &switch_resource());
    let refused = status(api.list(&ListParams::default()).await);
    assert_eq!(
        (refused.code, refused.reason.as_str()),
        (401, "Unauthorized")
    );

    // A deleted ServiceAccount's token stops working.
    let token = server.service_account_token("team", "robot");
    let accounts: Api<DynamicObject> = Api::namespaced_with(
        server.client().await.unwrap(),
        "team",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "ServiceAccount"),
            "serviceaccounts",
        ),
    );
    accounts
        .delete("robot", &DeleteParams::default())
        .await
        .unwrap();
    let gone = server.client_with_token(&token).await.unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(gone, "default", &switch_resource());
    assert_eq!(status(api.list(&ListParams::default()).await).code, 401);
    server.shutdown().await;
}
