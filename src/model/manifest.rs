//! The form every rendered object takes once it leaves the mapping: a Kubernetes object with
//! a kind, metadata and a JSON spec. Targets (cluster, Git) and the reconciler work on this form,
//! so they need not know each kind's Rust type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kind::Kind;

/// Metadata the sidecar sets on rendered objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One rendered Hedgehog object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    pub metadata: ManifestMeta,
    /// Wiring files leave `spec` out (or empty) on objects without fields, such as a Server;
    /// that reads as the empty spec `{}`, as the API server stores it.
    #[serde(default = "empty_spec", deserialize_with = "spec_or_empty")]
    pub spec: Value,
}

fn empty_spec() -> Value {
    Value::Object(serde_json::Map::new())
}

fn spec_or_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_null() { empty_spec() } else { value })
}

/// Identifies an object within a fabric: its kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    pub kind: Kind,
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

impl Manifest {
    /// The kind, if it is one of the Hedgehog kinds the sidecar knows.
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_kind_name(&self.kind)
    }

    pub fn key(&self) -> Option<ObjectKey> {
        Some(ObjectKey {
            kind: self.kind()?,
            name: self.metadata.name.clone(),
        })
    }

    /// The object as a JSON value (what is sent to the API server).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a manifest always serialises")
    }

    /// Deterministic YAML: keys sorted, one document.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(&sort_keys(self.to_value())).expect("a manifest always serialises")
    }
}

/// Recursively sorts object keys, so equal objects always print identically.
/// Why a multi-document YAML text is not a list of manifests (documents count from 1).
#[derive(Debug, thiserror::Error)]
pub enum ManifestParseError {
    #[error("document {index} is not valid YAML")]
    Yaml {
        index: usize,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("document {index} is not a Kubernetes object (apiVersion, kind, metadata.name)")]
    NotAnObject {
        index: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// Every non-empty document of a multi-document YAML text, as a manifest.
pub fn parse_manifests(text: &str) -> Result<Vec<Manifest>, ManifestParseError> {
    let mut manifests = Vec::new();
    for (offset, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let index = offset + 1;
        let value = Value::deserialize(document)
            .map_err(|source| ManifestParseError::Yaml { index, source })?;
        if value.is_null() {
            continue;
        }
        let manifest = serde_json::from_value(value)
            .map_err(|source| ManifestParseError::NotAnObject { index, source })?;
        manifests.push(manifest);
    }
    Ok(manifests)
}

pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_skips_empty_documents_and_names_the_bad_one() {
        let text = "---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\n\
                    metadata:\n  name: leaf-1\nspec:\n  role: server-leaf\n---\n---\n\
                    apiVersion: v1\nkind: Thing\n";
        let error = parse_manifests(text).unwrap_err();
        // The empty document between the two `---` counts: the bad one is the third.
        assert!(format!("{error:#}").contains("document 3"), "{error:#}");
        let good = parse_manifests(&text[..text.find("apiVersion: v1").unwrap()]).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].metadata.name, "leaf-1");
    }

    /// What wiring files from real labs carry: comments, hhfab's annotations, metadata the API
    /// server adds, `status`, and no `spec` at all (or an empty one) on a Server.
    #[test]
    fn real_lab_wiring_parses_with_comments_annotations_and_specless_servers() {
        let text = "# hhfab wiring, generated\n---\napiVersion: wiring.githedgehog.com/v1beta1\n\
                    kind: Server\nmetadata:\n  name: server-01  # the first one\n  \
                    namespace: default\n  creationTimestamp: null\n  annotations:\n    \
                    type.hhfab.githedgehog.com/generated: \"true\"\nstatus: {}\n---\n\
                    apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\n\
                    metadata:\n  name: server-02\nspec:\n";
        let manifests = parse_manifests(text).unwrap();
        assert_eq!(manifests.len(), 2);
        for manifest in &manifests {
            assert_eq!(
                manifest.spec,
                serde_json::json!({}),
                "{}",
                manifest.metadata.name
            );
        }
        assert_eq!(
            manifests[0].metadata.annotations["type.hhfab.githedgehog.com/generated"],
            "true"
        );
    }
}
