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
