//! URL paths of the Kubernetes API, parsed into what they address.

use std::sync::Arc;

use super::resources::{Registry, Resource};
use super::status::ApiError;

#[derive(Debug)]
pub enum Route {
    Version,
    Health,
    /// `/api`
    CoreVersions,
    /// `/api/v1`
    CoreResources,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/apis/{group}/{version}`
    GroupResources(String, String),
    OpenApiV2,
    OpenApiV3,
    /// `/openapi/v3/apis/{group}/{version}` (or `/openapi/v3/api/v1`)
    OpenApiV3GroupVersion(String, String),
    Resource(Target),
}

/// A resource collection or one object, possibly a subresource of it.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: Arc<Resource>,
    /// The namespace in the URL; `None` for cluster-scoped types and all-namespace requests.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

pub fn route(registry: &Registry, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let resource = |group: &str, version: &str, rest: &[&str]| -> Result<Route, ApiError> {
        let (namespace, rest) = match rest {
            ["namespaces", ns, plural, tail @ ..]
                if !(group.is_empty() && tail.is_empty() && *plural == "status") =>
            {
                (Some(ns.to_string()), [&[*plural], tail].concat())
            }
            _ => (None, rest.to_vec()),
        };
        let (plural, name, subresource) = match rest.as_slice() {
            [plural] => (*plural, None, None),
            [plural, name] => (*plural, Some(name.to_string()), None),
            [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
            _ => return Err(ApiError::unknown_path()),
        };
        let resource = registry
            .find(group, version, plural)
            .ok_or_else(ApiError::unknown_path)?;
        if namespace.is_some() != resource.namespaced && (namespace.is_some() || name.is_some()) {
            return Err(ApiError::unknown_path());
        }
        if let Some(sub) = &subresource
            && !(sub == "status" && resource.status_subresource)
        {
            return Err(ApiError::unknown_path());
        }
        Ok(Route::Resource(Target {
            resource,
            namespace,
            name,
            subresource,
        }))
    };
    match segments.as_slice() {
        ["version"] => Ok(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => Ok(Route::Health),
        ["api"] => Ok(Route::CoreVersions),
        ["api", "v1"] => Ok(Route::CoreResources),
        ["api", "v1", rest @ ..] => resource("", "v1", rest),
        ["apis"] => Ok(Route::Groups),
        ["apis", group] if registry.groups().iter().any(|(g, _)| g == group) => {
            Ok(Route::Group(group.to_string()))
        }
        ["apis", group, version]
            if registry
                .groups()
                .iter()
                .any(|(g, vs)| g == group && vs.iter().any(|v| v == version)) =>
        {
            Ok(Route::GroupResources(
                group.to_string(),
                version.to_string(),
            ))
        }
        ["apis", group, version, rest @ ..] => resource(group, version, rest),
        ["openapi", "v2"] => Ok(Route::OpenApiV2),
        ["openapi", "v3"] => Ok(Route::OpenApiV3),
        ["openapi", "v3", "api", "v1"] => {
            Ok(Route::OpenApiV3GroupVersion(String::new(), "v1".into()))
        }
        ["openapi", "v3", "apis", group, version] => Ok(Route::OpenApiV3GroupVersion(
            group.to_string(),
            version.to_string(),
        )),
        _ => Err(ApiError::unknown_path()),
    }
}
