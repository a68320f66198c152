//! Writes: create (POST), update (PUT), and PATCH as JSON merge patch, JSON patch or
//! server-side apply. Each verb builds the candidate object, then hands it to the strategy.

use serde_json::{Value, json};

use super::{Reply, Request, object_key, require_namespace};
use std::sync::MutexGuard;

use crate::admission::{self, Review};
use crate::apply;
use crate::managed_fields::{self, Writer};
use crate::rbac;
use crate::server::ApiServer;
use crate::status::{ApiError, Cause};
use crate::store::State;
use crate::strategy::{self, UnknownFields, Write};
use crate::validation;

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The media type without parameters (`application/json; charset=utf-8` → `application/json`).
fn media_type(request: &Request) -> String {
    request
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Decodes a POST/PUT body (JSON or YAML).
fn decode_object(request: &Request) -> Result<Value, ApiError> {
    let media = media_type(request);
    let value: Value = match media.as_str() {
        "application/json" | "" => serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))?,
        "application/yaml" => serde_yaml_ng::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?,
        other => {
            return Err(ApiError::unsupported_media_type(
                other,
                &["application/json", "application/yaml"],
            ));
        }
    };
    if !value.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    Ok(value)
}

/// Checks the body's apiVersion and kind against the endpoint, as the decoder does.
fn check_type(request: &Request, object: &Value) -> Result<(), ApiError> {
    let resource = &request.target.resource;
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{object}'"
        )));
    }
    if api_version.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Object 'apiVersion' is missing in '{object}'"
        )));
    }
    if api_version != resource.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            resource.api_version()
        )));
    }
    if kind != resource.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            resource.kind
        )));
    }
    Ok(())
}

/// Checks that the body names the same namespace (and object, for item URLs) as the URL.
fn check_identity(request: &Request, object: &Value) -> Result<(), ApiError> {
    let body_ns = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    if let (Some(url_ns), Some(body_ns)) = (&request.target.namespace, body_ns)
        && !body_ns.is_empty()
        && body_ns != url_ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if let Some(url_name) = &request.target.name {
        let body_name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if body_name != url_name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
            )));
        }
    }
    Ok(())
}

fn writer(request: &Request, operation: &'static str) -> Result<Writer, ApiError> {
    let manager = match request.param("fieldManager") {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ if operation == "Apply" => {
            return Err(ApiError::bad_request(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
            ));
        }
        _ => managed_fields::default_manager(request.user_agent.as_deref()),
    };
    if manager.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "fieldManager: Too long: may not be more than 128 bytes",
        ));
    }
    Ok(Writer {
        manager,
        operation,
        subresource: if request.target.subresource.is_some() {
            "status"
        } else {
            ""
        },
        api_version: request.target.resource.api_version(),
    })
}

fn reply(written: strategy::Written) -> Reply {
    Reply::Json {
        code: written.code,
        body: written.object,
        warnings: written.warnings,
    }
}

/// Commits a candidate object: at once when no admission webhook applies; otherwise in three
/// steps, none holding the store's lock while a webhook is called: mutating webhooks, then the
/// strategy as a dry run (schema checks on the mutated object) and the validating webhooks on its
/// result, then the strategy for real, provided the live object has not changed meanwhile.
#[allow(clippy::too_many_arguments)]
fn commit(
    server: &ApiServer,
    mut state: MutexGuard<'_, State>,
    request: &Request,
    name: String,
    old: Option<Value>,
    new: Value,
    writer: Writer,
    applied_entries: Option<Vec<managed_fields::Entry>>,
) -> Result<Reply, ApiError> {
    let resource = &request.target.resource;
    let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
    let hooks = match request.target.subresource {
        Some(_) => Vec::new(),
        None => admission::matching(&state, resource, operation),
    };
    let mut write = Write {
        resource,
        namespace: request.namespace(),
        name,
        old,
        new,
        writer,
        applied_entries,
        unknown_fields: UnknownFields::parse(request.param("fieldValidation"))?,
        dry_run: request.dry_run()?,
        now: now(),
    };
    if hooks.is_empty() {
        return strategy::commit(&mut state, &server.registry, write).map(reply);
    }
    let live_version = write.old.as_ref().map(admission::resource_version);
    drop(state);
    let review = Review {
        resource,
        operation,
        namespace: &write.namespace,
        name: &write.name,
        object: Some(&write.new),
        old_object: write.old.as_ref(),
        dry_run: write.dry_run,
    };
    let mutated = admission::run(&hooks, true, &review)?.unwrap_or_default();
    write.new = mutated;
    let mut state = server.store.lock();
    let key = (write.namespace.clone(), write.name.clone());
    admission::unchanged(&state, resource, &key, live_version.as_deref())?;
    let candidate = strategy::commit(&mut state, &server.registry, write.dry_run_copy())?;
    drop(state);
    let review = Review {
        object: Some(&candidate.object),
        ..review_of(&write, operation)
    };
    admission::run(&hooks, false, &review)?;
    let mut state = server.store.lock();
    admission::unchanged(&state, resource, &key, live_version.as_deref())?;
    strategy::commit(&mut state, &server.registry, write).map(reply)
}

fn review_of<'a>(write: &'a Write<'a>, operation: &'static str) -> Review<'a> {
    Review {
        resource: write.resource,
        operation,
        namespace: &write.namespace,
        name: &write.name,
        object: None,
        old_object: write.old.as_ref(),
        dry_run: write.dry_run,
    }
}

/// The live object, or 404.
fn live(state: &State, request: &Request) -> Result<Value, ApiError> {
    let resource = &request.target.resource;
    state
        .get(&resource.qualified(), &object_key(request))
        .cloned()
        .ok_or_else(|| ApiError::not_found(resource, request.target.name.as_deref().unwrap_or("")))
}

pub fn create(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let object = decode_object(request)?;
    check_type(request, &object)?;
    check_identity(request, &object)?;
    request.dry_run()?;
    let state = server.store.lock();
    require_namespace(server, &state, request)?;
    let resource = &request.target.resource;
    let mut name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        let prefix = object
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                resource,
                "",
                &[Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value: name or generateName is required".into(),
                    field: "metadata.name".into(),
                }],
            ));
        }
        name = format!("{prefix}{}", random_suffix());
    }
    let writer = writer(request, "Update")?;
    commit(server, state, request, name, None, object, writer, None)
}

/// Five characters from the alphabet the apiserver uses for `generateName`.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub fn update(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let object = decode_object(request)?;
    check_type(request, &object)?;
    check_identity(request, &object)?;
    let state = server.store.lock();
    let old = live(&state, request)?;
    commit_update(server, state, request, old, object)
}

/// Commits an Update (PUT or non-apply PATCH) of the live object `old`.
fn commit_update(
    server: &ApiServer,
    state: MutexGuard<'_, State>,
    request: &Request,
    old: Value,
    new: Value,
) -> Result<Reply, ApiError> {
    let writer = writer(request, "Update")?;
    let name = request.target.name.clone().unwrap_or_default();
    commit(server, state, request, name, Some(old), new, writer, None)
}

pub fn patch(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let media = media_type(request);
    let is_core = request.target.resource.crd.is_none();
    if media != APPLY && request.param("force").is_some() {
        return Err(ApiError::bad_request(
            "force: Invalid value: true: may not be specified for non-apply patch",
        ));
    }
    match media.as_str() {
        APPLY => return server_side_apply(server, request),
        MERGE | JSON_PATCH => {}
        STRATEGIC if is_core => {}
        other => {
            return Err(ApiError::unsupported_media_type(
                other,
                &[JSON_PATCH, MERGE, APPLY],
            ));
        }
    }
    let patch: Value = serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let state = server.store.lock();
    let old = live(&state, request)?;
    let mut new = old.clone();
    if media == JSON_PATCH {
        let operations: json_patch::Patch = serde_json::from_value(patch)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON patch: {e}")))?;
        json_patch::patch(&mut new, &operations)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    } else {
        if !patch.is_object() {
            return Err(ApiError::bad_request("a merge patch must be a JSON object"));
        }
        json_patch::merge(&mut new, &patch);
    }
    check_type(request, &new)?;
    check_identity(request, &new)?;
    commit_update(server, state, request, old, new)
}

/// An applied configuration with fields the schema does not declare cannot be typed: the
/// apiserver fails such applies whatever `fieldValidation` says, with a plain error it turns
/// into a 500 without reason (kubernetes/kubernetes#122480, #139253). Faithful, so clients
/// must cope with it.
fn reject_undeclared_fields(
    server: &ApiServer,
    request: &Request,
    config: &Value,
) -> Result<(), ApiError> {
    let Some(crd) = server.registry.crd(&request.target.resource) else {
        return Ok(());
    };
    let unknown = validation::prune_unknown_fields(&crd.schema, &mut config.clone());
    if unknown.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = unknown
        .iter()
        .map(|f| format!(".{f}: field not declared in schema"))
        .collect();
    let detail = if let [only] = errors.as_slice() {
        only.clone()
    } else {
        format!("errors:\n  {}", errors.join("\n  "))
    };
    let resource = &request.target.resource;
    Err(ApiError::internal_without_reason(format!(
        "failed to create typed patch object ({}/{}; {}, Kind={}): {detail}",
        request.namespace(),
        request.target.name.as_deref().unwrap_or(""),
        resource.api_version(),
        resource.kind
    )))
}

fn server_side_apply(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let writer = writer(request, "Apply")?;
    let config: Value = serde_yaml_ng::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "the applied configuration must be an object",
        ));
    }
    check_type(request, &config)?;
    check_identity(request, &config)?;
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    reject_undeclared_fields(server, request, &config)?;
    let force = request.flag("force");
    let resource = &request.target.resource;
    let name = request.target.name.clone().unwrap_or_default();
    let state = server.store.lock();
    let old = match live(&state, request) {
        Ok(old) => Some(old),
        Err(missing) if request.target.subresource.is_some() => return Err(missing),
        Err(_) => {
            require_namespace(server, &state, request)?;
            // An apply that creates the object needs `create` besides `patch`.
            if let Some(user) = &request.user {
                let create = rbac::Attributes {
                    verb: "create",
                    target: &request.target,
                };
                rbac::authorize(&state, user, &create)?;
            }
            None
        }
    };
    let base = old.clone().unwrap_or_else(|| json!({}));
    let reset = strategy::reset_keys(resource, writer.subresource);
    let applied = apply::apply(
        &base,
        managed_fields::read(&base),
        &config,
        &writer,
        force,
        reset,
        &now(),
    )
    .map_err(|conflicts| ApiError::apply_conflicts(resource, &name, &conflicts))?;
    commit(
        server,
        state,
        request,
        name,
        old,
        applied.object,
        writer,
        Some(applied.entries),
    )
}
