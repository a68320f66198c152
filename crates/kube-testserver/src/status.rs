//! Kubernetes `Status` errors: every failure the test server reports is a `metav1.Status` with
//! the HTTP code and `reason` the real API server uses, so clients (kube-rs `ErrorResponse`,
//! kubectl's messages) behave exactly as against a real cluster.

use serde_json::{Value, json};

use super::resources::Resource;

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// A failed request, rendered as a `Status` object.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `404 NotFound` for a path the server does not serve at all.
    pub fn unknown_path() -> Self {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn not_found(resource: &Resource, name: &str) -> Self {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", resource.qualified()),
        )
        .with_details(resource.details(name))
    }

    pub fn already_exists(resource: &Resource, name: &str) -> Self {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", resource.qualified()),
        )
        .with_details(resource.details(name))
    }

    /// `409 Conflict` for an update or delete whose precondition (resourceVersion, uid) fails.
    pub fn conflict(resource: &Resource, name: &str, why: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                resource.qualified()
            ),
        )
        .with_details(resource.details(name))
    }

    /// The message of a stale `resourceVersion`, as the real server words it.
    pub const MODIFIED: &'static str = "the object has been modified; please apply your changes to the latest version and try again";

    /// `409 Conflict` for server-side apply field-manager conflicts, with one cause per field.
    /// `conflicts` holds (manager as the apiserver prints it, field path) pairs.
    pub fn apply_conflicts(
        resource: &Resource,
        name: &str,
        conflicts: &[(String, String)],
    ) -> Self {
        let message = if let [(manager, field)] = conflicts {
            format!("Apply failed with 1 conflict: conflict with {manager}: {field}")
        } else {
            // Grouped by manager, managers in lexical order, fields in the order found.
            let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
            managers.sort();
            managers.dedup();
            let mut lines = Vec::new();
            for manager in managers {
                lines.push(format!("conflicts with {manager}:"));
                lines.extend(
                    conflicts
                        .iter()
                        .filter(|(m, _)| m == manager)
                        .map(|(_, field)| format!("- {field}")),
                );
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        };
        let causes: Vec<Cause> = conflicts
            .iter()
            .map(|(manager, field)| Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {manager}"),
                field: field.clone(),
            })
            .collect();
        let mut details = resource.details(name);
        details["causes"] = causes_json(&causes);
        ApiError::new(409, "Conflict", message).with_details(details)
    }

    /// `422 Invalid` with one cause per field, worded like the apiserver's field errors.
    pub fn invalid(resource: &Resource, name: &str, causes: &[Cause]) -> Self {
        let listed: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = if let [only] = listed.as_slice() {
            only.clone()
        } else {
            format!("[{}]", listed.join(", "))
        };
        let mut details = json!({"name": name, "group": resource.group, "kind": resource.kind});
        details["causes"] = causes_json(causes);
        ApiError::new(
            422,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {summary}",
                resource.kind_qualified()
            ),
        )
        .with_details(details)
    }

    /// `422 Invalid` without field causes (what a failing JSON patch gets).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(422, "Invalid", message)
    }

    /// `403 Forbidden` for what the server never allows (deleting `default`).
    pub fn forbidden(resource: &Resource, name: &str, why: &str) -> Self {
        ApiError::new(
            403,
            "Forbidden",
            format!("{} \"{name}\" is forbidden: {why}", resource.qualified()),
        )
        .with_details(resource.details(name))
    }

    /// `403 Forbidden` from authorization: `{resource} "{name}" is forbidden: {why}`, or
    /// `{resource} is forbidden: {why}` for a request without a name (list, create).
    pub fn forbidden_request(resource: &Resource, name: Option<&str>, why: &str) -> Self {
        let message = match name {
            Some(name) => format!("{} \"{name}\" is forbidden: {why}", resource.qualified()),
            None => format!("{} is forbidden: {why}", resource.qualified()),
        };
        ApiError::new(403, "Forbidden", message).with_details(resource.details(name.unwrap_or("")))
    }

    /// `403 Forbidden` for a non-resource path.
    pub fn forbidden_path(user: &str, verb: &str, path: &str) -> Self {
        ApiError::new(
            403,
            "Forbidden",
            format!("forbidden: User {user:?} cannot {verb} path {path:?}"),
        )
        .with_details(json!({}))
    }

    /// `401 Unauthorized`: a token no authenticator accepts.
    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
        .with_details(json!({"causes": [{"reason": "UnexpectedHeader", "message": format!("the media type {content_type:?} is not supported"), "field": "Content-Type"}]}))
    }

    /// `410 Expired` for a watch or list from a resourceVersion older than the kept history.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        ApiError::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// An admission webhook's denial, with the code and reason it gave.
    pub fn admission_denied(code: u16, reason: &'static str, message: String) -> Self {
        ApiError::new(code, reason, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, "InternalError", message)
    }

    /// A 500 with no reason: what the apiserver makes of a plain (non-Status) Go error.
    pub fn internal_without_reason(message: impl Into<String>) -> Self {
        ApiError::new(500, "", message)
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if self.reason.is_empty()
            && let Some(map) = status.as_object_mut()
        {
            map.remove("reason");
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switches() -> Resource {
        Resource {
            group: "wiring.githedgehog.com".into(),
            version: "v1beta1".into(),
            plural: "switches".into(),
            singular: "switch".into(),
            kind: "Switch".into(),
            list_kind: "SwitchList".into(),
            namespaced: true,
            status_subresource: true,
            short_names: vec![],
            categories: vec![],
            printer_columns: vec![],
            crd: Some(0),
            read_only: false,
        }
    }

    #[test]
    fn several_apply_conflicts_are_grouped_by_manager_like_the_apiserver() {
        let conflicts = [
            ("\"b\"".to_string(), ".spec.x".to_string()),
            ("\"a\"".to_string(), ".spec.y".to_string()),
            ("\"b\"".to_string(), ".spec.z".to_string()),
        ];
        let error = ApiError::apply_conflicts(&switches(), "leaf", &conflicts);
        assert_eq!(
            error.message,
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .spec.y\nconflicts with \"b\":\n- .spec.x\n- .spec.z"
        );
        let status = error.to_status();
        assert_eq!(
            status["details"]["causes"][0]["message"],
            "conflict with \"b\""
        );
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldManagerConflict"
        );
    }

    #[test]
    fn invalid_lists_several_causes_in_brackets() {
        let cause = |field: &str| Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value".into(),
            field: field.into(),
        };
        let one = ApiError::invalid(&switches(), "leaf", &[cause("spec.role")]);
        assert_eq!(
            one.message,
            "Switch.wiring.githedgehog.com \"leaf\" is invalid: spec.role: Required value"
        );
        let two = ApiError::invalid(&switches(), "leaf", &[cause("spec.a"), cause("spec.b")]);
        assert_eq!(
            two.message,
            "Switch.wiring.githedgehog.com \"leaf\" is invalid: [spec.a: Required value, spec.b: Required value]"
        );
    }
}
