//! One object of a fabric as NetBox renders it and as the target holds it, read on demand
//! (the reports keep states and diffs, not whole objects).

use serde::Serialize;
use serde_json::Value;

use super::compare::key_of;
use super::engine::Desired;
use crate::model::ObjectKey;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectView {
    /// The object rendered from NetBox now; none when NetBox renders no such object.
    pub rendered: Option<Value>,
    /// Why the rendered object is held back (it breaks an admission rule, or depends on one
    /// that does); it is then not in `rendered`.
    pub held_back: Option<String>,
    /// The target's object now, without `managedFields`; none when the target has none.
    pub live: Option<Value>,
}

/// `key` in NetBox's rendering and in the target's objects.
pub fn view_of(desired: &Desired, actual: &[Value], key: &ObjectKey) -> ObjectView {
    let rendered = desired
        .manifests
        .iter()
        .find(|m| m.key().as_ref() == Some(key))
        .map(crate::model::Manifest::to_value);
    let live = actual
        .iter()
        .find(|object| key_of(object).as_ref() == Some(key))
        .cloned()
        .map(|mut object| {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("managedFields");
            }
            object
        });
    ObjectView {
        rendered,
        held_back: desired.held_back.get(key).cloned(),
        live,
    }
}
