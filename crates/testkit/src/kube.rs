//! The Hedgehog kinds through kube-rs, as tests and benchmarks read and write them on a
//! cluster (the Kubernetes API test server or a real one).

use hedgehog_sidecar::model::{Kind, VERSION};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};

/// The API resource of `kind`.
pub fn resource(kind: Kind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), VERSION, kind.as_str()),
        kind.plural(),
    )
}

/// The objects of `kind` in namespace `default`.
pub fn objects(client: &kube::Client, kind: Kind) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), "default", &resource(kind))
}
