//! Sets of field paths as server-side apply tracks them, and their `FieldsV1` encoding
//! (`{"f:spec":{".":{},"f:role":{}}}`: `.` marks that the map itself is owned too).
//!
//! The Hedgehog CRDs declare no `x-kubernetes-list-type`, so every list is atomic: a list is
//! one leaf, never descended into.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A path of `FieldsV1` keys (`["f:spec", "f:role"]`).
pub type FieldPath = Vec<String>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet(pub BTreeSet<FieldPath>);

/// Fields the API server manages itself: never owned by a manager.
const SERVER_FIELDS: [&[&str]; 12] = [
    &["f:apiVersion"],
    &["f:kind"],
    &["f:metadata"],
    &["f:metadata", "f:name"],
    &["f:metadata", "f:namespace"],
    &["f:metadata", "f:uid"],
    &["f:metadata", "f:resourceVersion"],
    &["f:metadata", "f:generation"],
    &["f:metadata", "f:creationTimestamp"],
    &["f:metadata", "f:managedFields"],
    &["f:metadata", "f:selfLink"],
    &["f:metadata", "f:deletionTimestamp"],
];

impl FieldSet {
    /// The leaves of an applied configuration: scalars, (atomic) lists and empty maps.
    pub fn leaves_of(config: &Value, reset: &[&str]) -> FieldSet {
        fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
            match value {
                Value::Object(map) if !map.is_empty() => {
                    for (key, child) in map {
                        path.push(format!("f:{key}"));
                        walk(child, path, out);
                        path.pop();
                    }
                }
                _ => {
                    out.insert(path.clone());
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(config, &mut Vec::new(), &mut out);
        FieldSet(out).tracked(reset)
    }

    /// What an update changed: paths added or modified in `new` (including maps that did not
    /// exist before), and paths of `old` that are gone.
    pub fn diff(old: &Value, new: &Value, reset: &[&str]) -> (FieldSet, FieldSet) {
        fn added(
            old: Option<&Value>,
            new: &Value,
            path: &mut FieldPath,
            out: &mut BTreeSet<FieldPath>,
        ) {
            match new {
                Value::Object(map) => {
                    let old_map = old.and_then(Value::as_object);
                    if old_map.is_none() && !path.is_empty() {
                        out.insert(path.clone());
                    }
                    for (key, child) in map {
                        path.push(format!("f:{key}"));
                        added(old_map.and_then(|m| m.get(key)), child, path, out);
                        path.pop();
                    }
                }
                _ if old != Some(new) => {
                    out.insert(path.clone());
                }
                _ => {}
            }
        }
        fn removed(
            old: &Value,
            new: Option<&Value>,
            path: &mut FieldPath,
            out: &mut BTreeSet<FieldPath>,
        ) {
            let new_map = new.and_then(Value::as_object);
            if new.is_none() && !path.is_empty() {
                out.insert(path.clone());
            }
            if let Value::Object(map) = old {
                for (key, child) in map {
                    path.push(format!("f:{key}"));
                    removed(child, new_map.and_then(|m| m.get(key)), path, out);
                    path.pop();
                }
            }
        }
        let (mut changed, mut gone) = (BTreeSet::new(), BTreeSet::new());
        added(Some(old), new, &mut Vec::new(), &mut changed);
        removed(old, Some(new), &mut Vec::new(), &mut gone);
        (
            FieldSet(changed).tracked(reset),
            FieldSet(gone).tracked(reset),
        )
    }

    /// Drops server-managed fields and the fields under `reset` top-level keys (`status` on
    /// the main resource, `spec` on `/status`), which the strategy resets anyway.
    fn tracked(self, reset: &[&str]) -> FieldSet {
        FieldSet(
            self.0
                .into_iter()
                .filter(|p| !SERVER_FIELDS.iter().any(|s| s.iter().eq(p.iter())))
                .filter(|p| {
                    p.first()
                        .is_none_or(|top| !reset.iter().any(|r| top == &format!("f:{r}")))
                })
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, path: &FieldPath) -> bool {
        self.0.contains(path)
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.union(&other.0).cloned().collect())
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.difference(&other.0).cloned().collect())
    }

    /// `{"f:spec":{"f:role":{}}}`.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Map::new();
        for path in &self.0 {
            let mut node = &mut root;
            for segment in path {
                node = node
                    .entry(segment.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("FieldsV1 nodes are always objects");
            }
        }
        // A path that has children and is itself in the set is marked with ".".
        for path in &self.0 {
            let mut node = &mut root;
            for segment in path {
                node = node
                    .get_mut(segment)
                    .and_then(Value::as_object_mut)
                    .expect("inserted above");
            }
            if !node.is_empty() {
                node.insert(".".into(), Value::Object(Map::new()));
            }
        }
        Value::Object(root)
    }

    pub fn from_fields_v1(value: &Value) -> FieldSet {
        fn walk(node: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
            let Some(map) = node.as_object() else { return };
            if (map.is_empty() || map.contains_key(".")) && !path.is_empty() {
                out.insert(path.clone());
            }
            for (key, child) in map.iter().filter(|(k, _)| *k != ".") {
                path.push(key.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        let mut out = BTreeSet::new();
        walk(value, &mut Vec::new(), &mut out);
        FieldSet(out)
    }
}

/// `.spec.role`, the way apply conflicts name a field.
pub fn display_path(path: &FieldPath) -> String {
    path.iter()
        .map(|s| format!(".{}", s.strip_prefix("f:").unwrap_or(s)))
        .collect()
}

/// The value at a path, if the object has it.
pub fn value_at<'a>(object: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.iter().try_fold(object, |node, segment| {
        node.get(segment.strip_prefix("f:").unwrap_or(segment))
    })
}

/// Removes the field at a path (no-op when absent).
pub fn remove_at(object: &mut Value, path: &FieldPath) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = object;
    for segment in parents {
        match node.get_mut(segment.strip_prefix("f:").unwrap_or(segment)) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.remove(last.strip_prefix("f:").unwrap_or(last));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &[&str]) -> FieldPath {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn apply_sets_hold_leaves_and_skip_server_fields() {
        let config = json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "a", "labels": {"x": "1"}},
            "spec": {"role": "r", "groups": ["g"], "boot": {}}, "status": {"s": 1}});
        let set = FieldSet::leaves_of(&config, &["status"]);
        let expected: BTreeSet<_> = [
            path(&["f:metadata", "f:labels", "f:x"]),
            path(&["f:spec", "f:boot"]),
            path(&["f:spec", "f:groups"]),
            path(&["f:spec", "f:role"]),
        ]
        .into();
        assert_eq!(set.0, expected);
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {"f:x": {}}}, "f:spec": {"f:boot": {}, "f:groups": {}, "f:role": {}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()), set);
    }

    #[test]
    fn update_diff_marks_new_maps_with_a_dot() {
        let old = json!({"metadata": {"name": "a"}});
        let new = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"role": "r"}});
        let (changed, removed) = FieldSet::diff(&old, &new, &[]);
        assert!(removed.is_empty());
        assert_eq!(
            changed.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:x": {}}}, "f:spec": {".": {}, "f:role": {}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&changed.to_fields_v1()), changed);
        let (changed, removed) = FieldSet::diff(&new, &old, &[]);
        assert!(changed.is_empty());
        assert!(removed.contains(&path(&["f:spec", "f:role"])));
        assert!(removed.contains(&path(&["f:spec"])));
    }

    #[test]
    fn paths_read_display_and_remove() {
        let mut object = json!({"spec": {"role": "r", "x": 1}});
        let p = path(&["f:spec", "f:role"]);
        assert_eq!(display_path(&p), ".spec.role");
        assert_eq!(value_at(&object, &p), Some(&json!("r")));
        remove_at(&mut object, &p);
        assert_eq!(object, json!({"spec": {"x": 1}}));
    }
}
