//! Apply mode reads the fabric's configuration and switch profiles from the cluster, on the
//! Kubernetes API test server seeded as a Hedgehog cluster holds them: the ConfigMap
//! `fab/fabric-ctrl-config` and the SwitchProfile objects.

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::config::FabricSettings;
use hedgehog_sidecar::fabric_env::FabricEnvSource;
use hedgehog_sidecar::model::Kind;
use hedgehog_sidecar::model::fabric_config::fabric_config_yaml;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube_testserver::TestServer;
use testkit::fabric_env::{seed_fabric_config, seed_switch_profiles};
use testkit::kube::objects;
use testkit::paths::crds_dir;

fn fabric(settings: serde_json::Value) -> FabricConfig {
    serde_json::from_value(serde_json::json!({"name": "lab", "mapping": {"settings": settings}}))
        .unwrap()
}

/// A test server without the fabric's webhooks: these tests read the configuration and the
/// profiles and apply no fabric object, and seed the profiles themselves (the webhooks would
/// create the whole catalog).
async fn cluster() -> (TestServer, FabricEnvSource) {
    let server = TestServer::start(&crds_dir()).await.expect("test server");
    let client = server.client().await.expect("client");
    (server, FabricEnvSource::Cluster(client))
}

/// The spine ASN of the fabric's configuration as `source` reads it now.
async fn spine_asn(source: &FabricEnvSource, fabric: &FabricConfig) -> u32 {
    let resolved = source
        .resolve(fabric)
        .await
        .expect("the configuration is read");
    resolved.mapping.settings.spine_asn
}

fn settings_yaml(spine_asn: u32) -> String {
    fabric_config_yaml(&FabricSettings {
        spine_asn,
        ..FabricSettings::default()
    })
}

#[tokio::test]
async fn the_cluster_configuration_and_profiles_are_read_and_the_sidecars_settings_override_them() {
    let (server, source) = cluster().await;
    seed_fabric_config(&server, &settings_yaml(64999)).await;
    seed_switch_profiles(&server, &["vs", "dell-s5248f-on"]).await;

    let resolved = source
        .resolve(&fabric(serde_json::json!({"leaf_asn_start": 64001})))
        .await
        .expect("the fabric's configuration is read");
    assert_eq!(
        resolved.mapping.settings.spine_asn, 64999,
        "from the ConfigMap"
    );
    assert_eq!(
        resolved.mapping.settings.leaf_asn_start, 64001,
        "overridden"
    );
    let profiles: Vec<&str> = resolved.mapping.profiles.names().collect();
    assert_eq!(
        profiles,
        ["dell-s5248f-on", "vs"],
        "the cluster's catalog, not the built-in one"
    );
}

#[tokio::test]
async fn a_changed_config_map_is_read_at_the_next_render_without_restart() {
    let (server, source) = cluster().await;
    seed_fabric_config(&server, &settings_yaml(64999)).await;
    seed_switch_profiles(&server, &["vs"]).await;
    let fabric = fabric(serde_json::json!({}));
    assert_eq!(spine_asn(&source, &fabric).await, 64999);

    let maps: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "fab");
    let patch = serde_json::json!({"data": {"config.yaml": settings_yaml(64998)}});
    maps.patch(
        "fabric-ctrl-config",
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .expect("ConfigMap changed");
    assert_eq!(spine_asn(&source, &fabric).await, 64998);
}

#[tokio::test]
async fn a_missing_or_malformed_configuration_is_a_clear_error() {
    let (server, source) = cluster().await;
    let fabric = fabric(serde_json::json!({}));
    seed_switch_profiles(&server, &["vs"]).await;
    let error = source.resolve(&fabric).await.unwrap_err().to_string();
    assert!(
        error.contains("fab/fabric-ctrl-config") && error.contains("does not exist"),
        "{error}"
    );

    seed_fabric_config(&server, "fabricSubnet: not-a-subnet\n").await;
    let error = source.resolve(&fabric).await.unwrap_err();
    assert!(!error.is_retryable(), "only a change fixes it");
    assert!(error.to_string().contains("fabricSubnet"), "{error}");

    seed_fabric_config(&server, &settings_yaml(65100)).await;
    let profiles = objects(&server.client().await.unwrap(), Kind::SwitchProfile);
    profiles
        .delete("vs", &DeleteParams::default())
        .await
        .unwrap();
    let error = source.resolve(&fabric).await.unwrap_err().to_string();
    assert!(
        error.contains("SwitchProfile") && error.contains("none"),
        "{error}"
    );
}
