//! Admission webhooks, as the API server calls them: the stored Mutating- and
//! ValidatingWebhookConfigurations whose rules match a request's group, version, resource and
//! operation are called with an AdmissionReview v1; a mutating webhook's JSONPatch is applied
//! before the object is validated, and a denial is reported in the API server's words.
//!
//! Webhooks are called without the store's lock held (a webhook may read the cluster back).
//! `clientConfig.url` may be `https` (trusting `caBundle`) or, as a test-server extension, `http`;
//! `clientConfig.service` is not supported (there is no service network).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::resources::{ADMISSION_GROUP, Resource};
use crate::status::ApiError;
use std::sync::MutexGuard;

use crate::store::{ObjectName, State, Store};

/// The API server's default and maximum webhook timeouts.
const DEFAULT_TIMEOUT_SECS: u64 = 10;
const MAX_TIMEOUT_SECS: u64 = 30;

/// One webhook of a configuration.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub mutating: bool,
    config: Value,
}

/// What is being admitted.
pub struct Review<'a> {
    pub resource: &'a Resource,
    pub operation: &'static str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub object: Option<&'a Value>,
    pub old_object: Option<&'a Value>,
    pub dry_run: bool,
}

/// The webhooks matching `resource` and `operation`: mutating first, each kind in the order of
/// configuration names and then of the webhooks within them, as the API server orders them.
pub fn matching(state: &State, resource: &Resource, operation: &str) -> Vec<Hook> {
    if resource.group == ADMISSION_GROUP {
        // The API server never calls webhooks for webhook configurations.
        return Vec::new();
    }
    let mut hooks = Vec::new();
    for (plural, mutating) in [
        ("mutatingwebhookconfigurations", true),
        ("validatingwebhookconfigurations", false),
    ] {
        let qualified = format!("{plural}.{ADMISSION_GROUP}");
        let mut configs: Vec<&Value> = state.list(&qualified).map(|(_, v)| v).collect();
        configs.sort_by_key(|c| {
            c.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        for config in configs {
            let webhooks = config.get("webhooks").and_then(Value::as_array);
            for webhook in webhooks.into_iter().flatten() {
                if rules_match(webhook, resource, operation) {
                    hooks.push(Hook {
                        name: text(webhook, "/name").to_owned(),
                        mutating,
                        config: webhook.clone(),
                    });
                }
            }
        }
    }
    hooks
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn rules_match(webhook: &Value, resource: &Resource, operation: &str) -> bool {
    let listed = |rule: &Value, key: &str, wanted: &str| {
        rule.get(key)
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(|i| i == "*" || i == wanted))
    };
    let rules = webhook.get("rules").and_then(Value::as_array);
    rules.into_iter().flatten().any(|rule| {
        listed(rule, "apiGroups", &resource.group)
            && listed(rule, "apiVersions", &resource.version)
            && listed(rule, "resources", &resource.plural)
            && listed(rule, "operations", operation)
    })
}

/// Runs the `mutating` (or validating) webhooks of `hooks` on the review in turn; returns the
/// object as the mutating webhooks left it.
pub fn run(hooks: &[Hook], mutating: bool, review: &Review<'_>) -> Result<Option<Value>, ApiError> {
    let mut object = review.object.cloned();
    for hook in hooks.iter().filter(|h| h.mutating == mutating) {
        let side_effects = text(&hook.config, "/sideEffects");
        if review.dry_run && !matches!(side_effects, "None" | "NoneOnDryRun") {
            return Err(ApiError::bad_request(format!(
                "admission webhook \"{}\" does not support dry run",
                hook.name
            )));
        }
        let current = Review {
            object: object.as_ref(),
            ..*review
        };
        let response = match call(hook, &current) {
            Ok(response) => response,
            Err(why) if text(&hook.config, "/failurePolicy") == "Ignore" => {
                tracing::warn!(webhook = %hook.name, error = %why, "admission webhook failed; ignored");
                continue;
            }
            Err(why) => {
                return Err(ApiError::internal(format!(
                    "Internal error occurred: failed calling webhook \"{}\": {why}",
                    hook.name
                )));
            }
        };
        if !response
            .get("allowed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Err(denied(&hook.name, &response));
        }
        if let (Some(patch), Some(target)) = (
            response.get("patch").and_then(Value::as_str),
            object.as_mut(),
        ) {
            apply_patch(&hook.name, patch, target)?;
        }
    }
    Ok(object)
}

/// A denial as the API server reports it: the webhook's code (400 when it gives none) and reason.
fn denied(name: &str, response: &Value) -> ApiError {
    let status = response.get("status").cloned().unwrap_or_default();
    let message = text(&status, "/message");
    let code = status
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(400);
    let reason = match text(&status, "/reason") {
        "Forbidden" => "Forbidden",
        "Invalid" => "Invalid",
        "BadRequest" => "BadRequest",
        "Conflict" => "Conflict",
        "NotFound" => "NotFound",
        "AlreadyExists" => "AlreadyExists",
        "InternalError" => "InternalError",
        _ => "",
    };
    let message = if message.is_empty() {
        format!("admission webhook \"{name}\" denied the request without explanation")
    } else {
        format!("admission webhook \"{name}\" denied the request: {message}")
    };
    ApiError::admission_denied(code, reason, message)
}

fn apply_patch(name: &str, patch: &str, target: &mut Value) -> Result<(), ApiError> {
    let failed = |why: String| {
        ApiError::internal(format!(
            "Internal error occurred: failed calling webhook \"{name}\": {why}"
        ))
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .map_err(|e| failed(format!("the patch is not base64: {e}")))?;
    let operations: json_patch::Patch = serde_json::from_slice(&raw)
        .map_err(|e| failed(format!("the patch is not a JSONPatch: {e}")))?;
    json_patch::patch(target, &operations).map_err(|e| failed(e.to_string()))
}

/// An object's `metadata.resourceVersion`.
pub fn resource_version(object: &Value) -> String {
    text(object, "/metadata/resourceVersion").to_owned()
}

/// Fails with 409 when the object changed (or appeared, or went) while its webhooks ran.
pub fn unchanged(
    state: &State,
    resource: &Resource,
    key: &ObjectName,
    live_version: Option<&str>,
) -> Result<(), ApiError> {
    let now = state.get(&resource.qualified(), key).map(resource_version);
    if now.as_deref() == live_version {
        return Ok(());
    }
    Err(ApiError::conflict(
        resource,
        &key.1,
        "the object has been modified; please apply your changes to the latest version and try again",
    ))
}

/// Runs the validating webhooks for deleting the live object `key`, without the lock; returns
/// the lock again, the object unchanged meanwhile.
pub fn admit_delete<'a>(
    store: &'a Store,
    state: MutexGuard<'a, State>,
    resource: &Resource,
    key: &ObjectName,
    dry_run: bool,
) -> Result<MutexGuard<'a, State>, ApiError> {
    let hooks = matching(&state, resource, "DELETE");
    let Some(live) = state.get(&resource.qualified(), key).cloned() else {
        return Ok(state);
    };
    if hooks.is_empty() {
        return Ok(state);
    }
    drop(state);
    let review = Review {
        resource,
        operation: "DELETE",
        namespace: &key.0,
        name: &key.1,
        object: None,
        old_object: Some(&live),
        dry_run,
    };
    run(&hooks, false, &review)?;
    let state = store.lock();
    unchanged(&state, resource, key, Some(&resource_version(&live)))?;
    Ok(state)
}

/// POSTs the AdmissionReview to the webhook and returns its `response`. The blocking client
/// runs on a thread of its own: handlers run on the HTTP server's async workers.
fn call(hook: &Hook, review: &Review<'_>) -> Result<Value, String> {
    let (config, body) = (
        hook.config.clone(),
        request_body(&uuid::Uuid::new_v4().to_string(), review),
    );
    std::thread::spawn(move || post(&config, &body))
        .join()
        .unwrap_or_else(|_| Err("the webhook client panicked".into()))
}

fn post(config: &Value, body: &Value) -> Result<Value, String> {
    let url = text(config, "/clientConfig/url");
    if url.is_empty() {
        return Err("only clientConfig.url is supported".into());
    }
    let timeout = config
        .get("timeoutSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_TIMEOUT_SECS)
        .clamp(1, MAX_TIMEOUT_SECS);
    let client = client(timeout, text(config, "/clientConfig/caBundle"))?;
    let uid = text(body, "/request/uid");
    let response: Value = client
        .post(url)
        .json(body)
        .send()
        .and_then(reqwest::blocking::Response::error_for_status)
        .and_then(reqwest::blocking::Response::json)
        .map_err(|e| e.to_string())?;
    let answer = response
        .get("response")
        .cloned()
        .ok_or("no response in the AdmissionReview")?;
    if text(&answer, "/uid") != uid {
        return Err("the response's uid is not the request's".into());
    }
    Ok(answer)
}

/// The HTTP client for webhooks with `timeout` trusting `bundle`: made once per pair and kept
/// (a blocking client runs a thread of its own; making one per call costs more than the call).
fn client(timeout: u64, bundle: &str) -> Result<reqwest::blocking::Client, String> {
    type Clients = Mutex<HashMap<(u64, String), reqwest::blocking::Client>>;
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Clients::default);
    let key = (timeout, bundle.to_owned());
    if let Some(client) = clients.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(client);
    }
    // No idle connections kept: webhook servers come and go with the tests, and a port freed by
    // one may be taken by the next, so a kept connection could point at a process that is gone.
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(timeout))
        .pool_max_idle_per_host(0);
    if !bundle.is_empty() {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(bundle)
            .map_err(|e| format!("caBundle is not base64: {e}"))?;
        let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("caBundle: {e}"))?;
        builder = builder.add_root_certificate(ca);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    if let Ok(mut clients) = clients.lock() {
        clients.insert(key, client.clone());
    }
    Ok(client)
}

fn request_body(uid: &str, review: &Review<'_>) -> Value {
    let r = review.resource;
    let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let resource = json!({"group": r.group, "version": r.version, "resource": r.plural});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": kind, "resource": resource,
            "requestKind": kind, "requestResource": resource,
            "name": review.name,
            "namespace": review.namespace,
            "operation": review.operation,
            "userInfo": {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]},
            "object": review.object.cloned().unwrap_or(Value::Null),
            "oldObject": review.old_object.cloned().unwrap_or(Value::Null),
            "dryRun": review.dry_run,
        },
    })
}
