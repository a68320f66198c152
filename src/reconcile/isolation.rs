//! Isolation of invalid objects: an object that breaks an admission rule holds back only
//! itself and the objects that depend on it (an attachment on its VPC or connection, a
//! connection on its switch, ...); everything else is published as usual.
//!
//! A held-back object the target already has keeps the target's version: it is published
//! unchanged, so neither the cluster's prune nor the Git layout removes it while it waits.

use std::collections::BTreeMap;

use serde_json::Value;

use super::sources::SourceMap;
use crate::mapping::Violation;
use crate::model::{Manifest, ObjectKey, refers_to};

/// Held-back rendered objects and why, in words for their NetBox owners.
pub(crate) type HeldBack = BTreeMap<ObjectKey, String>;

/// The objects `violations` concern, directly (named, or rendered from a NetBox object a
/// violation names) or through a reference to one of them.
pub fn held_back(
    manifests: &[Manifest],
    sources: &SourceMap,
    violations: &[Violation],
) -> HeldBack {
    let mut held = HeldBack::new();
    for violation in violations {
        let reason = format!("invalid: {}", violation.message);
        if let Some(key) = &violation.object {
            held.entry(key.clone()).or_insert_with(|| reason.clone());
        }
        for (key, refs) in sources {
            if refs.iter().any(|r| violation.sources.contains(r)) {
                held.entry(key.clone()).or_insert_with(|| reason.clone());
            }
        }
    }
    loop {
        let mut added = Vec::new();
        for manifest in manifests {
            let Some(key) = manifest.key() else { continue };
            if held.contains_key(&key) {
                continue;
            }
            if let Some(on) = held.keys().find(|h| refers_to(&manifest.spec, h)) {
                added.push((key, format!("waits on {on}, which is held back")));
            }
        }
        if added.is_empty() {
            return held;
        }
        held.extend(added);
    }
}

/// The target's current versions of the held-back objects it has, as manifests to publish
/// unchanged.
pub(crate) fn preserved(actual: &[Value], held: &HeldBack) -> Vec<Manifest> {
    actual
        .iter()
        .filter(|o| super::compare::key_of(o).is_some_and(|k| held.contains_key(&k)))
        // A cluster object reads as a manifest: its status and server-set metadata are dropped.
        .filter_map(|o| serde_json::from_value::<Manifest>(o.clone()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::SourceRef;
    use crate::model::{Kind, ManifestMeta};
    use serde_json::json;

    fn manifest(kind: Kind, name: &str, spec: Value) -> Manifest {
        Manifest {
            api_version: kind.api_version(),
            kind: kind.as_str().into(),
            metadata: ManifestMeta {
                name: name.into(),
                ..Default::default()
            },
            spec,
        }
    }

    fn key(kind: Kind, name: &str) -> ObjectKey {
        ObjectKey {
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn an_invalid_vpc_holds_back_its_attachments_and_nothing_else() {
        let manifests = vec![
            manifest(Kind::Switch, "leaf-01", json!({"role": "server-leaf"})),
            manifest(
                Kind::VPC,
                "vpc-1",
                json!({"subnets": {"a": {"vlan": 1001}}}),
            ),
            manifest(
                Kind::VPC,
                "vpc-2",
                json!({"subnets": {"a": {"vlan": 1002}}}),
            ),
            manifest(
                Kind::VPCAttachment,
                "vpc-1--s1",
                json!({"subnet": "vpc-1/a", "connection": "s1--unbundled--leaf-01"}),
            ),
            manifest(
                Kind::VPCAttachment,
                "vpc-2--s1",
                json!({"subnet": "vpc-2/a", "connection": "s1--unbundled--leaf-01"}),
            ),
        ];
        let prefix = SourceRef {
            object_type: "ipam.prefix".into(),
            id: 9,
            name: "10.0.1.0/24".into(),
        };
        let sources: SourceMap = [(key(Kind::VPC, "vpc-1"), vec![prefix.clone()])].into();
        let violations = vec![Violation {
            object: None,
            sources: vec![prefix],
            message: "overlaps 10.0.0.0/16".into(),
        }];
        let held = held_back(&manifests, &sources, &violations);
        assert_eq!(
            held.keys().cloned().collect::<Vec<_>>(),
            vec![
                key(Kind::VPC, "vpc-1"),
                key(Kind::VPCAttachment, "vpc-1--s1")
            ]
        );
        assert!(held[&key(Kind::VPCAttachment, "vpc-1--s1")].contains("VPC/vpc-1"));
    }

    #[test]
    fn a_namespace_holds_back_only_what_names_it_as_a_namespace() {
        let manifests = vec![
            manifest(
                Kind::Switch,
                "leaf-01",
                json!({"vlanNamespaces": ["default"]}),
            ),
            manifest(Kind::VPC, "vpc-1", json!({"ipv4Namespace": "default"})),
        ];
        let violations = vec![Violation {
            object: Some(key(Kind::IPv4Namespace, "default")),
            sources: vec![],
            message: "prefixes overlap".into(),
        }];
        let held = held_back(&manifests, &SourceMap::new(), &violations);
        assert!(held.contains_key(&key(Kind::VPC, "vpc-1")));
        assert!(
            !held.contains_key(&key(Kind::Switch, "leaf-01")),
            "{held:?}"
        );
    }

    #[test]
    fn a_held_object_the_target_has_is_published_as_the_target_holds_it() {
        let actual = vec![json!({
            "apiVersion": "vpc.githedgehog.com/v1beta1", "kind": "VPC",
            "metadata": {"name": "vpc-1", "namespace": "default", "uid": "x",
                         "labels": {"app.kubernetes.io/managed-by": "hedgehog-sidecar"}},
            "spec": {"subnets": {}}, "status": {}
        })];
        let held: HeldBack = [(key(Kind::VPC, "vpc-1"), "invalid".into())].into();
        let kept = preserved(&actual, &held);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].metadata.labels.len(), 1);
        assert_eq!(kept[0].spec, json!({"subnets": {}}));
        assert!(preserved(&actual, &HeldBack::new()).is_empty());
    }
}
