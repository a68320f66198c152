//! Ownership labels and back-reference annotations on every rendered object.

use std::collections::BTreeMap;

use crate::config::FabricConfig;
use crate::model::ObjectMeta;

use super::sources::{SourceRef, ui_collection};

pub(crate) const MANAGED_BY_KEY: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY_VALUE: &str = "hedgehog-sidecar";

/// The label key holding the fabric's name (`<label_domain>/fabric`).
pub(crate) fn fabric_label_key(label_domain: &str) -> String {
    format!("{label_domain}/fabric")
}

/// Labels and annotations for an object rendered from `sources` (all of one NetBox type).
pub(crate) fn object_meta(fabric: &FabricConfig, sources: &[SourceRef]) -> ObjectMeta {
    let domain = &fabric.mapping.label_domain;
    let labels = BTreeMap::from([
        (MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (fabric_label_key(domain), fabric.name.clone()),
    ]);
    let mut annotations = BTreeMap::new();
    if let Some(first) = sources.first() {
        let object_type = &first.object_type;
        let ids: Vec<String> = sources
            .iter()
            .filter(|s| &s.object_type == object_type)
            .map(|s| s.id.to_string())
            .collect();
        let path = match ids.as_slice() {
            [_] => first.ui_path(),
            _ => format!("/{}/?id={}", ui_collection(object_type), ids.join("&id=")),
        };
        let base = fabric
            .mapping
            .netbox_public_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/');
        annotations.insert(format!("{domain}/netbox-object-type"), object_type.clone());
        annotations.insert(format!("{domain}/netbox-object-id"), ids.join(","));
        annotations.insert(format!("{domain}/netbox-url"), format!("{base}{path}"));
    }
    ObjectMeta {
        namespace: Some(fabric.cluster.namespace.clone()),
        labels,
        annotations,
    }
}
