//! Field-level comparison of a desired object with the cluster's copy.
//!
//! Only the fields the sidecar manages are compared: every leaf of the desired object's `spec`
//! plus its labels and annotations. Fields the cluster or its webhooks fill in (defaults, computed
//! labels, status) and fields another manager added are not drift. Lists are compared element by
//! element, so a changed link reports `spec.fabric.links[1].leaf.port`, not the whole list.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One managed field whose cluster value differs from NetBox's rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// Kubernetes field path, e.g. `spec.subnets.default.vlan`.
    pub path: String,
    /// The rendered value (from NetBox).
    pub desired: Value,
    /// The cluster's value; `null` when the field is missing there.
    pub actual: Value,
}

/// A copy of `object` without the named `metadata` fields (what every write changes, or the
/// managed fields nobody reading the object needs).
pub fn without_metadata(object: &Value, fields: &[&str]) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in fields {
            metadata.remove(*field);
        }
    }
    copy
}

/// Compares `desired` (a rendered object as JSON) with `actual` (the cluster's object).
/// Returns the managed fields that differ, in path order.
pub fn diff_managed(desired: &Value, actual: &Value) -> Vec<FieldDiff> {
    let mut diffs = Vec::new();
    if let Some(spec) = desired.get("spec") {
        compare(
            spec,
            actual.get("spec").unwrap_or(&Value::Null),
            "spec".into(),
            &mut diffs,
        );
    }
    for section in ["labels", "annotations"] {
        let Some(Value::Object(wanted)) = desired.pointer(&format!("/metadata/{section}")) else {
            continue;
        };
        let held = actual.pointer(&format!("/metadata/{section}"));
        for (key, value) in wanted {
            let theirs = held.and_then(|l| l.get(key)).unwrap_or(&Value::Null);
            if value != theirs {
                diffs.push(FieldDiff {
                    path: format!("metadata.{section}[{key}]"),
                    desired: value.clone(),
                    actual: theirs.clone(),
                });
            }
        }
    }
    diffs.sort_by(|a, b| a.path.cmp(&b.path));
    diffs
}

fn compare(desired: &Value, actual: &Value, path: String, out: &mut Vec<FieldDiff>) {
    match (desired, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let child = have.get(key).unwrap_or(&Value::Null);
                compare(value, child, join(&path, key), out);
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (index, (w, h)) in want.iter().zip(have).enumerate() {
                compare(w, h, format!("{path}[{index}]"), out);
            }
        }
        // An empty desired object or list and a missing field mean the same to the API server.
        (Value::Object(want), Value::Null) if want.is_empty() => {}
        (Value::Array(want), Value::Null) if want.is_empty() => {}
        _ if !equivalent(desired, actual) => out.push(FieldDiff {
            path,
            desired: desired.clone(),
            actual: actual.clone(),
        }),
        _ => {}
    }
}

/// Numbers compare by value (`1` equals `1.0` after a round trip through YAML).
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn join(path: &str, key: &str) -> String {
    // Map keys that are not plain identifiers (subnet names with dots, port names with
    // slashes) are bracketed so the path stays unambiguous.
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vpc(vlan: u64) -> Value {
        json!({
            "apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC",
            "metadata": {"name": "vpc-1", "labels": {"app.kubernetes.io/managed-by": "hedgehog-sidecar"}},
            "spec": {"subnets": {"default": {"subnet": "10.0.1.0/24", "vlan": vlan}}}
        })
    }

    #[test]
    fn equal_objects_have_no_diff_even_with_cluster_defaults() {
        let mut actual = vpc(1001);
        actual["spec"]["ipv4Namespace"] = json!("default");
        actual["spec"]["subnets"]["default"]["gateway"] = json!("10.0.1.1");
        actual["metadata"]["labels"]["fabric.githedgehog.com/ipv4ns"] = json!("default");
        actual["status"] = json!({});
        assert_eq!(diff_managed(&vpc(1001), &actual), vec![]);
    }

    #[test]
    fn a_nested_change_is_reported_at_its_path() {
        let diffs = diff_managed(&vpc(1001), &vpc(1999));
        assert_eq!(
            diffs,
            vec![FieldDiff {
                path: "spec.subnets.default.vlan".into(),
                desired: json!(1001),
                actual: json!(1999)
            }]
        );
    }

    #[test]
    fn list_elements_and_missing_fields_and_labels() {
        let desired = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"fabric": {"links": [
            {"leaf": {"port": "leaf-01/E1/1"}}, {"leaf": {"port": "leaf-01/E1/2"}}]}}});
        let actual = json!({"metadata": {}, "spec": {"fabric": {"links": [
            {"leaf": {"port": "leaf-01/E1/1"}}, {"leaf": {"port": "leaf-01/E1/9"}}]}}});
        let paths: Vec<_> = diff_managed(&desired, &actual)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(
            paths,
            vec!["metadata.labels[a]", "spec.fabric.links[1].leaf.port"]
        );

        let shorter = json!({"spec": {"fabric": {"links": [{"leaf": {"port": "leaf-01/E1/1"}}]}}});
        let diffs = diff_managed(&desired, &shorter);
        assert!(
            diffs.iter().any(|d| d.path == "spec.fabric.links"),
            "{diffs:?}"
        );

        let diffs = diff_managed(&json!({"spec": {"redundancy": {}}}), &json!({"spec": {}}));
        assert_eq!(diffs, vec![]);
    }
}
