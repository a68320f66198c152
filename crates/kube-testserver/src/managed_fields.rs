//! `metadata.managedFields`: who owns which fields. Updates (PUT, merge/JSON patch, create)
//! give the writing manager the fields it changed and take them from everyone else; applies
//! replace the applier's set with its configuration's fields (see [`super::apply`]).

use serde_json::{Value, json};

use super::fieldset::FieldSet;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    /// `""` for the main resource, `"status"` for the status subresource.
    pub subresource: String,
    pub time: String,
    pub fields: FieldSet,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// Who is writing: manager name, operation and subresource.
#[derive(Debug, Clone)]
pub struct Writer {
    pub manager: String,
    pub operation: &'static str,
    pub subresource: &'static str,
    pub api_version: String,
}

pub fn read(object: &Value) -> Vec<Entry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            Entry {
                manager: text("manager"),
                operation: text("operation"),
                api_version: text("apiVersion"),
                subresource: text("subresource"),
                time: text("time"),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
            }
        })
        .collect()
}

/// Writes entries back in the apiserver's order (operation, time, manager), dropping empty ones.
pub fn write(object: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let encoded: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut entry = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": e.fields.to_fields_v1(),
            });
            if !e.subresource.is_empty() {
                entry["subresource"] = json!(e.subresource);
            }
            entry
        })
        .collect();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if encoded.is_empty() {
            metadata.remove("managedFields");
        } else {
            metadata.insert("managedFields".into(), Value::Array(encoded));
        }
    }
}

/// Records an Update by `writer` that turned `old` into `new` (for a create, `old` is `{}`).
pub fn record_update(
    mut entries: Vec<Entry>,
    old: &Value,
    new: &Value,
    writer: &Writer,
    reset: &[&str],
    now: &str,
) -> Vec<Entry> {
    let (changed, removed) = FieldSet::diff(old, new, reset);
    let taken = changed.union(&removed);
    for entry in entries
        .iter_mut()
        .filter(|e| !e.same_owner(&writer.manager, writer.operation, writer.subresource))
    {
        entry.fields = entry.fields.difference(&taken);
    }
    match entries
        .iter_mut()
        .find(|e| e.same_owner(&writer.manager, writer.operation, writer.subresource))
    {
        Some(entry) => {
            let fields = entry.fields.union(&changed).difference(&removed);
            if fields != entry.fields {
                entry.fields = fields;
                entry.time = now.to_owned();
                entry.api_version = writer.api_version.clone();
            }
        }
        None => entries.push(Entry {
            manager: writer.manager.clone(),
            operation: writer.operation.to_owned(),
            api_version: writer.api_version.clone(),
            subresource: writer.subresource.to_owned(),
            time: now.to_owned(),
            fields: changed.difference(&removed),
        }),
    }
    entries
}

/// The manager name the apiserver derives when a request names none: the User-Agent's
/// program name (`kubectl/v1.32.0 (linux/amd64)` → `kubectl`).
pub fn default_manager(user_agent: Option<&str>) -> String {
    let agent = user_agent.unwrap_or("unknown");
    agent
        .split('/')
        .next()
        .unwrap_or(agent)
        .chars()
        .take(128)
        .collect()
}
