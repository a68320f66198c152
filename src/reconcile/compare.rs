//! Desired (NetBox's rendering) against actual (the cluster's objects): the state of every
//! object of a fabric.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{FieldDiff, diff_managed};
use crate::model::{Kind, Manifest, ObjectKey};

pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY_VALUE: &str = "hedgehog-sidecar";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    /// The cluster's managed fields equal NetBox's rendering.
    InSync,
    /// The object exists but some managed fields differ.
    Drifted,
    /// Rendered from NetBox but absent from the cluster.
    Missing,
    /// In the cluster but not rendered from NetBox.
    Orphan,
    /// Rendered from NetBox but not published: it breaks an admission rule or depends on an
    /// object that does (the target keeps its last published version, if any).
    HeldBack,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::InSync => "in_sync",
            ObjectState::Drifted => "drifted",
            ObjectState::Missing => "missing",
            ObjectState::Orphan => "orphan",
            ObjectState::HeldBack => "held_back",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectReport {
    pub key: ObjectKey,
    pub state: ObjectState,
    /// Drifted fields (empty unless `state` is `Drifted`).
    pub diffs: Vec<FieldDiff>,
    /// For orphans: labelled as managed by this sidecar for this fabric, so pruning may delete it.
    pub managed: bool,
}

/// Who owns an object in the cluster, read from its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// Managed by this sidecar for this fabric.
    ThisFabric,
    /// Managed by this sidecar for another fabric: not ours to report or touch.
    OtherFabric,
    /// Not labelled by the sidecar: created outside NetBox.
    Unmanaged,
}

pub(crate) fn ownership(object: &Value, fabric: &str, label_domain: &str) -> Ownership {
    let labels = object.pointer("/metadata/labels");
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    if label(MANAGED_BY_LABEL) != Some(MANAGED_BY_VALUE) {
        return Ownership::Unmanaged;
    }
    match label(&format!("{label_domain}/fabric")) {
        Some(f) if f == fabric => Ownership::ThisFabric,
        _ => Ownership::OtherFabric,
    }
}

/// Key of a cluster object of one of the rendered kinds.
pub(crate) fn key_of(object: &Value) -> Option<ObjectKey> {
    let kind = Kind::from_kind_name(object.get("kind")?.as_str()?)?;
    if !Kind::RENDERED.contains(&kind) {
        return None;
    }
    let name = object.pointer("/metadata/name")?.as_str()?.to_owned();
    Some(ObjectKey { kind, name })
}

/// Compares every desired object with the cluster's objects (`actual` may hold other kinds,
/// such as Agents; they are ignored here). Reports are sorted by kind (apply order) and name.
pub fn compare(
    desired: &[Manifest],
    actual: &[Value],
    fabric: &str,
    label_domain: &str,
) -> Vec<ObjectReport> {
    let actual_by_key: BTreeMap<ObjectKey, &Value> = actual
        .iter()
        .filter_map(|o| Some((key_of(o)?, o)))
        .collect();
    let mut reports = Vec::with_capacity(desired.len());
    let mut desired_keys = std::collections::BTreeSet::new();
    for manifest in desired {
        let Some(key) = manifest.key() else { continue };
        desired_keys.insert(key.clone());
        let report = match actual_by_key.get(&key) {
            None => ObjectReport {
                key,
                state: ObjectState::Missing,
                diffs: vec![],
                managed: true,
            },
            Some(object) => {
                let diffs = diff_managed(&manifest.to_value(), object);
                let state = if diffs.is_empty() {
                    ObjectState::InSync
                } else {
                    ObjectState::Drifted
                };
                ObjectReport {
                    key,
                    state,
                    diffs,
                    managed: true,
                }
            }
        };
        reports.push(report);
    }
    for (key, object) in &actual_by_key {
        if desired_keys.contains(key) {
            continue;
        }
        match ownership(object, fabric, label_domain) {
            Ownership::OtherFabric => {}
            owner => reports.push(ObjectReport {
                key: key.clone(),
                state: ObjectState::Orphan,
                diffs: vec![],
                managed: owner == Ownership::ThisFabric,
            }),
        }
    }
    reports.sort_by(|a, b| a.key.cmp(&b.key));
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManifestMeta;
    use serde_json::json;

    fn manifest(kind: Kind, name: &str, spec: Value) -> Manifest {
        let mut meta = ManifestMeta {
            name: name.into(),
            ..Default::default()
        };
        meta.labels
            .insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
        meta.labels.insert("hs.io/fabric".into(), "lab".into());
        Manifest {
            api_version: kind.api_version(),
            kind: kind.as_str().into(),
            metadata: meta,
            spec,
        }
    }

    #[test]
    fn classifies_in_sync_drifted_missing_and_orphans() {
        let desired = vec![
            manifest(Kind::Switch, "leaf-01", json!({"role": "server-leaf"})),
            manifest(Kind::Switch, "leaf-02", json!({"role": "server-leaf"})),
            manifest(Kind::Server, "server-01", json!({})),
        ];
        let mut drifted = desired[1].to_value();
        drifted["spec"]["role"] = json!("border-leaf");
        let mut managed_orphan = manifest(Kind::Server, "old", json!({})).to_value();
        managed_orphan["metadata"]["namespace"] = json!("default");
        let unmanaged = json!({"kind": "Server", "metadata": {"name": "handmade"}, "spec": {}});
        let other_fabric = json!({"kind": "Server", "metadata": {"name": "theirs", "labels": {
            MANAGED_BY_LABEL: MANAGED_BY_VALUE, "hs.io/fabric": "prod"}}, "spec": {}});
        let agent = json!({"kind": "Agent", "metadata": {"name": "leaf-01"}});
        let actual = vec![
            desired[0].to_value(),
            drifted,
            managed_orphan,
            unmanaged,
            other_fabric,
            agent,
        ];

        let reports = compare(&desired, &actual, "lab", "hs.io");
        let summary: Vec<_> = reports
            .iter()
            .map(|r| (r.key.to_string(), r.state, r.managed))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Switch/leaf-01".to_string(), ObjectState::InSync, true),
                ("Switch/leaf-02".to_string(), ObjectState::Drifted, true),
                ("Server/handmade".to_string(), ObjectState::Orphan, false),
                ("Server/old".to_string(), ObjectState::Orphan, true),
                ("Server/server-01".to_string(), ObjectState::Missing, true),
            ]
        );
        assert_eq!(reports[1].diffs[0].path, "spec.role");
    }
}
