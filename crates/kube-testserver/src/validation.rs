//! Object validation as the apiserver does it for custom resources: metadata checks, pruning
//! of fields the schema does not declare (an error under `fieldValidation=Strict`), and the
//! CRD's `openAPIV3Schema` (via [`CrdDefinition::validate`]) turned into `Invalid` causes
//! worded like Kubernetes field errors.

use serde_json::Value;

use super::status::Cause;
use crate::crd::{CrdDefinition, FieldValidation};

/// Removes undeclared fields from `object`, returning their paths (`spec.bogus`).
pub fn prune_unknown_fields(schema: &Value, object: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    if let Value::Object(map) = object {
        for (key, value) in map.iter_mut() {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match schema.pointer(&format!(
                "/properties/{}",
                key.replace('~', "~0").replace('/', "~1")
            )) {
                Some(child) => prune(child, value, key.clone(), &mut unknown),
                None if preserves(schema) => {}
                None => unknown.push(key.clone()),
            }
        }
        map.retain(|key, _| !unknown.contains(key));
    }
    unknown
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn prune(schema: &Value, value: &mut Value, path: String, unknown: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let mut dropped = Vec::new();
            for (key, child) in map.iter_mut() {
                let child_path = format!("{path}.{key}");
                if let Some(child_schema) = properties.and_then(|p| p.get(key)).or(additional) {
                    prune(child_schema, child, child_path, unknown);
                } else if !preserves(schema) {
                    // A structural schema prunes every field it does not declare, including
                    // all fields of an object declared without properties.
                    unknown.push(child_path);
                    dropped.push(key.clone());
                }
            }
            map.retain(|key, _| !dropped.contains(key));
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(item_schema, item, format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// Schema violations of an already pruned object, as `Invalid` causes.
pub fn schema_causes(crd: &CrdDefinition, object: &Value) -> Vec<Cause> {
    crd.validate(object, FieldValidation::Ignore)
        .into_iter()
        .map(|violation| {
            let value = value_at_field(object, &violation.field);
            let rendered = value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "null".into());
            if let Some(property) = violation.message.strip_suffix(" is a required property") {
                let property = property.trim_matches('"');
                let field = if violation.field.is_empty() {
                    property.to_owned()
                } else {
                    format!("{}.{property}", violation.field)
                };
                return Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value".into(),
                    field,
                };
            }
            let node = schema_at(&crd.schema, &violation.field);
            if let Some(options) = node.and_then(|n| n.get("enum")).and_then(Value::as_array)
                && violation.message.contains(" is not one of ")
            {
                let supported: Vec<String> = options.iter().map(Value::to_string).collect();
                return Cause {
                    reason: "FieldValueNotSupported".into(),
                    message: format!(
                        "Unsupported value: {rendered}: supported values: {}",
                        supported.join(", ")
                    ),
                    field: violation.field,
                };
            }
            if let Some(expected) = node.and_then(|n| n.get("type")).and_then(Value::as_str)
                && violation.message.contains(" is not of type")
            {
                return Cause {
                    reason: "FieldValueTypeInvalid".into(),
                    message: format!(
                        "Invalid value: \"{}\": {} in body must be of type {expected}: {:?}",
                        json_type(value),
                        violation.field,
                        rendered
                    ),
                    field: violation.field,
                };
            }
            Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: {rendered}: {}", violation.message),
                field: violation.field,
            }
        })
        .collect()
}

fn json_type(value: Option<&Value>) -> &'static str {
    match value {
        Some(Value::String(_)) => "string",
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
        Some(Value::Number(_)) => "number",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
        Some(Value::Null) | None => "null",
    }
}

/// `spec.links[0].port` → segments `spec`, `links`, `0`, `port`.
fn field_segments(field: &str) -> Vec<String> {
    field
        .replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn value_at_field<'a>(object: &'a Value, field: &str) -> Option<&'a Value> {
    field_segments(field)
        .iter()
        .try_fold(object, |node, segment| match node {
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => node.get(segment),
        })
}

fn schema_at<'a>(schema: &'a Value, field: &str) -> Option<&'a Value> {
    field_segments(field)
        .iter()
        .try_fold(schema, |node, segment| {
            if segment.parse::<usize>().is_ok() && node.get("items").is_some() {
                node.get("items")
            } else {
                node.pointer(&format!("/properties/{segment}"))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
            }
        })
}

const SUBDOMAIN_HINT: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_HINT: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_dns_label)
}

/// Checks an object's name (a DNS subdomain; a DNS label for namespaces) and label values.
pub fn metadata_causes(object: &Value, name_is_label: bool) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (valid, hint) = if name_is_label {
        (is_dns_label(name), LABEL_HINT)
    } else {
        (is_dns_subdomain(name), SUBDOMAIN_HINT)
    };
    if !valid {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: {name:?}: {hint}"),
            field: "metadata.name".into(),
        });
    }
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for value in labels.values() {
            let text = value.as_str().unwrap_or("");
            let ok = value.is_string()
                && text.len() <= 63
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && text
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_ascii_alphanumeric())
                && text
                    .chars()
                    .last()
                    .is_none_or(|c| c.is_ascii_alphanumeric());
            if !ok {
                causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: {value}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
                    field: "metadata.labels".into(),
                });
            }
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pruning_removes_undeclared_fields_and_names_them() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "string"},
            "list": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "integer"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "opaque": {"type": "object"}}}}});
        let mut object = json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "n"}, "extra": 1,
            "spec": {"a": "x", "bogus": true, "list": [{"x": 1, "y": 2}], "free": {"anything": 1}, "map": {"k": "v"}, "opaque": {"gone": 1}}});
        let unknown = prune_unknown_fields(&schema, &mut object);
        assert_eq!(
            unknown,
            vec!["extra", "spec.bogus", "spec.list[0].y", "spec.opaque.gone"]
        );
        assert_eq!(
            object["spec"],
            json!({"a": "x", "list": [{"x": 1}], "free": {"anything": 1}, "map": {"k": "v"}, "opaque": {}})
        );
    }

    #[test]
    fn names_must_be_dns_subdomains() {
        let bad = metadata_causes(&json!({"metadata": {"name": "Leaf_01"}}), false);
        assert_eq!(bad[0].field, "metadata.name");
        assert!(
            bad[0]
                .message
                .starts_with("Invalid value: \"Leaf_01\": a lowercase RFC 1123 subdomain")
        );
        assert!(metadata_causes(&json!({"metadata": {"name": "leaf-01.x"}}), false).is_empty());
        assert!(!metadata_causes(&json!({"metadata": {"name": "a.b"}}), true).is_empty());
    }
}
