//! What the sidecar knows of the fabric itself: its configuration (the settings the admission
//! rules check against) and its switch profile catalog.
//!
//! Apply mode reads both from the fabric's cluster every time it renders (each reconcile and
//! each NetBox change), so a changed ConfigMap or SwitchProfile takes effect without a restart.
//! Commit mode and offline rendering read the fabric's configuration file when one is
//! configured (hhfab's defaults otherwise) and use the catalog built into the sidecar. In both,
//! the keys of `[fabric.mapping.settings]` override what was read.

mod cluster;
#[cfg(test)]
mod reconcile_tests;

use std::path::Path;
use std::sync::Arc;

use crate::config::{FabricConfig, FabricMode, FabricSettings};
use crate::model::fabric_config_read::settings_from_config_yaml;
use crate::profiles::SwitchProfiles;

/// Why the fabric's configuration or profiles could not be read. Rendering needs them, so the
/// fabric's status shows this and nothing is published until it is fixed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FabricEnvError {
    #[error("cannot read the fabric's {CONFIG_MAP}: {0}")]
    ConfigMap(String),
    #[error("cannot read the fabric's {PROFILES}: {0}")]
    Profiles(String),
    /// The cluster did not answer; reading again may succeed without anyone changing anything.
    #[error("cannot read the fabric's {what}: the cluster did not answer: {source}")]
    Unreachable {
        what: &'static str,
        #[source]
        source: Arc<kube::Error>,
    },
    #[error("cannot read the fabric's configuration file {path}: {message}")]
    File { path: String, message: String },
}

/// What [`FabricEnvError`] says it could not read.
const CONFIG_MAP: &str = "configuration (ConfigMap fab/fabric-ctrl-config)";
const PROFILES: &str = "switch profiles (SwitchProfile objects)";

impl FabricEnvError {
    /// Whether reading again may succeed without anyone changing something (the cluster was
    /// unreachable), as opposed to a missing or malformed object.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// Where a fabric's configuration and profiles come from.
#[derive(Clone)]
pub enum FabricEnvSource {
    /// The fabric's cluster (apply mode).
    Cluster(kube::Client),
    /// The configuration file and the built-in catalog (commit mode, offline rendering).
    Local,
}

impl FabricEnvSource {
    /// The source for `fabric`: its cluster (through its kubeconfig) in apply mode.
    pub async fn connect(fabric: &FabricConfig) -> Result<Self, crate::targets::TargetError> {
        Ok(match fabric.mode {
            FabricMode::Apply => Self::Cluster(
                crate::targets::cluster::client(
                    fabric.kubeconfig.as_deref(),
                    fabric.cluster.context.as_deref(),
                )
                .await?,
            ),
            FabricMode::Commit => Self::Local,
        })
    }

    /// `fabric` with the settings and profiles it is rendered against.
    pub async fn resolve(&self, fabric: &FabricConfig) -> Result<FabricConfig, FabricEnvError> {
        match self {
            Self::Local => resolve_local(fabric),
            Self::Cluster(client) => {
                let (base, profiles) = cluster::read(client, &fabric.cluster.namespace).await?;
                Ok(with_env(fabric, base, profiles))
            }
        }
    }
}

/// `fabric` with its configuration file's settings (hhfab's defaults without one) and the
/// built-in catalog.
pub(crate) fn resolve_local(fabric: &FabricConfig) -> Result<FabricConfig, FabricEnvError> {
    let base = match &fabric.fabric_config_file {
        Some(path) => read_config_file(path)?,
        None => FabricSettings::default(),
    };
    Ok(with_env(fabric, base, SwitchProfiles::builtin()))
}

fn read_config_file(path: &Path) -> Result<FabricSettings, FabricEnvError> {
    let error = |message: String| FabricEnvError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    settings_from_config_yaml(&text).map_err(error)
}

fn with_env(fabric: &FabricConfig, base: FabricSettings, profiles: SwitchProfiles) -> FabricConfig {
    let mut resolved = fabric.clone();
    resolved.mapping.settings = fabric.mapping.settings.overrides.apply_to(base);
    resolved.mapping.profiles = profiles;
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fabric(settings: serde_json::Value) -> FabricConfig {
        serde_json::from_value(serde_json::json!({
            "name": "lab", "mapping": {"settings": settings}
        }))
        .unwrap()
    }

    #[test]
    fn the_configuration_file_is_the_base_and_the_sidecars_settings_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "spineASN: 64000\nleafASNStart: 64001\n").unwrap();
        let mut fabric = fabric(serde_json::json!({"leaf_asn_start": 64100}));
        fabric.fabric_config_file = Some(path);
        let resolved = resolve_local(&fabric).unwrap();
        assert_eq!(resolved.mapping.settings.spine_asn, 64000, "from the file");
        assert_eq!(
            resolved.mapping.settings.leaf_asn_start, 64100,
            "overridden"
        );
        assert!(
            resolved.mapping.profiles.get("vs").is_some(),
            "built-in catalog"
        );
    }

    #[test]
    fn a_missing_or_malformed_configuration_file_is_an_error_naming_it() {
        let mut fabric = fabric(serde_json::json!({}));
        fabric.fabric_config_file = Some("/nonexistent/config.yaml".into());
        let error = resolve_local(&fabric).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/config.yaml"), "{error}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "fabricSubnet: nonsense\n").unwrap();
        fabric.fabric_config_file = Some(path);
        let error = resolve_local(&fabric).unwrap_err().to_string();
        assert!(error.contains("fabricSubnet"), "{error}");
    }
}
