//! Where the one-shot commands (`apply`, `commit`) get a fabric's objects: rendered from the live
//! NetBox, or read from a multi-document YAML file (`--from-yaml`, `-` for standard input).

use std::path::Path;

use anyhow::Context;

use crate::config::{FabricConfig, Settings};
use crate::fabric_env::FabricEnvSource;
use crate::mapping;
use crate::model::{Manifest, parse_manifests};
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
            let fabric = &FabricEnvSource::connect(fabric)
                .await?
                .resolve(fabric)
                .await?;
            let rendered = mapping::render(fabric, &snapshot)
                .with_context(|| format!("fabric {} does not validate", fabric.name))?;
            Ok(rendered.manifests)
        }
    }
}

/// Every object of a multi-document YAML file (`-` for standard input), of any kind.
pub(crate) async fn read_manifests(path: &Path) -> anyhow::Result<Vec<Manifest>> {
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
