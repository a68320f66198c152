//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis`, group and group-version
//! resource lists, and the OpenAPI v3 documents kubectl reads to learn that the server
//! validates fields itself (`fieldValidation`), as a real apiserver publishes them.

use serde_json::{Value, json};

use super::resources::{Registry, Resource};

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_document(group: &str, versions: &[String]) -> Value {
    let listed: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": listed,
        "preferredVersion": listed.first().cloned().unwrap_or(Value::Null),
    })
}

pub fn groups(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .map(|(g, vs)| group_document(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(registry: &Registry, name: &str) -> Value {
    let versions = registry
        .groups()
        .into_iter()
        .find(|(g, _)| g == name)
        .map(|(_, vs)| vs)
        .unwrap_or_default();
    let mut document = group_document(name, &versions);
    document["kind"] = json!("APIGroup");
    document["apiVersion"] = json!("v1");
    document
}

fn resource_entries(resource: &Resource) -> Vec<Value> {
    let mut main = json!({
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    });
    if !resource.short_names.is_empty() {
        main["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        main["categories"] = json!(resource.categories);
    }
    let mut entries = vec![main];
    if resource.status_subresource {
        entries.push(json!({
            "name": format!("{}/status", resource.plural),
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub fn resources(registry: &Registry, group: &str, version: &str) -> Value {
    let entries: Vec<Value> = registry
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .flat_map(|r| resource_entries(r))
        .collect();
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries})
}

/// `/openapi/v3`: where each group-version's document is.
pub fn openapi_v3_index(registry: &Registry) -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "api/v1".into(),
        json!({"serverRelativeURL": "/openapi/v3/api/v1?hash=1"}),
    );
    for (group, versions) in registry.groups() {
        for version in versions {
            paths.insert(
                format!("apis/{group}/{version}"),
                json!({"serverRelativeURL": format!("/openapi/v3/apis/{group}/{version}?hash=1")}),
            );
        }
    }
    json!({"paths": paths})
}

/// `com.githedgehog.wiring.v1beta1.Switch`, the apiserver's schema name for a CRD kind.
fn schema_name(resource: &Resource) -> String {
    if resource.group.is_empty() {
        return format!("io.k8s.api.core.v1.{}", resource.kind);
    }
    let reversed: Vec<&str> = resource.group.split('.').rev().collect();
    format!(
        "{}.{}.{}",
        reversed.join("."),
        resource.version,
        resource.kind
    )
}

/// One group-version's OpenAPI v3 document: every path with its operations, parameters
/// (`fieldValidation`, `fieldManager`, `dryRun`, `force`) and the kinds' schemas.
pub fn openapi_v3_document(registry: &Registry, group: &str, version: &str) -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for resource in registry
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let gvk =
            json!({"group": resource.group, "version": resource.version, "kind": resource.kind});
        let name = schema_name(resource);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let query =
            |param: &str| json!({"name": param, "in": "query", "schema": {"type": "string"}});
        let write_params = vec![
            query("dryRun"),
            query("fieldManager"),
            query("fieldValidation"),
        ];
        let mut patch_params = write_params.clone();
        patch_params.push(json!({"name": "force", "in": "query", "schema": {"type": "boolean"}}));
        let operation = |action: &str, params: &Vec<Value>| {
            json!({
                "operationId": format!("{action}{}", resource.kind),
                "parameters": params,
                "responses": {"200": {"content": {"application/json": {"schema": reference}}}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
        let base = if resource.group.is_empty() {
            format!("/api/{}", resource.version)
        } else {
            format!("/apis/{}/{}", resource.group, resource.version)
        };
        let collection = if resource.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", resource.plural)
        } else {
            format!("{base}/{}", resource.plural)
        };
        paths.insert(
            collection.clone(),
            json!({
                "get": operation("list", &vec![]),
                "post": operation("post", &write_params),
                "delete": operation("deletecollection", &vec![]),
            }),
        );
        let item = json!({
            "get": operation("get", &vec![]),
            "put": operation("put", &write_params),
            "patch": operation("patch", &patch_params),
            "delete": operation("delete", &vec![query("dryRun")]),
        });
        paths.insert(format!("{collection}/{{name}}"), item.clone());
        if resource.status_subresource {
            paths.insert(format!("{collection}/{{name}}/status"), item);
        }
        let mut schema = registry
            .crd(resource)
            .map(|crd| crd.schema.clone())
            .unwrap_or_else(|| json!({"type": "object"}));
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// `/openapi/v2`: the kinds' schemas as Swagger 2.0 definitions (kubectl's client-side
/// validation falls back to it for kinds it does not find in the v3 documents).
pub fn openapi_v2(registry: &Registry) -> Value {
    let mut definitions = serde_json::Map::new();
    for resource in &registry.resources {
        let mut schema = registry
            .crd(resource)
            .map(|crd| crd.schema.clone())
            .unwrap_or_else(|| json!({"type": "object"}));
        schema["x-kubernetes-group-version-kind"] = json!([
            {"group": resource.group, "version": resource.version, "kind": resource.kind}
        ]);
        definitions.insert(schema_name(resource), schema);
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": {},
        "definitions": definitions,
    })
}

pub const OPENAPI_V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// A gnostic `openapi_v2.Document` holding only `swagger: "2.0"` (field 1, length-delimited).
pub fn openapi_v2_protobuf() -> Vec<u8> {
    let mut bytes = vec![0x0a, 3];
    bytes.extend_from_slice(b"2.0");
    bytes
}

/// The media type of aggregated discovery (`/api`, `/apis` in one document).
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an Accept header asks for aggregated discovery v2 (kubectl does, client-go too).
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|media| {
        media.contains("g=apidiscovery.k8s.io")
            && media.contains("v=v2")
            && !media.contains("v=v2beta1")
            && media.contains("as=APIGroupDiscoveryList")
    })
}

/// `/api` (core group) or `/apis` (every other group) as an `APIGroupDiscoveryList`.
pub fn aggregated(registry: &Registry, core: bool) -> Value {
    let groups: Vec<(String, Vec<String>)> = if core {
        vec![(String::new(), vec!["v1".into()])]
    } else {
        registry.groups()
    };
    let items: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = registry
                        .resources
                        .iter()
                        .filter(|r| &r.group == group && &r.version == version)
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if group.is_empty() {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": group, "creationTimestamp": null})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(resource: &Resource) -> Value {
    let kind = json!({"group": resource.group, "version": resource.version, "kind": resource.kind});
    let mut entry = json!({
        "resource": resource.plural,
        "responseKind": kind,
        "scope": if resource.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": resource.singular,
        "verbs": if resource.read_only {
            json!(["get", "list", "watch"])
        } else {
            json!(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
        },
    });
    if !resource.short_names.is_empty() {
        entry["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        entry["categories"] = json!(resource.categories);
    }
    if resource.status_subresource {
        entry["subresources"] = json!([
            {"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}
        ]);
    }
    entry
}
