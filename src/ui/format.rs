//! How values read on the pages.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// `2026-05-04 10:12:03 UTC`, or `never`.
pub(crate) fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "never".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A serialised enum's name (`Synced`), or `Unknown`.
pub(crate) fn name(value: &Value) -> String {
    value.as_str().unwrap_or("Unknown").to_owned()
}

/// An object as YAML, the way `kubectl get -o yaml` shows it.
pub(crate) fn yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value).unwrap_or_else(|e| format!("# cannot show as YAML: {e}"))
}

/// A field's value in a diff: compact JSON, `(absent)` for a missing field.
pub(crate) fn field(value: &Value) -> String {
    match value {
        Value::Null => "(absent)".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
