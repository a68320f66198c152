//! A test server seeded as a Hedgehog cluster holds the fabric itself: its configuration in the
//! ConfigMap `fab/fabric-ctrl-config` and the switch profile catalog as SwitchProfile objects
//! (the ones built into the sidecar, which are the fabric's own).

use hedgehog_sidecar::model::fabric_config::{FABRIC_CONFIG_KEY, FABRIC_CONFIG_MAP};
use hedgehog_sidecar::model::{Kind, VERSION, parse_manifests};
use hedgehog_sidecar::profiles::BUILTIN_PROFILES;
use kube_testserver::TestServer;
use serde_json::{Value, json};

use crate::oracle::reqwest_post;

/// Creates (or replaces the data of) the ConfigMap with the fabric configuration `config_yaml`.
pub async fn seed_fabric_config(server: &TestServer, config_yaml: &str) {
    let (namespace, name) = FABRIC_CONFIG_MAP;
    let url = |path: &str| format!("{}{path}", server.url());
    let namespace_doc =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    let (code, body) = reqwest_post(&url("/api/v1/namespaces"), &namespace_doc).await;
    assert!(code < 300 || code == 409, "namespace {namespace}: {body}");
    let data = json!({FABRIC_CONFIG_KEY: config_yaml});
    let map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace}, "data": data});
    let maps = url(&format!("/api/v1/namespaces/{namespace}/configmaps"));
    let (code, body) = reqwest_post(&maps, &map).await;
    if code == 409 {
        let response = reqwest::Client::new()
            .patch(format!("{maps}/{name}"))
            .header("content-type", "application/merge-patch+json")
            .body(json!({"data": data}).to_string())
            .send()
            .await
            .expect("the test server answers");
        assert!(response.status().is_success(), "ConfigMap {name} updated");
    } else {
        assert!(code < 300, "ConfigMap {name}: {body}");
    }
}

/// The built-in SwitchProfile `name` as an object to create.
pub fn switch_profile(name: &str) -> Value {
    BUILTIN_PROFILES
        .iter()
        .filter_map(|text| parse_manifests(text).ok())
        .flatten()
        .find(|m| m.metadata.name == name)
        .map(|m| m.to_value())
        .unwrap_or_else(|| panic!("no built-in switch profile {name}"))
}

/// Creates the built-in SwitchProfiles `names` in namespace `default` (existing ones are kept).
pub async fn seed_switch_profiles(server: &TestServer, names: &[&str]) {
    for name in names {
        create(server, &switch_profile(name)).await;
    }
}

/// Creates every built-in SwitchProfile, as the fabric controller does at start.
pub async fn seed_all_switch_profiles(server: &TestServer) {
    for text in BUILTIN_PROFILES {
        for manifest in parse_manifests(text).expect("a built-in profile") {
            create(server, &manifest.to_value()).await;
        }
    }
}

/// Creates a SwitchProfile object (an existing one of its name is kept).
pub async fn create(server: &TestServer, profile: &Value) {
    let kind = Kind::SwitchProfile;
    let url = format!(
        "{}/apis/{}/{VERSION}/namespaces/default/{}",
        server.url(),
        kind.group(),
        kind.plural()
    );
    let mut object = profile.clone();
    if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("namespace");
    }
    let (code, body) = reqwest_post(&url, &object).await;
    assert!(code < 300 || code == 409, "SwitchProfile: {body}");
}

/// The test server as a Hedgehog cluster with `settings` as its configuration: the ConfigMap
/// and the whole built-in profile catalog.
pub async fn seed_fabric(server: &TestServer, settings: &hedgehog_sidecar::config::FabricSettings) {
    let yaml = hedgehog_sidecar::model::fabric_config::fabric_config_yaml(settings);
    seed_fabric_config(server, &yaml).await;
    seed_all_switch_profiles(server).await;
}
