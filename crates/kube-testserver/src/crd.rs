//! CustomResourceDefinitions loaded from YAML, and validation of objects against their
//! `openAPIV3Schema` with Kubernetes-style field paths (`spec.links[0].port`).
//!
//! The Kubernetes test server serves these CRDs, and the mapping's tests check every rendered
//! object against them. OpenAPI v3 schemas are validated as JSON Schema draft 4 after two
//! translations: `nullable: true` admits `null`, and, in [`FieldValidation::Strict`] mode (what
//! `kubectl` requests by default), objects with declared `properties` reject undeclared fields
//! unless they carry `x-kubernetes-preserve-unknown-fields`.

use std::path::Path;

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    #[error("cannot read CRD file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("CRD file {path} is not valid YAML: {source}")]
    Yaml {
        path: String,
        source: serde_yaml_ng::Error,
    },
    #[error("CRD {name}: {problem}")]
    Invalid { name: String, problem: String },
}

/// How undeclared fields are treated, as the API server's `fieldValidation` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Undeclared fields are errors.
    Strict,
    /// Undeclared fields are dropped (pruned) without error.
    Ignore,
}

/// One schema violation, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// Kubernetes field path, e.g. `spec.links[0].port`; empty for the object itself.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// One served version of a CRD.
pub struct CrdDefinition {
    pub name: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// The `openAPIV3Schema` as written in the CRD.
    pub schema: Value,
    /// The whole CRD document, for serving `apiextensions.k8s.io` reads.
    pub document: Value,
    strict: jsonschema::Validator,
    lenient: jsonschema::Validator,
}

impl std::fmt::Debug for CrdDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdDefinition")
            .field("name", &self.name)
            .field("version", &self.version)
            .finish()
    }
}

impl CrdDefinition {
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// Validates a whole object (apiVersion, kind, metadata, spec, status) against the schema.
    pub fn validate(&self, object: &Value, mode: FieldValidation) -> Vec<SchemaViolation> {
        let validator = match mode {
            FieldValidation::Strict => &self.strict,
            FieldValidation::Ignore => &self.lenient,
        };
        let mut violations: Vec<SchemaViolation> = validator
            .iter_errors(object)
            .map(|error| SchemaViolation {
                field: field_path(error.instance_path().as_str()),
                message: error.to_string(),
            })
            .collect();
        violations.sort_by(|a, b| a.field.cmp(&b.field).then(a.message.cmp(&b.message)));
        violations.dedup();
        violations
    }
}

/// All CRDs known to a server or a test.
#[derive(Debug, Default)]
pub struct CrdSet {
    pub definitions: Vec<CrdDefinition>,
}

impl CrdSet {
    /// Loads every `*.yaml` / `*.yml` file in `dir` (each may hold several documents).
    pub fn load_dir(dir: &Path) -> Result<Self, CrdError> {
        let read_err = |source| CrdError::Read {
            path: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        paths.sort();
        let mut set = CrdSet::default();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| CrdError::Read {
                path: path.display().to_string(),
                source,
            })?;
            set.add_yaml(&text, &path.display().to_string())?;
        }
        Ok(set)
    }

    /// Adds the CRDs of a (multi-document) YAML text; `origin` names it in errors.
    pub fn add_yaml(&mut self, text: &str, origin: &str) -> Result<(), CrdError> {
        for document in serde_yaml_ng::Deserializer::from_str(text) {
            let value: Value =
                serde::Deserialize::deserialize(document).map_err(|source| CrdError::Yaml {
                    path: origin.to_owned(),
                    source,
                })?;
            if value.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
                self.definitions.extend(definitions_of(&value)?);
            }
        }
        Ok(())
    }

    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&CrdDefinition> {
        self.definitions
            .iter()
            .find(|d| d.kind == kind && d.api_version() == api_version)
    }

    pub fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<&CrdDefinition> {
        self.definitions
            .iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
    }

    /// Validates an object against the CRD named by its `apiVersion` and `kind`.
    pub fn validate(&self, object: &Value, mode: FieldValidation) -> Vec<SchemaViolation> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match self.by_kind(api_version, kind) {
            Some(definition) => definition.validate(object, mode),
            None => vec![SchemaViolation {
                field: "kind".into(),
                message: format!("no CRD serves kind {kind:?} in {api_version:?}"),
            }],
        }
    }
}

fn definitions_of(crd: &Value) -> Result<Vec<CrdDefinition>, CrdError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let invalid = |problem: &str| CrdError::Invalid {
        name: name.clone(),
        problem: problem.to_owned(),
    };
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let strings = |pointer: &str| -> Vec<String> {
        crd.pointer(pointer)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let group = text("/spec/group").ok_or_else(|| invalid("spec.group is missing"))?;
    let kind = text("/spec/names/kind").ok_or_else(|| invalid("spec.names.kind is missing"))?;
    let plural =
        text("/spec/names/plural").ok_or_else(|| invalid("spec.names.plural is missing"))?;
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("spec.versions is missing"))?;
    let mut out = Vec::new();
    for version in versions {
        if version.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let version_name = version
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a version has no name"))?;
        let schema = version
            .pointer("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        let build = |strict: bool| {
            jsonschema::draft4::options()
                .should_validate_formats(false)
                .build(&to_json_schema(&schema, strict, true))
                .map_err(|e| invalid(&format!("schema of {version_name} does not compile: {e}")))
        };
        out.push(CrdDefinition {
            name: name.clone(),
            group: group.clone(),
            version: version_name.to_owned(),
            kind: kind.clone(),
            list_kind: text("/spec/names/listKind").unwrap_or_else(|| format!("{kind}List")),
            plural: plural.clone(),
            singular: text("/spec/names/singular").unwrap_or_else(|| kind.to_lowercase()),
            short_names: strings("/spec/names/shortNames"),
            categories: strings("/spec/names/categories"),
            namespaced: text("/spec/scope").as_deref() != Some("Cluster"),
            status_subresource: version.pointer("/subresources/status").is_some(),
            schema: schema.clone(),
            document: crd.clone(),
            strict: build(true)?,
            lenient: build(false)?,
        });
    }
    Ok(out)
}

/// Translates an OpenAPI v3 schema node into JSON Schema draft 4.
fn to_json_schema(node: &Value, strict: bool, root: bool) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let translated = match key.as_str() {
            "properties" | "patternProperties" | "definitions" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, schema)| (name.clone(), to_json_schema(schema, strict, false)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" => match value {
                Value::Object(_) => to_json_schema(value, strict, false),
                other => other.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|s| to_json_schema(s, strict, false))
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), translated);
    }
    if map.get("nullable").and_then(Value::as_bool) == Some(true)
        && let Some(Value::String(ty)) = map.get("type")
    {
        out.insert("type".into(), serde_json::json!([ty, "null"]));
    }
    let preserves = map
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if strict
        && map.contains_key("properties")
        && !map.contains_key("additionalProperties")
        && !preserves
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if root {
        // Every object carries apiVersion, kind and metadata even when the CRD does not
        // declare them; `metadata` is checked by the API machinery, not the CRD schema.
        if let Some(Value::Object(props)) = out.get_mut("properties") {
            for field in ["apiVersion", "kind"] {
                props
                    .entry(field)
                    .or_insert_with(|| serde_json::json!({"type": "string"}));
            }
            props.insert("metadata".into(), serde_json::json!({"type": "object"}));
        }
    }
    out.remove("nullable");
    Value::Object(out)
}

/// `/spec/links/0/port` → `spec.links[0].port`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crds() -> CrdSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hedgehog/crds");
        CrdSet::load_dir(&dir).expect("the shared CRDs load")
    }

    #[test]
    fn loads_all_sixteen_crds() {
        let set = crds();
        assert_eq!(set.definitions.len(), 16);
        let switch = set
            .by_plural("wiring.githedgehog.com", "v1beta1", "switches")
            .unwrap();
        assert_eq!(switch.kind, "Switch");
        assert!(switch.namespaced && switch.status_subresource);
        assert_eq!(switch.short_names, vec!["sw"]);
    }

    #[test]
    fn a_valid_switch_passes_and_errors_carry_field_paths() {
        let set = crds();
        let mut switch = json!({
            "apiVersion": "wiring.githedgehog.com/v1beta1",
            "kind": "Switch",
            "metadata": {"name": "leaf-01", "namespace": "default"},
            "spec": {"role": "server-leaf", "profile": "vs", "boot": {"mac": "0c:20:12:ff:00:00"}}
        });
        assert_eq!(set.validate(&switch, FieldValidation::Strict), vec![]);

        switch["spec"]["role"] = json!("core");
        switch["spec"]["bogus"] = json!(1);
        let violations = set.validate(&switch, FieldValidation::Strict);
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert!(fields.contains(&"spec.role"), "{violations:?}");
        assert!(
            violations.iter().any(|v| v.message.contains("bogus")),
            "{violations:?}"
        );

        let lenient = set.validate(&switch, FieldValidation::Ignore);
        assert!(
            lenient.iter().all(|v| !v.message.contains("bogus")),
            "{lenient:?}"
        );
    }

    #[test]
    fn array_indices_become_brackets() {
        assert_eq!(
            field_path("/spec/fabric/links/0/spine/port"),
            "spec.fabric.links[0].spine.port"
        );
        assert_eq!(field_path(""), "");
    }
}
