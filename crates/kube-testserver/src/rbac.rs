//! RBAC authorization as the API server's RBAC authorizer decides it: Roles and ClusterRoles
//! grant rules (API groups, resources with `resource/subresource` and `*/subresource`,
//! resourceNames, verbs, `*` everywhere), RoleBindings grant a Role or ClusterRole within their
//! namespace, ClusterRoleBindings a ClusterRole everywhere, to Users, Groups and
//! ServiceAccounts. `system:masters` may do anything. Refusals are `403 Forbidden` with the API
//! server's message. Non-resource paths follow the default bootstrap policy: `/version` and
//! the health paths for everyone, discovery and OpenAPI for every authenticated user
//! (ClusterRoles with `nonResourceURLs` are not consulted). ClusterRole aggregation is not
//! modelled.

use serde_json::Value;

use super::auth::{UserInfo, service_account_user};
use super::handlers::Request;
use super::routing::{Route, Target};
use super::status::ApiError;
use super::store::State;

pub const GROUP: &str = "rbac.authorization.k8s.io";

/// What a resource request asks to do.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub target: &'a Target,
}

/// The RBAC verb of a request: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`
/// or `deletecollection`.
pub fn verb(request: &Request) -> &'static str {
    let named = request.target.name.is_some();
    match (request.method.as_str(), named) {
        ("GET", _) if request.flag("watch") => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

/// Whether `user` may reach a non-resource route.
pub fn authorize_path(user: &UserInfo, route: &Route, path: &str) -> Result<(), ApiError> {
    let public = matches!(route, Route::Version | Route::Health);
    if public || user.is_authenticated() {
        Ok(())
    } else {
        Err(ApiError::forbidden_path(&user.name, "get", path))
    }
}

/// Allows the request or refuses it with the API server's `Forbidden`.
pub fn authorize(state: &State, user: &UserInfo, attributes: &Attributes) -> Result<(), ApiError> {
    if user.groups.iter().any(|g| g == "system:masters") || allowed(state, user, attributes) {
        return Ok(());
    }
    let target = attributes.target;
    let resource = match &target.subresource {
        Some(sub) => format!("{}/{sub}", target.resource.plural),
        None => target.resource.plural.clone(),
    };
    let scope = match &target.namespace {
        Some(namespace) => format!("in the namespace {namespace:?}"),
        None => "at the cluster scope".to_owned(),
    };
    let why = format!(
        "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
        user.name, attributes.verb, target.resource.group
    );
    Err(ApiError::forbidden_request(
        &target.resource,
        target.name.as_deref(),
        &why,
    ))
}

fn allowed(state: &State, user: &UserInfo, attributes: &Attributes) -> bool {
    let cluster_wide = state
        .list(&qualified("clusterrolebindings"))
        .any(|(_, binding)| {
            binds(binding, user, "")
                && role_rules(state, binding, "").any(|rule| matches(rule, attributes))
        });
    if cluster_wide {
        return true;
    }
    let Some(namespace) = &attributes.target.namespace else {
        return false;
    };
    state
        .list(&qualified("rolebindings"))
        .filter(|((ns, _), _)| ns == namespace)
        .any(|(_, binding)| {
            binds(binding, user, namespace)
                && role_rules(state, binding, namespace).any(|rule| matches(rule, attributes))
        })
}

fn qualified(plural: &str) -> String {
    format!("{plural}.{GROUP}")
}

/// Whether a binding (in `namespace`, "" for a ClusterRoleBinding) names the user.
fn binds(binding: &Value, user: &UserInfo, namespace: &str) -> bool {
    binding["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|subject| {
            let name = subject["name"].as_str().unwrap_or_default();
            match subject["kind"].as_str() {
                Some("User") => user.name == name,
                Some("Group") => user.groups.iter().any(|g| g == name),
                Some("ServiceAccount") => {
                    let ns = subject["namespace"].as_str().unwrap_or(namespace);
                    user.name == service_account_user(ns, name)
                }
                _ => false,
            }
        })
}

/// The rules of the role a binding refers to (a missing role grants nothing).
fn role_rules<'a>(
    state: &'a State,
    binding: &Value,
    namespace: &str,
) -> impl Iterator<Item = &'a Value> + 'a {
    let name = binding["roleRef"]["name"].as_str().unwrap_or_default();
    let role = match binding["roleRef"]["kind"].as_str() {
        Some("ClusterRole") => state.get(
            &qualified("clusterroles"),
            &(String::new(), name.to_owned()),
        ),
        Some("Role") if !namespace.is_empty() => state.get(
            &qualified("roles"),
            &(namespace.to_owned(), name.to_owned()),
        ),
        _ => None,
    };
    role.and_then(|r| r["rules"].as_array())
        .into_iter()
        .flatten()
}

fn strings<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a str> + 'a {
    value[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Whether one rule allows the request.
fn matches(rule: &Value, attributes: &Attributes) -> bool {
    let target = attributes.target;
    let any_or = |key: &str, wanted: &str| strings(rule, key).any(|s| s == "*" || s == wanted);
    let resource_matches = match &target.subresource {
        None => any_or("resources", &target.resource.plural),
        Some(sub) => {
            let combined = format!("{}/{sub}", target.resource.plural);
            strings(rule, "resources").any(|s| s == "*" || s == combined || s == format!("*/{sub}"))
        }
    };
    let names_match = match strings(rule, "resourceNames").collect::<Vec<_>>() {
        names if names.is_empty() => true,
        names => target
            .name
            .as_deref()
            .is_some_and(|name| names.contains(&name)),
    };
    any_or("verbs", attributes.verb)
        && any_or("apiGroups", &target.resource.group)
        && resource_matches
        && names_match
}
