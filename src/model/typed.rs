//! Typed Hedgehog objects and their conversion into the generic [`Manifest`] form.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::kind::Kind;
use super::manifest::{Manifest, ManifestMeta};

/// A spec type that belongs to one Hedgehog kind.
pub trait HedgehogSpec: Serialize + DeserializeOwned {
    const KIND: Kind;
}

/// Metadata given to a typed object when it becomes a manifest.
#[derive(Debug, Clone, Default)]
pub struct ObjectMeta {
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Converts a typed spec into a manifest of its kind.
pub fn to_manifest<S: HedgehogSpec>(name: &str, spec: &S, meta: ObjectMeta) -> Manifest {
    // Every spec is plain data (strings, integers, maps with string keys): serialising cannot fail.
    let spec = serde_json::to_value(spec).unwrap_or_else(|_| serde_json::json!({}));
    Manifest {
        api_version: S::KIND.api_version(),
        kind: S::KIND.as_str().to_owned(),
        metadata: ManifestMeta {
            name: name.to_owned(),
            namespace: meta.namespace,
            labels: meta.labels,
            annotations: meta.annotations,
        },
        spec,
    }
}

/// Reads a manifest's spec back into its typed form (`None` when the kind differs).
pub fn from_manifest<S: HedgehogSpec>(manifest: &Manifest) -> Option<Result<S, serde_json::Error>> {
    (manifest.kind == S::KIND.as_str()).then(|| serde_json::from_value(manifest.spec.clone()))
}

/// `skip_serializing_if` helper for `false` booleans.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}
