//! Deletes: preconditions (uid, resourceVersion), finalizers (the object stays, with a
//! deletionTimestamp, until its last finalizer is removed), dry-run, and deletecollection.

use serde_json::{Value, json};

use super::now;
use super::read::Filter;
use super::{Reply, Request, object_key};
use crate::resources::Resource;
use crate::server::ApiServer;
use crate::status::ApiError;
use crate::store::{ObjectName, State};

/// The parts of a `DeleteOptions` body the server honours.
struct Options {
    uid: Option<String>,
    resource_version: Option<String>,
    dry_run: bool,
}

fn options(request: &Request) -> Result<Options, ApiError> {
    let body: Value = if request.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let body_dry_run = match body.get("dryRun").and_then(Value::as_array) {
        None => false,
        Some(values) if values.iter().all(|v| v == "All") => !values.is_empty(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid dryRun value: supported values: \"All\"",
            ));
        }
    };
    Ok(Options {
        uid: text("/preconditions/uid"),
        resource_version: text("/preconditions/resourceVersion"),
        dry_run: request.dry_run()? || body_dry_run,
    })
}

fn meta<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Deletes (or marks for deletion) one object; `true` when it is gone.
fn delete_one(
    state: &mut State,
    resource: &Resource,
    key: &ObjectName,
    options: &Options,
) -> Result<(bool, Value), ApiError> {
    let qualified = resource.qualified();
    let name = key.1.as_str();
    let live = state
        .get(&qualified, key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(resource, name))?;
    if let Some(uid) = &options.uid
        && uid != meta(&live, "uid")
    {
        let why = format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta(&live, "uid")
        );
        return Err(ApiError::conflict(resource, name, &why));
    }
    if let Some(rv) = &options.resource_version
        && rv != meta(&live, "resourceVersion")
    {
        let why = format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            meta(&live, "resourceVersion")
        );
        return Err(ApiError::conflict(resource, name, &why));
    }
    let has_finalizers = live
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if !meta(&live, "deletionTimestamp").is_empty() {
            return Ok((false, live));
        }
        let mut marked = live.clone();
        let generation = live
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        marked["metadata"]["deletionTimestamp"] = json!(now());
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        marked["metadata"]["generation"] = json!(generation + 1);
        if !options.dry_run {
            let rv = state.next_resource_version();
            marked["metadata"]["resourceVersion"] = json!(rv.to_string());
            state.put(&qualified, key.clone(), marked.clone(), rv);
        }
        return Ok((false, marked));
    }
    let mut gone = live;
    if !options.dry_run {
        let rv = state.next_resource_version();
        gone["metadata"]["resourceVersion"] = json!(rv.to_string());
        state.remove(&qualified, key, gone.clone(), rv);
    }
    Ok((true, gone))
}

pub fn delete(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let resource = &request.target.resource;
    let options = options(request)?;
    let key = object_key(request);
    if resource.is_namespace() && key.1 == "default" {
        return Err(ApiError::forbidden(
            resource,
            "default",
            "this namespace may not be deleted",
        ));
    }
    let state = server.store.lock();
    let mut state =
        crate::admission::admit_delete(&server.store, state, resource, &key, options.dry_run)?;
    if resource.is_namespace() && !options.dry_run {
        // No namespace controller: the namespace's objects go with it at once.
        for other in server.registry.resources.iter().filter(|r| r.namespaced) {
            let keys: Vec<ObjectName> = state
                .list(&other.qualified())
                .filter(|((ns, _), _)| *ns == key.1)
                .map(|(k, _)| k.clone())
                .collect();
            for object_key in keys {
                let mut gone = state
                    .get(&other.qualified(), &object_key)
                    .cloned()
                    .unwrap_or_default();
                let rv = state.next_resource_version();
                gone["metadata"]["resourceVersion"] = json!(rv.to_string());
                state.remove(&other.qualified(), &object_key, gone, rv);
            }
        }
    }
    let (deleted, object) = delete_one(&mut state, resource, &key, &options)?;
    Ok(Reply::Json {
        code: if deleted { 200 } else { 202 },
        body: object,
        warnings: vec![],
    })
}

pub fn delete_collection(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let resource = &request.target.resource;
    if resource.is_namespace() {
        return Err(ApiError::method_not_allowed());
    }
    let options = options(request)?;
    let filter = Filter::from_request(request)?;
    let mut state = server.store.lock();
    let keys: Vec<ObjectName> = state
        .list(&resource.qualified())
        .filter(|(_, object)| filter.matches(object))
        .map(|(k, _)| k.clone())
        .collect();
    let mut items = Vec::new();
    for key in keys {
        items.push(delete_one(&mut state, resource, &key, &options)?.1);
    }
    Ok(Reply::Json {
        code: 200,
        body: json!({
            "apiVersion": resource.api_version(),
            "kind": resource.list_kind,
            "metadata": {"resourceVersion": state.resource_version().to_string()},
            "items": items,
        }),
        warnings: vec![],
    })
}
