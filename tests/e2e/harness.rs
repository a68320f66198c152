//! Shared set-up: a fabric seeded into the real NetBox under a unique name and site, the
//! sidecar's settings for it, and clean-up.

use std::path::Path;

use hedgehog_sidecar::config::{FabricConfig, FabricMode, Settings, ValidationLevel};
use hedgehog_sidecar::netbox::fabric_record::find_record;
use hedgehog_sidecar::netbox::seed::{
    IdMap, SeedOptions, create_snapshot_objects, delete_snapshot_objects,
};
use hedgehog_sidecar::netbox::setup::ensure_schema;
use hedgehog_sidecar::netbox::types::NestedRef;
use hedgehog_sidecar::netbox::{FabricSnapshot, load_fabric};
use kube_testserver::TestServer;
use secrecy::SecretString;
use serde_json::{Value, json};
pub use testkit::eventually_some;
pub use testkit::logs::show_logs;
pub use testkit::netbox::{NETBOX, client, unique, var};
pub use testkit::paths::crds_dir;

/// The docs sample's NetBox objects, moved to fabric `fabric` in its own site.
pub fn docs_snapshot(fabric: &str) -> FabricSnapshot {
    let path = testkit::paths::fixture("docs-wiring.snapshot.json");
    let mut snapshot = FabricSnapshot::load(&path).expect("fixture");
    let site = NestedRef {
        id: 1,
        name: Some(fabric.into()),
        slug: Some(fabric.into()),
        display: None,
    };
    for device in &mut snapshot.devices {
        device.site = Some(site.clone());
    }
    let retarget = |cf: &mut hedgehog_sidecar::netbox::types::CustomFields| {
        if cf.0.contains_key("hedgehog_fabric") {
            cf.0.insert("hedgehog_fabric".into(), json!(fabric));
        }
    };
    // NetBox keeps prefixes unique in the global table: each scenario gets its own /16.
    let octet = 1 + rand::random::<u8>() % 250;
    for prefix in &mut snapshot.prefixes {
        prefix.prefix = prefix.prefix.replacen("10.0.", &format!("10.{octet}."), 1);
    }
    snapshot
        .devices
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .vlan_groups
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .prefixes
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
        .vrfs
        .iter_mut()
        .for_each(|o| retarget(&mut o.custom_fields));
    snapshot
}

/// A fabric in NetBox for one scenario; deleted again by [`Seeded::remove`].
pub struct Seeded {
    pub name: String,
    pub ids: IdMap,
    pub snapshot: FabricSnapshot,
}

impl Seeded {
    pub async fn create(prefix: &str) -> Seeded {
        let name = unique(prefix);
        let snapshot = docs_snapshot(&name);
        let options = SeedOptions {
            default_site: name.clone(),
            manufacturer: "hedgehog".into(),
        };
        let fabric: FabricConfig = serde_json::from_value(json!({"name": name})).unwrap();
        ensure_schema(&client(), std::slice::from_ref(&fabric.mapping))
            .await
            .expect("custom fields, tags and roles");
        let ids = create_snapshot_objects(&client(), &snapshot, &options)
            .await
            .expect("seed NetBox");
        Seeded {
            name,
            ids,
            snapshot,
        }
    }

    /// The NetBox id of the fixture's device called `name`.
    pub fn device_id(&self, name: &str) -> u64 {
        let old = self
            .snapshot
            .devices
            .iter()
            .find(|d| d.name.as_deref() == Some(name))
            .expect("device")
            .id;
        self.ids.get("dcim.device", old).expect("seeded")
    }

    pub fn fabric(&self, mode: FabricMode) -> FabricConfig {
        let mut fabric: FabricConfig = serde_json::from_value(json!({"name": self.name})).unwrap();
        fabric.mode = mode;
        fabric.validation = ValidationLevel::Wiring;
        fabric
    }

    pub async fn remove(self) {
        let client = client();
        let fabric = self.fabric(FabricMode::Apply);
        if let Ok(loaded) = load_fabric(&client, &fabric).await {
            let _ = delete_snapshot_objects(&client, &loaded).await;
        }
        let record_type = &fabric.mapping.fabric_record_type;
        if let Ok(Some(record)) = find_record(&client, record_type, &self.name).await {
            let _ = client
                .delete::<()>(&format!("virtualization/clusters/{}/", record.id), None)
                .await;
        }
    }
}

/// A fabric seeded into NetBox, in apply mode to a fresh Kubernetes test server whose
/// kubeconfig is in `dir`.
pub struct ClusterFabric {
    pub seeded: Seeded,
    pub server: TestServer,
    pub dir: tempfile::TempDir,
    pub fabric: FabricConfig,
}

impl ClusterFabric {
    pub async fn create(prefix: &str) -> Self {
        let seeded = Seeded::create(prefix).await;
        let server = TestServer::start(&crds_dir()).await.expect("test server");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        let mut fabric = seeded.fabric(FabricMode::Apply);
        fabric.kubeconfig = Some(kubeconfig);
        Self {
            seeded,
            server,
            dir,
            fabric,
        }
    }
}

/// Settings for the sidecar serving `fabric`, with its data in `data_dir`.
pub fn settings(fabric: FabricConfig, data_dir: &Path) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        fabrics: vec![fabric],
        ..Settings::default()
    };
    settings.webhook.secret = Some(SecretString::from(unique("secret")));
    settings.webhook.ignore_users = vec![];
    settings.queue.data_dir = data_dir.to_owned();
    settings.queue.backoff_initial_ms = 200;
    settings.netbox.url = Some(var("NETBOX_URL"));
    settings.netbox.token = Some(SecretString::from(var("NETBOX_TOKEN_V2")));
    settings
}

/// Fabric `name`'s own record (a cluster of type `hedgehog-fabric`), as NetBox serves it.
pub async fn fabric_record(name: &str) -> Value {
    let found = get(&format!(
        "/virtualization/clusters/?type=hedgehog-fabric&name={name}"
    ))
    .await;
    found["results"][0].clone()
}

/// PATCHes one NetBox object (as a user would in the UI).
pub async fn patch(path: &str, body: Value) {
    let _: Value = client().patch(path, &body).await.expect("PATCH NetBox");
}

pub async fn get(path: &str) -> Value {
    client().get(path, &[]).await.expect("GET NetBox")
}

/// A Switch as the Kubernetes test server holds it.
pub async fn cluster_object(
    client: &kube::Client,
    plural: &str,
    kind: &str,
    group: &str,
    name: &str,
) -> Option<Value> {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1beta1", kind), plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    api.get_opt(name)
        .await
        .ok()
        .flatten()
        .map(|o| serde_json::to_value(o).unwrap())
}
