//! Integration tests of the Kubernetes API test server, through kube-rs, raw HTTP
//! (for exact status codes and headers) and kubectl.

mod admission;
mod apply;
mod crud;
mod kubectl;
mod rbac;
mod watch;

use std::path::{Path, PathBuf};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::core::Status;
use kube_testserver::TestServer;
pub use kube_testserver::fixtures::*;
use serde_json::Value;

pub fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hedgehog/crds")
}

pub async fn start() -> TestServer {
    TestServer::start(&crds_dir())
        .await
        .expect("the test server starts")
}

/// Creates Switch `name` with `role` in the default namespace.
pub async fn create_switch(api: &Api<DynamicObject>, name: &str, role: &str) -> DynamicObject {
    api.create(&kube::api::PostParams::default(), &switch(name, role))
        .await
        .expect("the switch is created")
}

/// Merge-patches `name` and returns the patched object.
pub async fn merge_patch(api: &Api<DynamicObject>, name: &str, patch: Value) -> DynamicObject {
    api.patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(patch),
    )
    .await
    .expect("the merge patch is accepted")
}

/// The `Status` of a failed kube-rs call.
pub fn status(result: Result<impl std::fmt::Debug, kube::Error>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
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
