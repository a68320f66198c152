//! Where the one-shot commands (`apply`, `commit`) get a fabric's objects: rendered from the live
//! NetBox, or read from a multi-document YAML file (`--from-yaml`, `-` for standard input).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::config::{FabricConfig, Settings};
use crate::mapping;
use crate::model::Manifest;
use crate::netbox::{NetBoxClient, load_fabric};

/// The fabric's complete desired set.
pub async fn desired(
    settings: &Settings,
    fabric: &FabricConfig,
    from_yaml: Option<&Path>,
) -> anyhow::Result<Vec<Manifest>> {
    match from_yaml {
        Some(path) => {
            let mut manifests = read_manifests(path).await?;
            // A wiring file for hhfab may hold kinds the sidecar does not manage (Gateway, ...).
            manifests.retain(|m| {
                let known = m.kind().is_some();
                if !known {
                    eprintln!(
                        "skipped {}/{}: not a kind the sidecar manages",
                        m.kind, m.metadata.name
                    );
                }
                known
            });
            Ok(manifests)
        }
        None => {
            let client = NetBoxClient::from_settings(&settings.netbox)?;
            let snapshot = load_fabric(&client, fabric).await?;
            let rendered = mapping::render(fabric, &snapshot)
                .with_context(|| format!("fabric {} does not validate", fabric.name))?;
            Ok(rendered.manifests)
        }
    }
}

/// Every object of a multi-document YAML file (`-` for standard input), of any kind.
pub async fn read_manifests(path: &Path) -> anyhow::Result<Vec<Manifest>> {
    parse_manifests(&read(path).await?).with_context(|| path.display().to_string())
}

async fn read(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        Ok(
            tokio::task::spawn_blocking(|| std::io::read_to_string(std::io::stdin()))
                .await?
                .context("cannot read standard input")?,
        )
    } else {
        tokio::fs::read_to_string(path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Every non-empty document of a multi-document YAML text, as a manifest.
pub fn parse_manifests(text: &str) -> anyhow::Result<Vec<Manifest>> {
    let mut manifests = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = serde_json::Value::deserialize(document)
            .with_context(|| format!("document {} is not valid YAML", index + 1))?;
        if value.is_null() {
            continue;
        }
        let manifest: Manifest = serde_json::from_value(value).with_context(|| {
            format!(
                "document {} is not a Kubernetes object (apiVersion, kind, metadata.name)",
                index + 1
            )
        })?;
        manifests.push(manifest);
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_skips_empty_documents_and_names_the_bad_one() {
        let text = "---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\n\
                    metadata:\n  name: leaf-1\nspec:\n  role: server-leaf\n---\n---\n\
                    apiVersion: v1\nkind: Thing\n";
        let error = parse_manifests(text).unwrap_err();
        // The empty document between the two `---` counts: the bad one is the third.
        assert!(format!("{error:#}").contains("document 3"), "{error:#}");
        let good = parse_manifests(&text[..text.find("apiVersion: v1").unwrap()]).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].metadata.name, "leaf-1");
    }

    /// What wiring files from real labs carry: comments, hhfab's annotations, metadata the API
    /// server adds, `status`, and no `spec` at all (or an empty one) on a Server.
    #[test]
    fn real_lab_wiring_parses_with_comments_annotations_and_specless_servers() {
        let text = "# hhfab wiring, generated\n---\napiVersion: wiring.githedgehog.com/v1beta1\n\
                    kind: Server\nmetadata:\n  name: server-01  # the first one\n  \
                    namespace: default\n  creationTimestamp: null\n  annotations:\n    \
                    type.hhfab.githedgehog.com/generated: \"true\"\nstatus: {}\n---\n\
                    apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\n\
                    metadata:\n  name: server-02\nspec:\n";
        let manifests = parse_manifests(text).unwrap();
        assert_eq!(manifests.len(), 2);
        for manifest in &manifests {
            assert_eq!(
                manifest.spec,
                serde_json::json!({}),
                "{}",
                manifest.metadata.name
            );
        }
        assert_eq!(
            manifests[0].metadata.annotations["type.hhfab.githedgehog.com/generated"],
            "true"
        );
    }
}
