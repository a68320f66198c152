//! Where each object lives in the repository, and what a publish changes.
//!
//! `<path>/<kind-plural>/<name>.yaml` per object and `<path>/kustomization.yaml` listing them, so
//! Argo CD and Flux apply the folder as it is. The sidecar manages exactly those files: anything
//! else, inside `<path>` or outside it, is never written or removed.

use std::collections::{BTreeMap, BTreeSet};

use super::error::GitError;
use crate::model::{Kind, Manifest, ObjectKey};
use crate::targets::ObjectFailure;

pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// The fabric's folder inside the repository, normalised: no leading, trailing or doubled
/// slashes, `""` for the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: String,
}

impl Layout {
    pub fn new(path: &str) -> Result<Self, GitError> {
        let mut parts = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(GitError::Config(format!(
                        "git.path `{path}` must stay inside the repository"
                    )));
                }
                ".git" => {
                    return Err(GitError::Config(format!(
                        "git.path `{path}` must not point into .git"
                    )));
                }
                other => parts.push(other),
            }
        }
        Ok(Self {
            root: parts.join("/"),
        })
    }

    /// The folder, `""` for the repository root.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// A path relative to the folder, as a path from the repository root.
    pub fn full(&self, relative: &str) -> String {
        if self.root.is_empty() {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.root)
        }
    }

    /// `<kind-plural>/<name>.yaml`, relative to the folder.
    pub(crate) fn object_file(key: &ObjectKey) -> String {
        format!("{}/{}.yaml", key.kind.plural(), key.name)
    }

    /// The object a managed file (relative to the folder) holds; `None` for files the sidecar
    /// does not manage.
    pub(crate) fn key_of(relative: &str) -> Option<ObjectKey> {
        let (plural, file) = relative.split_once('/')?;
        let name = file.strip_suffix(".yaml")?;
        let kind = Kind::ALL.into_iter().find(|k| k.plural() == plural)?;
        is_object_name(name).then(|| ObjectKey {
            kind,
            name: name.to_owned(),
        })
    }
}

/// A Kubernetes object name (RFC 1123 subdomain): it becomes a file name, so nothing else may
/// pass (no `/`, no `..`, no upper case that would collide on case-insensitive checkouts).
pub(crate) fn is_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 253
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// The files the desired objects become (paths relative to the folder).
#[derive(Debug, Clone, Default)]
pub struct DesiredFiles {
    pub objects: BTreeMap<ObjectKey, String>,
    pub kustomization: String,
    /// Objects that could not be placed; their existing files are left alone.
    pub failures: Vec<ObjectFailure>,
}

/// Renders the desired objects into file contents. An object of a kind the sidecar does not
/// know is an error (it has no folder); an unusable name fails only that object.
pub(crate) fn desired_files(desired: &[Manifest], fabric: &str) -> Result<DesiredFiles, GitError> {
    let mut files = DesiredFiles::default();
    for manifest in desired {
        let Some(key) = manifest.key() else {
            return Err(GitError::Content(format!(
                "object `{}` has kind `{}`, which is not a Hedgehog kind the sidecar knows",
                manifest.metadata.name, manifest.kind
            )));
        };
        if !is_object_name(&key.name) {
            files.failures.push(ObjectFailure {
                message: format!(
                    "`{}` is not a valid object name (lowercase letters, digits, `-`, `.`)",
                    key.name
                ),
                key,
            });
            continue;
        }
        // The complete desired set names each object once; should it not, the last wins.
        files.objects.insert(key, manifest.to_yaml());
    }
    files.kustomization = kustomization(files.objects.keys(), fabric);
    Ok(files)
}

/// `kustomization.yaml` listing the objects in apply order (kind, then name), which is how
/// `ObjectKey` sorts.
fn kustomization<'a>(keys: impl Iterator<Item = &'a ObjectKey>, fabric: &str) -> String {
    let mut out = format!(
        "# Written by hedgehog-sidecar for fabric {fabric}; edits here are overwritten.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\n\
         kind: Kustomization\n"
    );
    let mut any = false;
    for key in keys {
        if !any {
            out.push_str("resources:\n");
            any = true;
        }
        out.push_str(&format!("- {}\n", Layout::object_file(key)));
    }
    if !any {
        out.push_str("resources: []\n");
    }
    out
}

/// What a publish changes, from the managed files on the branch tip to the desired files.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub created: Vec<ObjectKey>,
    pub updated: Vec<ObjectKey>,
    pub deleted: Vec<ObjectKey>,
    pub unchanged: usize,
    /// Files to write, relative to the folder.
    pub writes: Vec<(String, String)>,
    /// Files to remove, relative to the folder.
    pub removals: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.removals.is_empty()
    }
}

/// `current` holds the managed files on the tip (relative path → content): object files and the
/// kustomization.
pub fn plan(desired: &DesiredFiles, current: &BTreeMap<String, Vec<u8>>) -> Plan {
    let mut plan = Plan::default();
    for (key, content) in &desired.objects {
        let file = Layout::object_file(key);
        match current.get(&file) {
            None => plan.created.push(key.clone()),
            Some(existing) if existing.as_slice() == content.as_bytes() => {
                plan.unchanged += 1;
                continue;
            }
            Some(_) => plan.updated.push(key.clone()),
        }
        plan.writes.push((file, content.clone()));
    }
    let kept: BTreeSet<&ObjectKey> = desired.failures.iter().map(|f| &f.key).collect();
    for file in current.keys() {
        if let Some(key) = Layout::key_of(file)
            && !desired.objects.contains_key(&key)
            && !kept.contains(&key)
        {
            plan.removals.push(file.clone());
            plan.deleted.push(key);
        }
    }
    if current.get(KUSTOMIZATION).map(Vec::as_slice) != Some(desired.kustomization.as_bytes()) {
        plan.writes
            .push((KUSTOMIZATION.to_owned(), desired.kustomization.clone()));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestMeta;

    fn switch(name: &str, role: &str) -> Manifest {
        Manifest {
            api_version: Kind::Switch.api_version(),
            kind: "Switch".into(),
            metadata: ManifestMeta {
                name: name.into(),
                ..Default::default()
            },
            spec: serde_json::json!({ "role": role }),
        }
    }

    #[test]
    fn paths_are_normalised_and_must_stay_inside() {
        assert_eq!(Layout::new("/fabrics//lab/").unwrap().root(), "fabrics/lab");
        assert_eq!(Layout::new("").unwrap().full("x.yaml"), "x.yaml");
        assert!(Layout::new("a/../b").is_err());
        assert!(Layout::new(".git/hooks").is_err());
    }

    #[test]
    fn managed_files_round_trip_to_keys() {
        let key = ObjectKey {
            kind: Kind::VPCAttachment,
            name: "vpc-1--conn".into(),
        };
        let file = Layout::object_file(&key);
        assert_eq!(file, "vpcattachments/vpc-1--conn.yaml");
        assert_eq!(Layout::key_of(&file), Some(key));
        assert_eq!(Layout::key_of("switches/README.md"), None);
        assert_eq!(Layout::key_of("notes/x.yaml"), None);
        assert_eq!(Layout::key_of(KUSTOMIZATION), None);
    }

    #[test]
    fn plan_creates_updates_deletes_and_keeps_the_rest() {
        let before = desired_files(&[switch("a", "spine"), switch("b", "spine")], "lab").unwrap();
        let mut current: BTreeMap<String, Vec<u8>> = before
            .objects
            .iter()
            .map(|(k, v)| (Layout::object_file(k), v.clone().into_bytes()))
            .collect();
        current.insert(KUSTOMIZATION.into(), before.kustomization.into_bytes());

        let after =
            desired_files(&[switch("b", "server-leaf"), switch("c", "spine")], "lab").unwrap();
        let plan = plan(&after, &current);
        assert_eq!(plan.created[0].name, "c");
        assert_eq!(plan.updated[0].name, "b");
        assert_eq!(plan.deleted[0].name, "a");
        assert_eq!(plan.removals, vec!["switches/a.yaml".to_owned()]);
        assert!(plan.writes.iter().any(|(f, _)| f == KUSTOMIZATION));

        let same = super::plan(
            &desired_files(&[switch("a", "spine"), switch("b", "spine")], "lab").unwrap(),
            &current,
        );
        assert!(same.is_empty());
        assert_eq!(same.unchanged, 2);
    }

    #[test]
    fn bad_names_fail_alone_and_unknown_kinds_fail_the_publish() {
        let files =
            desired_files(&[switch("Bad/Name", "spine"), switch("ok", "spine")], "lab").unwrap();
        assert_eq!(files.failures.len(), 1);
        assert_eq!(files.objects.len(), 1);
        let mut gateway = switch("gw", "x");
        gateway.kind = "Gateway".into();
        assert!(matches!(
            desired_files(&[gateway], "lab"),
            Err(GitError::Content(_))
        ));
    }

    #[test]
    fn kustomization_lists_objects_in_apply_order() {
        let mut vpc = switch("a-vpc", "x");
        vpc.kind = "VPC".into();
        let files = desired_files(&[vpc, switch("z-leaf", "spine")], "lab").unwrap();
        let text = &files.kustomization;
        let switch_at = text.find("switches/z-leaf.yaml").unwrap();
        let vpc_at = text.find("vpcs/a-vpc.yaml").unwrap();
        assert!(switch_at < vpc_at, "{text}");
    }
}
