//! The resource types the test server serves: every CRD version loaded from YAML, plus the
//! built-in `v1` `namespaces` (objects live in namespaces, and `default` must exist), `v1`
//! `configmaps` (where a fabric keeps its configuration), `serviceaccounts` and the RBAC kinds
//! of `rbac.authorization.k8s.io/v1` (what [`crate::rbac`] authorizes with), the admission
//! webhook configurations of `admissionregistration.k8s.io/v1`, and `events.k8s.io/v1`
//! Events (what controllers record on objects).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crd::{CrdDefinition, CrdSet};

/// One served resource type (`switches.wiring.githedgehog.com/v1beta1`).
#[derive(Debug, Clone)]
pub struct Resource {
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub namespaced: bool,
    pub status_subresource: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// `additionalPrinterColumns` of the CRD version (for `kubectl get` tables).
    pub printer_columns: Vec<Value>,
    /// Index into the server's [`CrdSet`]; `None` for built-in resources.
    pub crd: Option<usize>,
    /// Served for reads only (the CRDs themselves: they come from files).
    pub read_only: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `switches.wiring.githedgehog.com`, or `namespaces` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Switch.wiring.githedgehog.com`, or `Namespace` for the core group.
    pub fn kind_qualified(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The built-in `v1` `namespaces`, which other objects live in.
    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.plural == "namespaces"
    }

    /// `details` of NotFound/AlreadyExists/Conflict: `kind` is the plural resource name there.
    pub fn details(&self, name: &str) -> Value {
        json!({"name": name, "group": self.group, "kind": self.plural})
    }

    fn from_crd(index: usize, crd: &CrdDefinition) -> Resource {
        let printer_columns = crd
            .document
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| {
                versions
                    .iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(&crd.version))
            })
            .and_then(|v| v.get("additionalPrinterColumns"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Resource {
            group: crd.group.clone(),
            version: crd.version.clone(),
            plural: crd.plural.clone(),
            singular: crd.singular.clone(),
            kind: crd.kind.clone(),
            list_kind: crd.list_kind.clone(),
            namespaced: crd.namespaced,
            status_subresource: crd.status_subresource,
            short_names: crd.short_names.clone(),
            categories: crd.categories.clone(),
            printer_columns,
            crd: Some(index),
            read_only: false,
        }
    }

    fn namespaces() -> Resource {
        Resource {
            group: String::new(),
            version: "v1".into(),
            plural: "namespaces".into(),
            singular: "namespace".into(),
            kind: "Namespace".into(),
            list_kind: "NamespaceList".into(),
            namespaced: false,
            status_subresource: true,
            short_names: vec!["ns".into()],
            categories: vec![],
            printer_columns: vec![],
            crd: None,
            read_only: false,
        }
    }

    /// A built-in resource without status or schema checks beyond metadata.
    fn builtin(
        group: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        short: &[&str],
    ) -> Resource {
        Resource {
            group: group.into(),
            version: "v1".into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            namespaced,
            status_subresource: false,
            short_names: short.iter().map(|s| (*s).to_owned()).collect(),
            categories: vec![],
            printer_columns: vec![],
            crd: None,
            read_only: false,
        }
    }

    fn custom_resource_definitions() -> Resource {
        Resource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            plural: "customresourcedefinitions".into(),
            singular: "customresourcedefinition".into(),
            kind: "CustomResourceDefinition".into(),
            list_kind: "CustomResourceDefinitionList".into(),
            namespaced: false,
            status_subresource: false,
            short_names: vec!["crd".into(), "crds".into()],
            categories: vec!["api-extensions".into()],
            printer_columns: vec![
                serde_json::json!({"name": "Created At", "type": "date", "jsonPath": ".metadata.creationTimestamp"}),
            ],
            crd: None,
            read_only: true,
        }
    }
}

/// The API group of admission webhook configurations.
pub const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";

/// The API group of Events.
pub const EVENTS_GROUP: &str = "events.k8s.io";

/// The API group of Roles, ClusterRoles and their bindings.
pub const RBAC_GROUP: &str = crate::rbac::GROUP;

/// All served resource types, looked up by URL segments.
#[derive(Debug)]
pub struct Registry {
    pub crds: CrdSet,
    pub resources: Vec<Arc<Resource>>,
}

impl Registry {
    pub fn new(crds: CrdSet) -> Registry {
        let mut resources = vec![
            Arc::new(Resource::namespaces()),
            Arc::new(Resource::custom_resource_definitions()),
            Arc::new(Resource::builtin(
                "",
                "ConfigMap",
                "configmaps",
                true,
                &["cm"],
            )),
            Arc::new(Resource::builtin(
                "",
                "ServiceAccount",
                "serviceaccounts",
                true,
                &["sa"],
            )),
            // Where controllers record Events (kube's `Recorder` writes `events.k8s.io/v1`).
            Arc::new(Resource::builtin(
                EVENTS_GROUP,
                "Event",
                "events",
                true,
                &["ev"],
            )),
            Arc::new(Resource::builtin(RBAC_GROUP, "Role", "roles", true, &[])),
            Arc::new(Resource::builtin(
                RBAC_GROUP,
                "RoleBinding",
                "rolebindings",
                true,
                &[],
            )),
            Arc::new(Resource::builtin(
                RBAC_GROUP,
                "ClusterRole",
                "clusterroles",
                false,
                &[],
            )),
            Arc::new(Resource::builtin(
                RBAC_GROUP,
                "ClusterRoleBinding",
                "clusterrolebindings",
                false,
                &[],
            )),
            Arc::new(Resource::builtin(
                ADMISSION_GROUP,
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
                false,
                &[],
            )),
            Arc::new(Resource::builtin(
                ADMISSION_GROUP,
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
                false,
                &[],
            )),
        ];
        resources.extend(
            crds.definitions
                .iter()
                .enumerate()
                .map(|(i, d)| Arc::new(Resource::from_crd(i, d))),
        );
        Registry { crds, resources }
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    pub fn crd(&self, resource: &Resource) -> Option<&CrdDefinition> {
        resource.crd.and_then(|i| self.crds.definitions.get(i))
    }

    /// The API groups (other than core) in first-seen order, each with its versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for resource in self.resources.iter().filter(|r| !r.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == resource.group) {
                Some((_, versions)) => {
                    if !versions.contains(&resource.version) {
                        versions.push(resource.version.clone());
                    }
                }
                None => groups.push((resource.group.clone(), vec![resource.version.clone()])),
            }
        }
        groups
    }
}
