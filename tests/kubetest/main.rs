//! Integration tests of the Kubernetes API test server (issue #5), through kube-rs, raw HTTP
//! (for exact status codes and headers) and kubectl.

mod apply;
mod cluster_target;
mod crud;
mod kubectl;
mod watch;

use std::path::{Path, PathBuf};

use hedgehog_sidecar::kubetest::TestServer;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::core::Status;
use serde_json::{Value, json};

pub fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hedgehog/crds")
}

pub async fn start() -> TestServer {
    TestServer::start(&crds_dir())
        .await
        .expect("the test server starts")
}

pub fn switch_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", "Switch"),
        "switches",
    )
}

pub async fn switches(server: &TestServer) -> Api<DynamicObject> {
    let client = server.client().await.expect("a kube client");
    Api::namespaced_with(client, "default", &switch_resource())
}

pub fn switch_json(name: &str, role: &str) -> Value {
    json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1",
        "kind": "Switch",
        "metadata": {"name": name, "labels": {"rack": "r1"}},
        "spec": {"role": role, "profile": "vs", "description": name},
    })
}

pub fn switch(name: &str, role: &str) -> DynamicObject {
    serde_json::from_value(switch_json(name, role)).expect("a valid DynamicObject")
}

/// The `Status` of a failed kube-rs call.
pub fn status(result: Result<impl std::fmt::Debug, kube::Error>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn rv(object: &DynamicObject) -> u64 {
    object
        .metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("a numeric resourceVersion")
}

/// Raw HTTP to the server, for exact status codes, headers and bodies.
pub async fn http(
    server: &TestServer,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
            format!("{}{path}", server.url()),
        )
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

/// The names a list returns.
pub async fn names(api: &Api<DynamicObject>, params: &kube::api::ListParams) -> Vec<String> {
    api.list(params)
        .await
        .expect("the list succeeds")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect()
}

/// A merge patch by a named (Update) field manager, like `kubectl edit` would make.
pub async fn edit_as(api: &Api<DynamicObject>, manager: &str, name: &str, patch: Value) {
    let params = kube::api::PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    api.patch(name, &params, &kube::api::Patch::Merge(patch))
        .await
        .expect("the edit succeeds");
}

pub const SWITCHES: &str = "/apis/wiring.githedgehog.com/v1beta1/namespaces/default/switches";
