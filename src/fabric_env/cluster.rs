//! The fabric's configuration and profiles as its cluster holds them: the ConfigMap
//! `fab/fabric-ctrl-config` (key `config.yaml`) and the SwitchProfile objects the fabric
//! controller creates.

use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use super::FabricEnvError;
use crate::config::FabricSettings;
use crate::model::fabric_config::{FABRIC_CONFIG_KEY, FABRIC_CONFIG_MAP};
use crate::model::fabric_config_read::settings_from_config_yaml;
use crate::model::{Kind, Manifest, VERSION};
use crate::profiles::SwitchProfiles;

/// The cluster's refusal (`refused` wraps its message), or that it did not answer.
fn kube_error(
    what: &'static str,
    refused: fn(String) -> FabricEnvError,
) -> impl FnOnce(kube::Error) -> FabricEnvError {
    move |error| match error {
        kube::Error::Api(status) => refused(status.message),
        other => FabricEnvError::Unreachable {
            what,
            source: Arc::new(other),
        },
    }
}

/// The fabric's settings (before the sidecar's overrides) and its profile catalog.
pub async fn read(
    client: &kube::Client,
    namespace: &str,
) -> Result<(FabricSettings, SwitchProfiles), FabricEnvError> {
    let (settings, profiles) = tokio::join!(settings(client), profiles(client, namespace));
    Ok((settings?, profiles?))
}

async fn settings(client: &kube::Client) -> Result<FabricSettings, FabricEnvError> {
    let (namespace, name) = FABRIC_CONFIG_MAP;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let map = api
        .get_opt(name)
        .await
        .map_err(kube_error(super::CONFIG_MAP, FabricEnvError::ConfigMap))?
        .ok_or_else(|| {
            FabricEnvError::ConfigMap(
                "it does not exist; is the fabric installed in this cluster?".into(),
            )
        })?;
    let yaml = map
        .data
        .as_ref()
        .and_then(|d| d.get(FABRIC_CONFIG_KEY))
        .ok_or_else(|| FabricEnvError::ConfigMap(format!("it has no key {FABRIC_CONFIG_KEY}")))?;
    settings_from_config_yaml(yaml).map_err(FabricEnvError::ConfigMap)
}

async fn profiles(
    client: &kube::Client,
    namespace: &str,
) -> Result<SwitchProfiles, FabricEnvError> {
    let kind = Kind::SwitchProfile;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), VERSION, kind.as_str()),
        kind.plural(),
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(kube_error(super::PROFILES, FabricEnvError::Profiles))?;
    let manifests: Vec<Manifest> = list
        .items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    if manifests.is_empty() {
        return Err(FabricEnvError::Profiles(format!(
            "namespace {namespace} has none; the fabric controller creates them"
        )));
    }
    SwitchProfiles::from_manifests(&manifests).map_err(|e| FabricEnvError::Profiles(e.to_string()))
}
