//! Idempotent "make this object look like that": find by a unique key, create when missing,
//! PATCH only the fields that differ, report what happened.

use std::fmt;

use serde_json::{Map, Value};

use crate::netbox::client::NetBoxClient;
use crate::netbox::endpoints::Endpoint;
use crate::netbox::error::NetBoxError;
use crate::netbox::pagination::ListQuery;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// The fields that were changed.
    Updated(Vec<String>),
    Unchanged,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Created => f.write_str("created"),
            Self::Updated(fields) => write!(f, "updated ({})", fields.join(", ")),
            Self::Unchanged => f.write_str("unchanged"),
        }
    }
}

/// One object setup wants in NetBox.
#[derive(Debug, Clone)]
pub struct Desired {
    pub endpoint: Endpoint,
    /// The unique field it is found by (`name` or `slug`) and its value.
    pub key: &'static str,
    pub value: String,
    pub body: Map<String, Value>,
    /// List fields where NetBox may hold more than we ask for (object types an admin added):
    /// ours must be included, theirs are kept.
    pub union_fields: &'static [&'static str],
    /// Fields only set when the object is created: an existing value is kept (another step of
    /// setup, or an administrator, decides it).
    pub kept_fields: &'static [&'static str],
}

/// Creates or updates `desired`; returns the object's id and what was done.
pub(crate) async fn ensure(
    client: &NetBoxClient,
    desired: &Desired,
) -> Result<(u64, Outcome), NetBoxError> {
    if let Some(existing) = find(client, desired).await? {
        return update(client, desired, &existing).await;
    }
    match client
        .post::<_, Value>(desired.endpoint.path, &desired.body)
        .await
    {
        Ok(created) => Ok((object_id(desired, &created)?, Outcome::Created)),
        // Another setup (a second replica, a concurrent test) may have created it meanwhile:
        // NetBox answers 400 (unique validator) or, when both passed validation, 500 with the
        // database's IntegrityError. Either way the object is there now.
        Err(error) if matches!(error.status(), Some(400 | 500)) => {
            match find(client, desired).await? {
                Some(existing) => update(client, desired, &existing).await,
                None => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

async fn find(client: &NetBoxClient, desired: &Desired) -> Result<Option<Value>, NetBoxError> {
    let query = ListQuery::new().filter(desired.key, &desired.value);
    let found: Vec<Value> = client.list(desired.endpoint.path, &query).await?;
    // Filters may be case-insensitive or partial: insist on the exact key.
    Ok(found
        .into_iter()
        .find(|o| o.get(desired.key).and_then(Value::as_str) == Some(desired.value.as_str())))
}

async fn update(
    client: &NetBoxClient,
    desired: &Desired,
    existing: &Value,
) -> Result<(u64, Outcome), NetBoxError> {
    let id = object_id(desired, existing)?;
    let mut patch = Map::new();
    for (field, want) in &desired.body {
        if desired.kept_fields.contains(&field.as_str()) {
            continue;
        }
        let have = existing.get(field).unwrap_or(&Value::Null);
        if desired.union_fields.contains(&field.as_str()) {
            if let Some(merged) = union(want, have) {
                patch.insert(field.clone(), merged);
            }
        } else if !same(want, have) {
            patch.insert(field.clone(), want.clone());
        }
    }
    if patch.is_empty() {
        return Ok((id, Outcome::Unchanged));
    }
    let changed = patch.keys().cloned().collect();
    let _: Value = client.patch(&desired.endpoint.detail(id), &patch).await?;
    Ok((id, Outcome::Updated(changed)))
}

fn object_id(desired: &Desired, object: &Value) -> Result<u64, NetBoxError> {
    object
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| NetBoxError::Decode {
            path: desired.endpoint.path.into(),
            message: format!(
                "{} `{}` has no id",
                desired.endpoint.object_type, desired.value
            ),
        })
}

/// `want` ∪ `have` when `have` lacks something of `want`; `None` when nothing is missing.
fn union(want: &Value, have: &Value) -> Option<Value> {
    let want = want.as_array()?;
    let have: Vec<Value> = have.as_array().cloned().unwrap_or_default();
    let missing: Vec<&Value> = want
        .iter()
        .filter(|w| !have.iter().any(|h| same(w, h)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut merged: Vec<Value> = have.iter().map(scalar_of).collect();
    merged.extend(missing.into_iter().cloned());
    Some(Value::Array(merged))
}

/// What a read value is written as: a choice's value, a nested object's id.
fn scalar_of(value: &Value) -> Value {
    match value {
        Value::Object(map) => map
            .get("value")
            .or_else(|| map.get("id"))
            .cloned()
            .unwrap_or_else(|| value.clone()),
        other => other.clone(),
    }
}

/// Does the value NetBox holds (read form) equal what we would write (write form)?
/// Choices read as `{value, label}`, related objects as nested `{id, name, ...}`, and lists of
/// plain values are sets.
pub fn same(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w.iter().all(|(k, v)| {
            let field = h.get(k).unwrap_or(&Value::Null);
            same(v, field)
        }),
        (Value::Object(_), _) => false,
        (_, Value::Object(h)) if !want.is_array() => {
            let inner = h.get("value").or_else(|| h.get("id"));
            inner.is_some_and(|inner| same(want, inner))
        }
        (Value::Array(w), Value::Array(h)) => {
            if w.iter().all(|x| !x.is_array() && !x.is_object()) {
                w.len() == h.len() && w.iter().all(|x| h.iter().any(|y| same(x, y)))
            } else {
                w.len() == h.len() && w.iter().zip(h).all(|(x, y)| same(x, y))
            }
        }
        (Value::String(w), Value::Null) => w.is_empty(),
        (Value::Null, Value::String(h)) => h.is_empty(),
        _ => want == have,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_forms_equal_write_forms() {
        assert!(same(
            &json!("select"),
            &json!({"value": "select", "label": "Selection"})
        ));
        assert!(same(
            &json!({"name": "hedgehog-status"}),
            &json!({"id": 3, "name": "hedgehog-status"})
        ));
        assert!(same(&json!(7), &json!({"id": 7, "name": "x"})));
        assert!(same(&json!(["a", "b"]), &json!(["b", "a"])));
        assert!(same(&json!([["a", "A"]]), &json!([["a", "A"]])));
        assert!(same(&json!(""), &json!(null)));
        assert!(!same(&json!("text"), &json!({"value": "select"})));
        assert!(!same(&json!(["a"]), &json!(["a", "b"])));
        assert!(!same(&json!([["a", "A"]]), &json!([["a", "B"]])));
    }

    #[test]
    fn union_keeps_what_an_admin_added() {
        assert_eq!(
            union(
                &json!(["dcim.device"]),
                &json!(["dcim.device", "dcim.site"])
            ),
            None
        );
        assert_eq!(
            union(&json!(["dcim.device", "ipam.vrf"]), &json!(["dcim.site"])),
            Some(json!(["dcim.site", "dcim.device", "ipam.vrf"]))
        );
    }
}
