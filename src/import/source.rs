//! Where an import's Hedgehog objects come from: the fabric's cluster (read back through the
//! cluster target) or a wiring file (`model::parse_manifests`).

use serde_json::Value;

use crate::config::FabricConfig;
use crate::model::{Kind, Manifest, ManifestMeta};
use crate::targets::cluster::ClusterTarget;
use crate::targets::{Target, TargetError};

/// The fabric's objects in its cluster, through its kubeconfig and context.
pub async fn from_cluster(fabric: &FabricConfig) -> Result<Vec<Manifest>, TargetError> {
    let target = ClusterTarget::connect(fabric).await?;
    Ok(manifests_from_objects(&target.actual().await?))
}

/// The objects of the rendered kinds among a target's objects, with metadata reduced to the
/// name (the cluster's own metadata and status are not imported).
pub(crate) fn manifests_from_objects(objects: &[Value]) -> Vec<Manifest> {
    objects
        .iter()
        .filter_map(|object| {
            let kind = Kind::from_kind_name(object.get("kind")?.as_str()?)?;
            if !Kind::RENDERED.contains(&kind) {
                return None;
            }
            Some(Manifest {
                api_version: kind.api_version(),
                kind: kind.as_str().to_owned(),
                metadata: ManifestMeta {
                    name: object.pointer("/metadata/name")?.as_str()?.to_owned(),
                    ..ManifestMeta::default()
                },
                spec: object
                    .get("spec")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default())),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_objects_keep_kind_name_and_spec_and_drop_agents_and_status() {
        let objects = [
            json!({"apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
                   "metadata": {"name": "leaf-01", "uid": "x", "labels": {"a": "b"}},
                   "spec": {"role": "server-leaf"}, "status": {"applied": 1}}),
            json!({"apiVersion": "agent.githedgehog.com/v1beta1", "kind": "Agent",
                   "metadata": {"name": "leaf-01"}, "spec": {}}),
            json!({"apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "SwitchGroup",
                   "metadata": {"name": "g"}}),
        ];
        let manifests = manifests_from_objects(&objects);
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].metadata.name, "leaf-01");
        assert!(manifests[0].metadata.labels.is_empty());
        assert_eq!(manifests[0].spec, json!({"role": "server-leaf"}));
        assert_eq!(manifests[1].spec, json!({}));
    }
}
