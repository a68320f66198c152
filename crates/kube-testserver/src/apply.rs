//! Server-side apply (`application/apply-patch+yaml`): merges an applied configuration into
//! the live object, detects field-manager conflicts, removes the fields a manager stops
//! applying (unless someone else owns them) and records the applier's field set.

use serde_json::Value;

use super::fieldset::{FieldSet, display_path, remove_at, value_at};
use super::managed_fields::{Entry, Writer};

/// The merged object and the new managedFields entries.
#[derive(Debug)]
pub struct Applied {
    pub object: Value,
    pub entries: Vec<Entry>,
}

/// `(manager, field)` pairs, the manager as the apiserver prints it:
/// `("\"kubectl\"", ".spec.role")` for an applier, `"\"kubectl-edit\" using v1 at <time>"`
/// for an updater.
pub type Conflicts = Vec<(String, String)>;

/// The apiserver's `printManager`.
fn print_manager(entry: &Entry) -> String {
    let mut text = format!("{:?}", entry.manager);
    if !entry.subresource.is_empty() {
        text.push_str(&format!(" with subresource {:?}", entry.subresource));
    }
    if entry.operation == "Update" {
        text.push_str(&format!(" using {}", entry.api_version));
        if !entry.time.is_empty() {
            text.push_str(&format!(" at {}", entry.time));
        }
    }
    text
}

/// Applies `config` over `live` (`{}` when the object does not exist yet).
pub fn apply(
    live: &Value,
    mut entries: Vec<Entry>,
    config: &Value,
    writer: &Writer,
    force: bool,
    reset: &[&str],
    now: &str,
) -> Result<Applied, Conflicts> {
    let applied = FieldSet::leaves_of(config, reset);
    let is_mine = |e: &Entry| {
        e.manager == writer.manager && e.operation == "Apply" && e.subresource == writer.subresource
    };
    let (mut conflicts, contested) = find_conflicts(live, &entries, config, &applied, &is_mine);
    if !conflicts.is_empty() && !force {
        conflicts.dedup();
        return Err(conflicts);
    }
    let mut object = live.clone();
    drop_abandoned_fields(&mut object, &entries, config, &applied, &is_mine);
    merge(&mut object, config);
    for entry in entries.iter_mut().filter(|e| !is_mine(e)) {
        entry.fields = entry.fields.difference(&contested);
    }
    record_applier(&mut entries, applied, writer, now, &is_mine);
    Ok(Applied { object, entries })
}

/// Fields the configuration sets to a different value than the live one while another manager
/// owns them, and the set of those fields.
fn find_conflicts(
    live: &Value,
    entries: &[Entry],
    config: &Value,
    applied: &FieldSet,
    is_mine: &impl Fn(&Entry) -> bool,
) -> (Conflicts, FieldSet) {
    let mut conflicts: Conflicts = Vec::new();
    let mut contested = FieldSet::default();
    for path in &applied.0 {
        if value_at(live, path) == value_at(config, path) {
            continue;
        }
        for entry in entries.iter().filter(|e| !is_mine(e)) {
            if entry.fields.contains(path) {
                conflicts.push((print_manager(entry), display_path(path)));
                contested.0.insert(path.clone());
            }
        }
    }
    (conflicts, contested)
}

/// Removes the fields this manager applied before but no longer does, and nobody else owns.
fn drop_abandoned_fields(
    object: &mut Value,
    entries: &[Entry],
    config: &Value,
    applied: &FieldSet,
    is_mine: &impl Fn(&Entry) -> bool,
) {
    let previously = entries
        .iter()
        .find(|e| is_mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    for path in previously.difference(applied).0 {
        let owned_elsewhere = entries
            .iter()
            .filter(|e| !is_mine(e))
            .any(|e| e.fields.contains(&path));
        if owned_elsewhere {
            continue;
        }
        remove_at(object, &path);
        // Maps that only held removed fields go too (the apiserver removes the applier's
        // struct fields and adds back only what others own or still apply).
        for depth in (1..path.len()).rev() {
            let parent = path[..depth].to_vec();
            let emptied = value_at(object, &parent)
                .is_some_and(|v| v.as_object().is_some_and(|m| m.is_empty()));
            if emptied && value_at(config, &parent).is_none() {
                remove_at(object, &parent);
            }
        }
    }
}

/// Records the applier's field set in its Apply entry (its time moves only when the set does).
fn record_applier(
    entries: &mut Vec<Entry>,
    applied: FieldSet,
    writer: &Writer,
    now: &str,
    is_mine: &impl Fn(&Entry) -> bool,
) {
    match entries.iter_mut().find(|e| is_mine(e)) {
        Some(entry) => {
            if entry.fields != applied {
                entry.fields = applied;
                entry.time = now.to_owned();
            }
            entry.api_version = writer.api_version.clone();
        }
        None => entries.push(Entry {
            manager: writer.manager.clone(),
            operation: "Apply".into(),
            api_version: writer.api_version.clone(),
            subresource: writer.subresource.to_owned(),
            time: now.to_owned(),
            fields: applied,
        }),
    }
}

/// Deep merge: maps merge key by key, everything else (scalars, atomic lists) is replaced.
fn merge(target: &mut Value, config: &Value) {
    match (target, config) {
        (Value::Object(live), Value::Object(applied)) => {
            for (key, value) in applied {
                match live.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        live.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, config) => *target = config.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writer(manager: &str) -> Writer {
        Writer {
            manager: manager.into(),
            operation: "Apply",
            subresource: "",
            api_version: "v1".into(),
        }
    }

    /// Applies `first`, then `second`, as the same manager; the resulting object.
    fn apply_twice(first: Value, second: Value) -> Value {
        let applied = apply(&json!({}), vec![], &first, &writer("m"), false, &[], "t").unwrap();
        assert_eq!(applied.object, first);
        let again = apply(
            &applied.object,
            applied.entries,
            &second,
            &writer("m"),
            false,
            &[],
            "t",
        );
        again.unwrap().object
    }

    #[test]
    fn a_manager_that_stops_applying_a_field_removes_it() {
        let after = apply_twice(json!({"spec": {"a": 1, "b": 2}}), json!({"spec": {"a": 1}}));
        assert_eq!(after, json!({"spec": {"a": 1}}));
    }

    #[test]
    fn maps_emptied_by_removal_are_removed_too() {
        let first = json!({"spec": {"role": "r", "boot": {"mac": "m"}}});
        let after = apply_twice(first, json!({"spec": {"role": "r"}}));
        assert_eq!(after, json!({"spec": {"role": "r"}}));
    }

    #[test]
    fn changing_another_managers_field_conflicts_unless_forced() {
        let base = apply(
            &json!({}),
            vec![],
            &json!({"spec": {"a": 1}}),
            &writer("one"),
            false,
            &[],
            "t",
        )
        .unwrap();
        // Same value: shared ownership, no conflict.
        let shared = apply(
            &base.object,
            base.entries.clone(),
            &json!({"spec": {"a": 1}}),
            &writer("two"),
            false,
            &[],
            "t",
        )
        .unwrap();
        assert_eq!(shared.entries.len(), 2);
        let conflicts = apply(
            &base.object,
            base.entries.clone(),
            &json!({"spec": {"a": 2}}),
            &writer("two"),
            false,
            &[],
            "t",
        )
        .unwrap_err();
        assert_eq!(
            conflicts,
            vec![("\"one\"".to_string(), ".spec.a".to_string())]
        );
        let forced = apply(
            &base.object,
            base.entries,
            &json!({"spec": {"a": 2}}),
            &writer("two"),
            true,
            &[],
            "t",
        )
        .unwrap();
        assert_eq!(forced.object, json!({"spec": {"a": 2}}));
        let one = forced.entries.iter().find(|e| e.manager == "one").unwrap();
        assert!(one.fields.is_empty(), "the forced field changed owner");
    }
}
