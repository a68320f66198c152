//! Discovery, create/get/list/update/patch/delete, validation, dry-run, status subresource,
//! finalizers and preconditions.

use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::discovery::Discovery;
use serde_json::json;

use super::*;

#[tokio::test]
async fn discovery_finds_every_hedgehog_kind_and_namespaces() {
    let server = start().await;
    let client = server.client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "32")
    );
    let discovery = Discovery::new(client).run().await.unwrap();
    let (switch, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk(
            "wiring.githedgehog.com",
            "v1beta1",
            "Switch",
        ))
        .expect("Switch is discoverable");
    assert_eq!(switch.plural, "switches");
    assert!(caps.supports_operation("watch"));
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk(
                "vpc.githedgehog.com",
                "v1beta1",
                "VPCAttachment"
            ))
            .is_some()
    );
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
            .is_some()
    );
    let (code, body, _) = http(
        &server,
        "GET",
        "/apis/wiring.githedgehog.com/v1beta1",
        "",
        "",
    )
    .await;
    assert_eq!(code, 200);
    let names: Vec<&str> = body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"switches") && names.contains(&"switches/status"),
        "{names:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn aggregated_discovery_is_served_as_kubectl_asks_for_it() {
    let server = start().await;
    // kubectl asks for aggregated discovery first, as a 1.32 apiserver serves it.
    let aggregated = reqwest::Client::new()
        .get(format!("{}/apis", server.url()))
        .header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        aggregated.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let document: serde_json::Value = aggregated.json().await.unwrap();
    let wiring = document["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "wiring.githedgehog.com")
        .expect("the wiring group");
    let switches = wiring["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "switches")
        .unwrap();
    assert_eq!(switches["scope"], "Namespaced");
    assert_eq!(switches["subresources"][0]["subresource"], "status");
    let (code, body, _) = http(
        &server,
        "GET",
        "/apis/nothing.example.com/v1/things",
        "",
        "",
    )
    .await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
    server.shutdown().await;
}

#[tokio::test]
async fn create_get_and_the_errors_of_duplicates_and_missing_objects() {
    let server = start().await;
    let api = switches(&server).await;
    let created = create_switch(&api, "leaf-01", "server-leaf").await;
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert_eq!(meta.generation, Some(1));
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    let got = api.get("leaf-01").await.unwrap();
    assert_eq!(got.metadata.uid, meta.uid);

    let duplicate = status(
        api.create(&PostParams::default(), &switch("leaf-01", "spine"))
            .await,
    );
    assert_eq!(
        (duplicate.code, duplicate.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(
        duplicate.message,
        "switches.wiring.githedgehog.com \"leaf-01\" already exists"
    );
    let details = duplicate.details.unwrap();
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("leaf-01", "switches")
    );

    let missing = status(api.get("nope").await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        missing.message,
        "switches.wiring.githedgehog.com \"nope\" not found"
    );

    // Raw: a create answers 201, and a namespace that does not exist is NotFound.
    let body = switch_json("leaf-02", "spine").to_string();
    let (code, _, _) = http(&server, "POST", SWITCHES, "application/json", &body).await;
    assert_eq!(code, 201);
    let (code, status, _) = http(
        &server,
        "POST",
        "/apis/wiring.githedgehog.com/v1beta1/namespaces/ghost/switches",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(
        (code, status["message"].as_str()),
        (404, Some("namespaces \"ghost\" not found"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn lists_filter_by_labels_and_fields_and_carry_the_resource_version() {
    let server = start().await;
    let api = switches(&server).await;
    for (name, rack) in [("a", "r1"), ("b", "r2"), ("c", "r2")] {
        let mut object = switch_json(name, "server-leaf");
        object["metadata"]["labels"]["rack"] = json!(rack);
        api.create(
            &PostParams::default(),
            &serde_json::from_value(object).unwrap(),
        )
        .await
        .unwrap();
    }
    let all = api.list(&ListParams::default()).await.unwrap();
    let list_rv: u64 = all
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(all.items.iter().all(|o| rv(o) <= list_rv));
    assert_eq!(names(&api, &ListParams::default()).await, ["a", "b", "c"]);
    assert_eq!(
        names(&api, &ListParams::default().labels("rack=r2")).await,
        ["b", "c"]
    );
    assert_eq!(
        names(&api, &ListParams::default().labels("rack in (r1),!missing")).await,
        ["a"]
    );
    assert_eq!(
        names(&api, &ListParams::default().fields("metadata.name=b")).await,
        ["b"]
    );
    assert_eq!(
        names(&api, &ListParams::default().fields("metadata.name!=b")).await,
        ["a", "c"]
    );
    let page = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let token = page.metadata.continue_.clone().expect("a continue token");
    let rest = names(&api, &ListParams::default().limit(2).continue_token(&token)).await;
    assert_eq!(rest, ["c"]);
    let bad = status(
        api.list(&ListParams::default().fields("spec.role=spine"))
            .await,
    );
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));
    server.shutdown().await;
}

#[tokio::test]
async fn updates_need_the_current_resource_version_and_bump_generation_only_for_spec() {
    let server = start().await;
    let api = switches(&server).await;
    let created = create_switch(&api, "leaf-01", "server-leaf").await;

    let mut relabelled = created.clone();
    relabelled
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("x".into(), "y".into());
    let relabelled = api
        .replace("leaf-01", &PostParams::default(), &relabelled)
        .await
        .unwrap();
    assert_eq!(
        relabelled.metadata.generation,
        Some(1),
        "metadata changes keep the generation"
    );
    assert!(rv(&relabelled) > rv(&created));

    // The same write again is a no-op: no new resourceVersion.
    let again = api
        .replace("leaf-01", &PostParams::default(), &relabelled)
        .await
        .unwrap();
    assert_eq!(rv(&again), rv(&relabelled));

    let mut stale = created.clone();
    stale.data["spec"]["role"] = json!("spine");
    let conflict = status(api.replace("leaf-01", &PostParams::default(), &stale).await);
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(conflict.message.ends_with("the object has been modified; please apply your changes to the latest version and try again"), "{}", conflict.message);

    let mut fresh = again.clone();
    fresh.data["spec"]["role"] = json!("spine");
    let updated = api
        .replace("leaf-01", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_eq!(updated.metadata.generation, Some(2));
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    // PUT never creates custom resources.
    let missing = status(
        api.replace("ghost", &PostParams::default(), &switch("ghost", "spine"))
            .await,
    );
    assert_eq!(missing.reason, "NotFound");
    server.shutdown().await;
}

#[tokio::test]
async fn merge_and_json_patches_apply_and_strategic_merge_is_unsupported() {
    let server = start().await;
    let api = switches(&server).await;
    create_switch(&api, "leaf-01", "server-leaf").await;
    let merged = api
        .patch(
            "leaf-01",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"description": null, "role": "spine"}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data["spec"]["role"], "spine");
    assert!(
        merged.data["spec"].get("description").is_none(),
        "null removes a field"
    );
    let path = format!("{SWITCHES}/leaf-01");
    let ops = r#"[{"op": "test", "path": "/spec/role", "value": "spine"}, {"op": "add", "path": "/spec/groups", "value": ["g1"]}]"#;
    let (code, patched, _) =
        http(&server, "PATCH", &path, "application/json-patch+json", ops).await;
    assert_eq!(code, 200);
    assert_eq!(patched["spec"]["groups"], json!(["g1"]));
    let failing = r#"[{"op": "test", "path": "/spec/role", "value": "x"}]"#;
    let (code, invalid, _) = http(
        &server,
        "PATCH",
        &path,
        "application/json-patch+json",
        failing,
    )
    .await;
    assert_eq!((code, invalid["reason"].as_str()), (422, Some("Invalid")));

    let (code, status, _) = http(
        &server,
        "PATCH",
        &format!("{SWITCHES}/leaf-01"),
        "application/strategic-merge-patch+json",
        "{}",
    )
    .await;
    assert_eq!(
        (code, status["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    let (code, status, _) = http(&server, "PUT", SWITCHES, "application/json", "{}").await;
    assert_eq!(
        (code, status["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn schema_violations_are_invalid_with_field_paths_and_unknown_fields_follow_field_validation()
{
    let server = start().await;
    let api = switches(&server).await;
    let mut bad = switch_json("Leaf_01", "core");
    bad["spec"]["boot"] = json!({"serial": 5});
    let invalid = status(
        api.create(
            &PostParams::default(),
            &serde_json::from_value(bad).unwrap(),
        )
        .await,
    );
    assert_eq!((invalid.code, invalid.reason.as_str()), (422, "Invalid"));
    assert!(
        invalid
            .message
            .starts_with("Switch.wiring.githedgehog.com \"Leaf_01\" is invalid: ["),
        "{}",
        invalid.message
    );
    let causes = invalid.details.unwrap().causes;
    let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    assert!(
        fields.contains(&"metadata.name")
            && fields.contains(&"spec.role")
            && fields.contains(&"spec.boot.serial"),
        "{causes:?}"
    );
    let role = causes.iter().find(|c| c.field == "spec.role").unwrap();
    assert_eq!(role.reason, "FieldValueNotSupported");
    assert!(
        role.message
            .starts_with("Unsupported value: \"core\": supported values: \"spine\""),
        "{}",
        role.message
    );

    let mut unknown = switch_json("leaf-01", "spine");
    unknown["spec"]["bogus"] = json!(true);
    let body = unknown.to_string();
    let (code, status, _) = http(
        &server,
        "POST",
        &format!("{SWITCHES}?fieldValidation=Strict"),
        "application/json",
        &body,
    )
    .await;
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        status["message"],
        "strict decoding error: unknown field \"spec.bogus\""
    );
    // Without fieldValidation the field is pruned with a warning.
    let (code, created, headers) = http(&server, "POST", SWITCHES, "application/json", &body).await;
    assert_eq!(code, 201);
    assert!(created["spec"].get("bogus").is_none());
    assert_eq!(
        headers["warning"],
        "299 - \"unknown field \\\"spec.bogus\\\"\""
    );
    server.shutdown().await;
}

#[tokio::test]
async fn dry_run_validates_and_answers_but_stores_nothing() {
    let server = start().await;
    let api = switches(&server).await;
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let answered = api.create(&dry, &switch("leaf-01", "spine")).await.unwrap();
    assert_eq!(answered.metadata.name.as_deref(), Some("leaf-01"));
    assert_eq!(status(api.get("leaf-01").await).reason, "NotFound");
    let invalid = status(api.create(&dry, &switch("leaf-01", "core")).await);
    assert_eq!(invalid.reason, "Invalid");
    let applied = api
        .patch(
            "leaf-02",
            &PatchParams::apply("t").dry_run(),
            &Patch::Apply(switch_json("leaf-02", "spine")),
        )
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["role"], "spine");
    assert_eq!(status(api.get("leaf-02").await).reason, "NotFound");
    let (code, status, _) = http(
        &server,
        "POST",
        &format!("{SWITCHES}?dryRun=Some"),
        "application/json",
        &switch_json("x", "spine").to_string(),
    )
    .await;
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")));
    server.shutdown().await;
}

#[tokio::test]
async fn the_status_subresource_separates_spec_and_status_writes() {
    let server = start().await;
    let client = server.client().await.unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("agent.githedgehog.com", "v1beta1", "Agent"),
        "agents",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
    let agent = json!({
        "apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent",
        "metadata": {"name": "leaf-01"},
        "spec": {"role": "server-leaf", "description": "d"},
        "status": {"lastAppliedGen": 3},
    });
    let created = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(agent).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        created.data.get("status").is_none(),
        "status is dropped on create"
    );

    let mut status_write = created.clone();
    status_write.data["status"] = json!({"lastAppliedGen": 7, "conditions": []});
    status_write.data["spec"]["description"] = json!("changed");
    let after = api
        .replace_status("leaf-01", &PostParams::default(), &status_write)
        .await
        .unwrap();
    assert_eq!(after.data["status"]["lastAppliedGen"], 7);
    assert_eq!(
        after.data["spec"]["description"], "d",
        "spec is ignored on /status"
    );
    assert_eq!(
        after.metadata.generation,
        Some(1),
        "a status write keeps the generation"
    );

    let main = api
        .patch(
            "leaf-01",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"lastAppliedGen": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(
        main.data["status"]["lastAppliedGen"], 7,
        "status is ignored on the main resource"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn deletes_honour_preconditions_and_finalizers() {
    let server = start().await;
    let api = switches(&server).await;
    let mut object = switch_json("leaf-01", "spine");
    object["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let created = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(object).unwrap(),
        )
        .await
        .unwrap();

    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("other".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let conflict = status(api.delete("leaf-01", &wrong_uid).await);
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(
        conflict
            .message
            .contains("Precondition failed: UID in precondition: other"),
        "{}",
        conflict.message
    );

    let (code, marked, _) = http(
        &server,
        "DELETE",
        &format!("{SWITCHES}/leaf-01"),
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 202, "an object held by finalizers is only marked");
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    let held = api.get("leaf-01").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());

    let adding = status(
        api.patch(
            "leaf-01",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["example.com/hold", "new"]}})),
        )
        .await,
    );
    assert_eq!((adding.code, adding.reason.as_str()), (422, "Invalid"));

    merge_patch(&api, "leaf-01", json!({"metadata": {"finalizers": null}})).await;
    assert_eq!(
        status(api.get("leaf-01").await).reason,
        "NotFound",
        "gone with its last finalizer"
    );
    let _ = created;
    server.shutdown().await;
}

#[tokio::test]
async fn a_delete_answers_the_deleted_object_and_a_second_one_is_not_found() {
    let server = start().await;
    let api = switches(&server).await;
    create_switch(&api, "leaf-02", "spine").await;
    let (code, deleted, _) = http(
        &server,
        "DELETE",
        &format!("{SWITCHES}/leaf-02"),
        "application/json",
        "",
    )
    .await;
    assert_eq!(
        (code, deleted["metadata"]["name"].as_str()),
        (200, Some("leaf-02"))
    );
    assert_eq!(
        status(api.delete("leaf-02", &DeleteParams::default()).await).reason,
        "NotFound"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn namespaces_hold_objects_and_default_cannot_be_deleted() {
    let server = start().await;
    let client = server.client().await.unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let created = namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "lab"}})).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    let lab: Api<DynamicObject> = Api::namespaced_with(client, "lab", &switch_resource());
    create_switch(&lab, "leaf-01", "spine").await;
    assert_eq!(
        names(&switches(&server).await, &ListParams::default()).await,
        Vec::<String>::new(),
        "lists are per namespace"
    );
    let forbidden = status(namespaces.delete("default", &DeleteParams::default()).await);
    assert_eq!(
        (forbidden.code, forbidden.reason.as_str()),
        (403, "Forbidden")
    );
    namespaces
        .delete("lab", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status(lab.get("leaf-01").await).reason, "NotFound");
    server.shutdown().await;
}

/// Real wiring files leave `spec` out on a Server: the API server stores it without one, as
/// its schema does not require it, and with hhfab's annotations kept.
#[tokio::test]
async fn a_server_without_spec_and_with_hhfab_annotations_is_created() {
    let server = start().await;
    let body = json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Server",
        "metadata": {"name": "server-01", "annotations": {"link.hhfab.githedgehog.com/enp2s1": "pci@0000:0d:00.0"}},
    });
    let path = "/apis/wiring.githedgehog.com/v1beta1/namespaces/default/servers";
    let (code, created, _) =
        http(&server, "POST", path, "application/json", &body.to_string()).await;
    assert_eq!(code, 201, "{created}");
    let (code, read, _) = http(&server, "GET", &format!("{path}/server-01"), "", "").await;
    assert_eq!(code, 200);
    assert_eq!(
        read["metadata"]["annotations"]["link.hhfab.githedgehog.com/enp2s1"],
        "pci@0000:0d:00.0"
    );
    assert_eq!(read.get("spec"), None, "{read}");
}

/// A fabric keeps its configuration in a ConfigMap and registers its admission webhooks with
/// webhook configurations: all three are served for create, list, get and delete.
#[tokio::test]
async fn configmaps_and_webhook_configurations_are_served() {
    use k8s_openapi::api::admissionregistration::v1::{
        MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    use k8s_openapi::api::core::v1::ConfigMap;
    let server = start().await;
    let client = server.client().await.unwrap();
    let config_maps: kube::Api<ConfigMap> = kube::Api::namespaced(client.clone(), "default");
    let config: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "fabric-ctrl-config"},
        "data": {"config.yaml": "fabricMode: spine-leaf\n"},
    }))
    .unwrap();
    config_maps
        .create(&PostParams::default(), &config)
        .await
        .unwrap();
    let read = config_maps.get("fabric-ctrl-config").await.unwrap();
    assert_eq!(
        read.data.unwrap()["config.yaml"],
        "fabricMode: spine-leaf\n"
    );
    let webhook = json!({
        "metadata": {"name": "fabric"},
        "webhooks": [{
            "name": "vvpc.kb.io", "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"url": "http://127.0.0.1:9443/validate-vpc-githedgehog-com-v1beta1-vpc"},
            "rules": [{"apiGroups": ["vpc.githedgehog.com"], "apiVersions": ["v1beta1"],
                       "operations": ["CREATE", "UPDATE"], "resources": ["vpcs"]}],
        }],
    });
    let mutating: kube::Api<MutatingWebhookConfiguration> = kube::Api::all(client.clone());
    let validating: kube::Api<ValidatingWebhookConfiguration> = kube::Api::all(client);
    mutating
        .create(
            &PostParams::default(),
            &serde_json::from_value(webhook.clone()).unwrap(),
        )
        .await
        .unwrap();
    validating
        .create(
            &PostParams::default(),
            &serde_json::from_value(webhook).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        mutating
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let listed = validating.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        listed.items[0].webhooks.as_ref().unwrap()[0].name,
        "vvpc.kb.io"
    );
    mutating
        .delete("fabric", &DeleteParams::default())
        .await
        .unwrap();
    validating
        .delete("fabric", &DeleteParams::default())
        .await
        .unwrap();
    config_maps
        .delete("fabric-ctrl-config", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        validating
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
