//! `config/sidecar.example.toml` documents every configuration key: each key of the settings
//! types (taken from their schema, so a new field is covered without touching this test)
//! appears in the example, set or commented out, and the example parses.

use std::collections::BTreeSet;

use figment::providers::Format;
use serde_json::Value;

use super::Settings;

const EXAMPLE: &str = include_str!("../../config/sidecar.example.toml");

/// Dotted paths of every key the settings types accept (`webhook.secret`, `fabric.git.url`);
/// a map (free-form keys, like `fabric.mapping.switch_roles`) counts as one key.
fn schema_keys() -> BTreeSet<String> {
    let schema = serde_json::to_value(schemars::schema_for!(Settings)).unwrap();
    let mut keys = BTreeSet::new();
    collect(&schema, &schema, "", &mut keys);
    keys
}

fn collect(root: &Value, node: &Value, path: &str, keys: &mut BTreeSet<String>) {
    let node = resolve(root, node);
    for variant in ["anyOf", "oneOf", "allOf"] {
        for branch in node[variant].as_array().into_iter().flatten() {
            collect(root, branch, path, keys);
        }
    }
    if let Some(items) = node.get("items") {
        collect(root, items, path, keys);
    }
    match node["properties"].as_object() {
        Some(properties) => {
            for (name, property) in properties {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                collect(root, property, &child, keys);
            }
        }
        None if !path.is_empty() && !has_variants(node) => {
            keys.insert(path.to_owned());
        }
        None => {}
    }
}

fn has_variants(node: &Value) -> bool {
    ["anyOf", "oneOf", "allOf", "items"]
        .iter()
        .any(|k| node.get(k).is_some())
}

/// The definition a `$ref` points to (`#/$defs/Name`), or the node itself.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node["$ref"].as_str() {
        Some(reference) => root.pointer(reference.trim_start_matches('#')).unwrap(),
        None => node,
    }
}

/// Dotted paths of the example's keys and tables, commented out or not.
fn documented_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    for line in EXAMPLE.lines() {
        let line = line.trim_start_matches('#').trim();
        if line.starts_with('[') {
            section = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            keys.insert(section.clone());
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            keys.insert(if section.is_empty() {
                key.to_owned()
            } else {
                format!("{section}.{key}")
            });
        }
    }
    keys
}

#[test]
fn the_example_documents_every_settings_key() {
    let documented = documented_keys();
    let missing: Vec<String> = schema_keys().difference(&documented).cloned().collect();
    assert!(
        missing.is_empty(),
        "config/sidecar.example.toml does not mention: {missing:#?}"
    );
}

#[test]
fn the_key_list_sees_nested_flattened_and_map_keys() {
    let keys = schema_keys();
    for key in [
        "listen",
        "webhook.secret",
        "fabric.name",
        "fabric.namespace",
        "fabric.git.url",
        "fabric.mapping.switch_roles",
        "fabric.mapping.custom_fields.role",
    ] {
        assert!(keys.contains(key), "{key} is not in {keys:#?}");
    }
}

#[test]
fn the_example_parses_as_settings() {
    let settings: Settings = figment::Figment::from(figment::providers::Toml::string(EXAMPLE))
        .extract()
        .expect("the example configuration parses");
    assert!(!settings.fabrics.is_empty());
}
