//! The round trip: rendering imported NetBox objects must give back the objects imported. Used
//! before an import (which objects would not come back the same, and why) and by the tests.
//!
//! Specs are compared normalised: in the form the fabric's defaulting gives them (what a cluster
//! holds: lists sorted as the fabric sorts them, gateways and DHCP ranges filled in), keys
//! sorted, empty objects (`redundancy: {}`) dropped, and fields rendering writes out with the
//! value the input may leave to defaults (`vlanNamespaces: [default]`, `ipv4Namespace: default`,
//! `vlanNamespace: default`) dropped.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::FabricConfig;
use crate::mapping;
use crate::mapping::defaulting::defaulted_spec;
use crate::model::diff_managed;
use crate::model::{Kind, Manifest, sort_keys};
use crate::netbox::FabricSnapshot;

use super::problems::Finding;

/// A manifest's spec, normalised for comparison.
pub(crate) fn normalised_spec(manifest: &Manifest) -> Value {
    let mut spec = match manifest.kind() {
        Some(kind) => defaulted_spec(kind, &manifest.spec),
        None => manifest.spec.clone(),
    };
    drop_defaults(&mut spec);
    drop_empty_objects(&mut spec);
    sort_keys(spec)
}

/// `(kind, name) → normalised spec` of the manifests of the rendered kinds.
pub fn normalised(manifests: &[Manifest]) -> BTreeMap<(String, String), Value> {
    manifests
        .iter()
        .filter(|m| m.kind().is_some_and(|k| Kind::RENDERED.contains(&k)))
        .map(|m| {
            (
                (m.kind.clone(), m.metadata.name.clone()),
                normalised_spec(m),
            )
        })
        .collect()
}

fn drop_empty_objects(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
        map.values_mut().for_each(drop_empty_objects);
    } else if let Value::Array(items) = value {
        items.iter_mut().for_each(drop_empty_objects);
    }
}

fn drop_defaults(spec: &mut Value) {
    if let Value::Object(map) = spec {
        if map.get("vlanNamespaces") == Some(&json!(["default"])) {
            map.remove("vlanNamespaces");
        }
        for key in ["ipv4Namespace", "vlanNamespace"] {
            if map.get(key) == Some(&Value::from("default")) {
                map.remove(key);
            }
        }
    }
}

/// Every object of `input` that rendering `snapshot` would not give back equal, and every
/// object it would render that `input` does not hold.
pub(crate) fn differences(
    fabric: &FabricConfig,
    input: &[Manifest],
    snapshot: &FabricSnapshot,
) -> Vec<Finding> {
    let rendered = match mapping::render(fabric, snapshot) {
        Ok(rendered) => rendered,
        Err(error) => {
            return error
                .violations
                .iter()
                .map(|v| Finding {
                    object: v
                        .object
                        .as_ref()
                        .map_or_else(|| "fabric".to_owned(), ToString::to_string),
                    message: format!(
                        "the imported NetBox state breaks an admission rule: {}",
                        v.message
                    ),
                })
                .collect();
        }
    };
    compare(&normalised(input), &normalised(&rendered.manifests))
}

/// Compares normalised expected objects with normalised rendered ones.
pub fn compare(
    expected: &BTreeMap<(String, String), Value>,
    actual: &BTreeMap<(String, String), Value>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let object = |(kind, name): &(String, String)| format!("{kind}/{name}");
    for (key, spec) in expected {
        let Some(rendered) = actual.get(key) else {
            out.push(Finding {
                object: object(key),
                message: "is not rendered back from the imported NetBox objects".into(),
            });
            continue;
        };
        let (ours, theirs) = (json!({"spec": spec}), json!({"spec": rendered}));
        let mut paths: Vec<String> = diff_managed(&ours, &theirs)
            .into_iter()
            .chain(diff_managed(&theirs, &ours))
            .map(|d| d.path)
            .collect();
        paths.sort();
        paths.dedup();
        if !paths.is_empty() {
            out.push(Finding {
                object: object(key),
                message: format!("renders back differently at {}", paths.join(", ")),
            });
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(Finding {
            object: object(key),
            message: "would be rendered from the imported NetBox objects but is not in the input"
                .into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(kind: &str, name: &str, spec: Value) -> Manifest {
        serde_json::from_value(json!({
            "apiVersion": "wiring.githedgehog.com/v1beta1", "kind": kind,
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn normalising_drops_defaults_and_empty_objects_only() {
        let m = manifest(
            "Switch",
            "leaf-01",
            json!({"role": "server-leaf", "redundancy": {}, "vlanNamespaces": ["default"],
                   "boot": {"mac": "0c:20:12:ff:00:00"}}),
        );
        assert_eq!(
            normalised_spec(&m),
            json!({"boot": {"mac": "0c:20:12:ff:00:00"}, "role": "server-leaf"})
        );
        let other = manifest("Switch", "x", json!({"vlanNamespaces": ["default", "b"]}));
        assert_eq!(
            normalised_spec(&other),
            json!({"vlanNamespaces": ["default", "b"]})
        );
    }

    #[test]
    fn comparison_names_missing_changed_and_extra_objects() {
        let expected = normalised(&[
            manifest("Switch", "a", json!({"role": "spine"})),
            manifest("Switch", "b", json!({"role": "spine", "asn": 1})),
        ]);
        let actual = normalised(&[
            manifest("Switch", "b", json!({"role": "spine", "asn": 2})),
            manifest("Switch", "c", json!({"role": "spine"})),
        ]);
        let found: Vec<String> = compare(&expected, &actual)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("Switch/a: is not rendered back"));
        assert_eq!(found[1], "Switch/b: renders back differently at spec.asn");
        assert!(found[2].starts_with("Switch/c: would be rendered"));
        assert!(compare(&expected, &expected).is_empty());
    }
}
