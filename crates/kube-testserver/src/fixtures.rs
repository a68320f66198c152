//! Helpers for tests that drive a [`TestServer`] through kube-rs: the Switch resource of the
//! Hedgehog wiring CRDs, Switch objects, and the list, read and edit calls tests repeat.

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::{Value, json};

use crate::TestServer;

/// The collection path of Switches in namespace `default`, for raw HTTP requests.
pub const SWITCHES: &str = "/apis/wiring.githedgehog.com/v1beta1/namespaces/default/switches";

/// The Switch kind of the Hedgehog wiring CRDs.
pub fn switch_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", "Switch"),
        "switches",
    )
}

/// The Switches of namespace `default` on `server`.
pub async fn switches(server: &TestServer) -> Api<DynamicObject> {
    let client = server.client().await.expect("a kube client");
    Api::namespaced_with(client, "default", &switch_resource())
}

/// A valid Switch named `name` with role `role`, as JSON.
pub fn switch_json(name: &str, role: &str) -> Value {
    json!({
        "apiVersion": "wiring.githedgehog.com/v1beta1",
        "kind": "Switch",
        "metadata": {"name": name, "labels": {"rack": "r1"}},
        "spec": {"role": role, "profile": "vs", "description": name},
    })
}

/// A valid Switch named `name` with role `role`.
pub fn switch(name: &str, role: &str) -> DynamicObject {
    serde_json::from_value(switch_json(name, role)).expect("a valid DynamicObject")
}

/// An object's resourceVersion as the number the server hands out.
pub fn rv(object: &DynamicObject) -> u64 {
    object
        .metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("a numeric resourceVersion")
}

/// The names a list returns.
pub async fn names(api: &Api<DynamicObject>, params: &ListParams) -> Vec<String> {
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
    let params = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    api.patch(name, &params, &Patch::Merge(patch))
        .await
        .expect("the edit succeeds");
}
