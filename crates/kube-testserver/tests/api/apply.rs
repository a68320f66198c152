//! Server-side apply: creation, managedFields, conflicts, force, removal of fields a manager
//! stops applying.

use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use super::*;

fn managed(object: &DynamicObject) -> Vec<(String, String, serde_json::Value)> {
    object
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|e| {
            (
                e.manager.clone().unwrap(),
                e.operation.clone().unwrap(),
                e.fields_v1.clone().map(|f| f.0).unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn apply_creates_then_is_idempotent_and_records_fields_v1() {
    let server = start().await;
    let api = switches(&server).await;
    let params = PatchParams::apply("hedgehog-sidecar");
    let config = switch_json("leaf-01", "server-leaf");
    let created = api
        .patch("leaf-01", &params, &Patch::Apply(&config))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        managed(&created),
        vec![(
            "hedgehog-sidecar".to_string(),
            "Apply".to_string(),
            json!({"f:metadata": {"f:labels": {"f:rack": {}}},
                   "f:spec": {"f:description": {}, "f:profile": {}, "f:role": {}}})
        )]
    );
    let again = api
        .patch("leaf-01", &params, &Patch::Apply(&config))
        .await
        .unwrap();
    assert_eq!(
        rv(&again),
        rv(&created),
        "re-applying the same configuration writes nothing"
    );

    let (code, _, _) = http(&server, "PATCH", &format!("{SWITCHES}/leaf-02?fieldManager=m"), "application/apply-patch+yaml",
        "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: leaf-02\nspec:\n  role: spine\n").await;
    assert_eq!(code, 201, "an apply that creates answers 201");
    let (code, status, _) = http(
        &server,
        "PATCH",
        &format!("{SWITCHES}/leaf-02"),
        "application/apply-patch+yaml",
        "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: leaf-02\n",
    )
    .await;
    assert_eq!(
        (code, status["reason"].as_str()),
        (400, Some("BadRequest")),
        "fieldManager is required"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn conflicting_managers_get_409_with_causes_unless_forced() {
    let server = start().await;
    let api = switches(&server).await;
    api.patch(
        "leaf-01",
        &PatchParams::apply("hedgehog-sidecar"),
        &Patch::Apply(switch_json("leaf-01", "server-leaf")),
    )
    .await
    .unwrap();
    // Another writer changes a field the sidecar owns (an Update takes ownership).
    edit_as(
        &api,
        "kubectl-edit",
        "leaf-01",
        json!({"spec": {"role": "spine"}}),
    )
    .await;
    let conflict = status(
        api.patch(
            "leaf-01",
            &PatchParams::apply("hedgehog-sidecar"),
            &Patch::Apply(switch_json("leaf-01", "server-leaf")),
        )
        .await,
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    // An Update manager is printed with its apiVersion and time, as the apiserver does.
    let prefix = "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using wiring.githedgehog.com/v1beta1 at ";
    assert!(
        conflict.message.starts_with(prefix) && conflict.message.ends_with("Z: .spec.role"),
        "{}",
        conflict.message
    );
    let cause = &conflict.details.unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldManagerConflict", ".spec.role")
    );

    let forced = api
        .patch(
            "leaf-01",
            &PatchParams::apply("hedgehog-sidecar").force(),
            &Patch::Apply(switch_json("leaf-01", "server-leaf")),
        )
        .await
        .unwrap();
    assert_eq!(forced.data["spec"]["role"], "server-leaf");
    assert!(
        managed(&forced).iter().all(|(m, _, _)| m != "kubectl-edit"),
        "the forced field left its old owner, who owns nothing else: {:?}",
        managed(&forced)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them() {
    let server = start().await;
    let api = switches(&server).await;
    let params = PatchParams::apply("hedgehog-sidecar");
    let mut config = switch_json("leaf-01", "server-leaf");
    config["spec"]["groups"] = json!(["g1"]);
    api.patch("leaf-01", &params, &Patch::Apply(&config))
        .await
        .unwrap();
    // A second applier shares `description` (same value: no conflict).
    let shared = json!({"apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
        "metadata": {"name": "leaf-01"}, "spec": {"description": "leaf-01"}});
    api.patch(
        "leaf-01",
        &PatchParams::apply("other"),
        &Patch::Apply(&shared),
    )
    .await
    .unwrap();

    let mut smaller = switch_json("leaf-01", "server-leaf");
    let spec = smaller["spec"].as_object_mut().unwrap();
    spec.remove("description");
    let after = api
        .patch("leaf-01", &params, &Patch::Apply(&smaller))
        .await
        .unwrap();
    assert!(
        after.data["spec"].get("groups").is_none(),
        "groups was only ours: removed"
    );
    assert_eq!(
        after.data["spec"]["description"], "leaf-01",
        "description is still owned by other"
    );
    assert_eq!(after.metadata.generation, Some(2));
    server.shutdown().await;
}

#[tokio::test]
async fn updates_record_update_managers_with_dot_entries() {
    let server = start().await;
    let api = switches(&server).await;
    let created = api
        .create(
            &PostParams {
                field_manager: Some("creator".into()),
                ..Default::default()
            },
            &switch("leaf-01", "spine"),
        )
        .await
        .unwrap();
    assert_eq!(
        managed(&created),
        vec![(
            "creator".to_string(),
            "Update".to_string(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:rack": {}}},
                   "f:spec": {".": {}, "f:description": {}, "f:profile": {}, "f:role": {}}})
        )]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn applying_undeclared_fields_fails_like_the_apiserver_with_a_500() {
    let server = start().await;
    let api = switches(&server).await;
    let mut config = switch_json("leaf-01", "spine");
    config["spec"]["bogus"] = json!(1);
    let failed = status(
        api.patch("leaf-01", &PatchParams::apply("m"), &Patch::Apply(&config))
            .await,
    );
    assert_eq!(failed.code, 500);
    assert_eq!(failed.reason, "", "a plain error carries no reason");
    assert_eq!(
        failed.message,
        "failed to create typed patch object (default/leaf-01; wiring.githedgehog.com/v1beta1, Kind=Switch): .spec.bogus: field not declared in schema"
    );
    server.shutdown().await;
}
