//! What the apiserver does to every write before storing it (the "strategy" of custom
//! resources): server-owned metadata (uid, creationTimestamp, generation, resourceVersion),
//! status/spec reset around the status subresource, optimistic concurrency, finalizer rules,
//! pruning and validation, managedFields, no-op detection, and dry-run.

use serde_json::{Value, json};

use super::managed_fields::{self, Entry, Writer};
use super::resources::{Registry, Resource};
use super::status::{ApiError, Cause};
use super::store::State;
use super::validation;

/// How undeclared fields are handled (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownFields {
    Strict,
    Warn,
    Ignore,
}

impl UnknownFields {
    pub fn parse(value: Option<&str>) -> Result<UnknownFields, ApiError> {
        match value {
            None | Some("") | Some("Warn") => Ok(UnknownFields::Warn),
            Some("Strict") => Ok(UnknownFields::Strict),
            Some("Ignore") => Ok(UnknownFields::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}"
            ))),
        }
    }
}

/// One write, after the verb-specific part (body decoding, patching, apply merge).
pub struct Write<'a> {
    pub resource: &'a Resource,
    pub namespace: String,
    pub name: String,
    /// The live object; `None` for a create.
    pub old: Option<Value>,
    pub new: Value,
    pub writer: Writer,
    /// Entries server-side apply already computed; `None` records an Update.
    pub applied_entries: Option<Vec<Entry>>,
    pub unknown_fields: UnknownFields,
    pub dry_run: bool,
    pub now: String,
}

impl Write<'_> {
    /// The same write as a dry run (what would be stored, nothing stored).
    pub fn dry_run_copy(&self) -> Self {
        Write {
            resource: self.resource,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            old: self.old.clone(),
            new: self.new.clone(),
            writer: self.writer.clone(),
            applied_entries: self.applied_entries.clone(),
            unknown_fields: self.unknown_fields,
            dry_run: true,
            now: self.now.clone(),
        }
    }
}

/// What a write did.
pub struct Written {
    /// 201 for a create, 200 otherwise.
    pub code: u16,
    pub object: Value,
    pub warnings: Vec<String>,
}

/// Top-level keys the strategy resets (and apply ownership ignores) for this request.
pub fn reset_keys(resource: &Resource, subresource: &str) -> &'static [&'static str] {
    match (resource.status_subresource, subresource) {
        (_, "status") => &["spec", "metadata"],
        (true, _) => &["status"],
        (false, _) => &[],
    }
}

fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn set_meta(object: &mut Value, field: &str, value: Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if value.is_null() {
            metadata.remove(field);
        } else {
            metadata.insert(field.to_owned(), value);
        }
    }
}

fn without(object: &Value, keys: &[&str]) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        for key in keys {
            map.remove(*key);
        }
    }
    copy
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect()
}

/// Runs the strategy and stores the result (unless dry-run).
pub fn commit(
    state: &mut State,
    registry: &Registry,
    mut write: Write<'_>,
) -> Result<Written, ApiError> {
    stamp_identity(&mut write);
    match write.old.take() {
        None => prepare_create(&mut write)?,
        Some(old) => {
            prepare_update(&mut write, &old)?;
            write.old = Some(old);
        }
    }
    let warnings = prune_and_validate(registry, &mut write)?;
    record_managed_fields(&mut write);
    match write.old.take() {
        None => store_create(state, write, warnings),
        Some(old) => Ok(store_update(state, write, old, warnings)),
    }
}

/// The name, namespace, apiVersion and kind come from the request path and the resource.
fn stamp_identity(write: &mut Write<'_>) {
    let resource = write.resource;
    if !write.new.get("metadata").is_some_and(Value::is_object) {
        write.new["metadata"] = json!({});
    }
    set_meta(&mut write.new, "name", json!(write.name));
    if resource.namespaced {
        set_meta(&mut write.new, "namespace", json!(write.namespace));
    }
    write.new["apiVersion"] = json!(resource.api_version());
    write.new["kind"] = json!(resource.kind);
}

/// A create: server-owned metadata set from scratch, status dropped where it is a subresource.
fn prepare_create(write: &mut Write<'_>) -> Result<(), ApiError> {
    let resource = write.resource;
    if meta_str(&write.new, "resourceVersion").is_some() {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if resource.status_subresource
        && let Some(map) = write.new.as_object_mut()
    {
        map.remove("status");
    }
    if resource.is_namespace() {
        // The namespace strategy: Active from birth, with the `kubernetes` finalizer
        // (there is no namespace controller here to act on it).
        write.new["status"] = json!({"phase": "Active"});
        write.new["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    for field in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        set_meta(&mut write.new, field, Value::Null);
    }
    set_meta(
        &mut write.new,
        "uid",
        json!(uuid::Uuid::new_v4().to_string()),
    );
    set_meta(&mut write.new, "creationTimestamp", json!(write.now));
    set_meta(&mut write.new, "generation", json!(1));
    Ok(())
}

/// An update: preconditions checked, the part the verb does not own and the server-owned
/// metadata carried over from the live object, finalizer rules enforced.
fn prepare_update(write: &mut Write<'_>, old: &Value) -> Result<(), ApiError> {
    check_preconditions(write, old)?;
    carry_unowned_part(write, old);
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "resourceVersion",
    ] {
        let value = old.pointer(&format!("/metadata/{field}")).cloned();
        set_meta(&mut write.new, field, value.unwrap_or(Value::Null));
    }
    forbid_finalizers_while_deleting(write, old)
}

/// Optimistic concurrency: a resourceVersion or uid sent must match the live object's.
fn check_preconditions(write: &Write<'_>, old: &Value) -> Result<(), ApiError> {
    let resource = write.resource;
    if let Some(rv) = meta_str(&write.new, "resourceVersion")
        && Some(rv) != meta_str(old, "resourceVersion")
    {
        return Err(ApiError::conflict(
            resource,
            &write.name,
            ApiError::MODIFIED,
        ));
    }
    if let Some(uid) = meta_str(&write.new, "uid")
        && Some(uid) != meta_str(old, "uid")
    {
        return Err(ApiError::conflict(
            resource,
            &write.name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta_str(old, "uid").unwrap_or("")
            ),
        ));
    }
    Ok(())
}

/// On /status only the status changes; elsewhere a status subresource keeps the live status.
fn carry_unowned_part(write: &mut Write<'_>, old: &Value) {
    if write.writer.subresource == "status" {
        // Only status changes on /status; managedFields are recorded later.
        let status = write.new.get("status").cloned();
        write.new = without(old, &["status"]);
        if let Some(status) = status {
            write.new["status"] = status;
        }
    } else if write.resource.status_subresource {
        match old.get("status") {
            Some(status) => write.new["status"] = status.clone(),
            None => {
                if let Some(map) = write.new.as_object_mut() {
                    map.remove("status");
                }
            }
        }
    }
}

/// An object being deleted may lose finalizers but not gain any.
fn forbid_finalizers_while_deleting(write: &Write<'_>, old: &Value) -> Result<(), ApiError> {
    if meta_str(old, "deletionTimestamp").is_none() {
        return Ok(());
    }
    let before = finalizers(old);
    let added: Vec<String> = finalizers(&write.new)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        write.resource,
        &write.name,
        &[Cause {
            reason: "FieldValueForbidden".into(),
            message: format!(
                "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
            ),
            field: "metadata.finalizers".into(),
        }],
    ))
}

/// Prunes undeclared fields (per `fieldValidation`) and validates metadata and schema; returns
/// the warnings to send.
fn prune_and_validate(registry: &Registry, write: &mut Write<'_>) -> Result<Vec<String>, ApiError> {
    let resource = write.resource;
    let mut warnings = Vec::new();
    let mut causes = validation::metadata_causes(&write.new, resource.is_namespace());
    if let Some(crd) = registry.crd(resource) {
        let unknown = validation::prune_unknown_fields(&crd.schema, &mut write.new);
        match write.unknown_fields {
            UnknownFields::Strict if !unknown.is_empty() => {
                let message = format!(
                    "strict decoding error: {}",
                    unknown
                        .iter()
                        .map(|f| format!("unknown field \"{f}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Err(ApiError::bad_request(message));
            }
            UnknownFields::Warn => {
                warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")));
            }
            _ => {}
        }
        causes.extend(validation::schema_causes(crd, &write.new));
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(resource, &write.name, &causes));
    }
    Ok(warnings)
}

/// Writes managedFields: the entries apply computed, or an Update entry for this writer.
fn record_managed_fields(write: &mut Write<'_>) {
    let reset = reset_keys(write.resource, write.writer.subresource);
    let empty = json!({});
    let old_ref = write.old.as_ref().unwrap_or(&empty);
    let entries = match write.applied_entries.take() {
        Some(entries) => entries,
        None => {
            let sent = write.new.pointer("/metadata/managedFields");
            let base = match sent {
                // A client may replace managedFields (e.g. reset them with `[]`).
                Some(sent) if Some(sent) != old_ref.pointer("/metadata/managedFields") => {
                    managed_fields::read(&write.new)
                }
                _ => managed_fields::read(old_ref),
            };
            let strip = |v: &Value| {
                let mut v = v.clone();
                set_meta(&mut v, "managedFields", Value::Null);
                v
            };
            managed_fields::record_update(
                base,
                &strip(old_ref),
                &strip(&write.new),
                &write.writer,
                reset,
                &write.now,
            )
        }
    };
    managed_fields::write(&mut write.new, entries);
}

/// Stores a created object (unless dry-run); refuses a name already taken.
fn store_create(
    state: &mut State,
    mut write: Write<'_>,
    warnings: Vec<String>,
) -> Result<Written, ApiError> {
    let qualified = write.resource.qualified();
    let store_key = (write.namespace.clone(), write.name.clone());
    if state.get(&qualified, &store_key).is_some() {
        return Err(ApiError::already_exists(write.resource, &write.name));
    }
    if !write.dry_run {
        let rv = state.next_resource_version();
        set_meta(&mut write.new, "resourceVersion", json!(rv.to_string()));
        state.put(&qualified, store_key, write.new.clone(), rv);
    }
    Ok(Written {
        code: 201,
        object: write.new,
        warnings,
    })
}

/// Stores an updated object (unless dry-run or a no-op): the generation moves with the
/// content, and an object whose last finalizer is gone while deleting is removed.
fn store_update(
    state: &mut State,
    mut write: Write<'_>,
    old: Value,
    warnings: Vec<String>,
) -> Written {
    let resource = write.resource;
    let qualified = resource.qualified();
    let store_key = (write.namespace.clone(), write.name.clone());
    // The generation moves only when the content a controller acts on (not metadata, not a
    // subresource-managed status) changes.
    let content_keys: &[&str] = if resource.status_subresource {
        &["metadata", "status"]
    } else {
        &["metadata"]
    };
    if without(&old, content_keys) != without(&write.new, content_keys) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        set_meta(&mut write.new, "generation", json!(generation + 1));
    }
    let finished =
        meta_str(&write.new, "deletionTimestamp").is_some() && finalizers(&write.new).is_empty();
    if write.new == old && !finished {
        // No-op: nothing is written and the resourceVersion stays.
        return Written {
            code: 200,
            object: old,
            warnings,
        };
    }
    if !write.dry_run {
        let rv = state.next_resource_version();
        set_meta(&mut write.new, "resourceVersion", json!(rv.to_string()));
        if finished {
            // The last finalizer is gone: the object is deleted now.
            state.remove(&qualified, &store_key, write.new.clone(), rv);
        } else {
            state.put(&qualified, store_key, write.new.clone(), rv);
        }
    }
    Written {
        code: 200,
        object: write.new,
        warnings,
    }
}
