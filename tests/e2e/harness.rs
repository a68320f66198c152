//! Shared set-up: a fabric seeded into the real NetBox under a unique name and site, the
//! sidecar's settings for it, and clean-up.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hedgehog_sidecar::api::{AppOptions, spawn_app};
use hedgehog_sidecar::netbox::setup::{SetupSpec, remove_webhook, run_setup};
use hedgehog_sidecar::pipeline::FabricServices;
use tokio_util::sync::CancellationToken;

use hedgehog_sidecar::config::{
    FabricConfig, FabricMode, MappingConfig, Settings, ValidationLevel,
};
use hedgehog_sidecar::netbox::fabric_record::find_record;
use hedgehog_sidecar::netbox::seed::{
    IdMap, SeedOptions, create_snapshot_objects, delete_snapshot_objects,
};
use hedgehog_sidecar::netbox::setup::ensure_schema;
use hedgehog_sidecar::netbox::{FabricSnapshot, load_fabric};
use secrecy::SecretString;
use serde_json::{Value, json};
pub use testkit::eventually_some;
pub use testkit::logs::show_logs;
pub use testkit::netbox::{NETBOX, client, unique, var};
use testkit::oracle::FabricCluster;

use super::docs_fabric::{cluster_snapshot, docs_snapshot};
use super::webhook_counter::{Delivery, WebhookCounter};

/// A fabric in NetBox for one scenario; deleted again by [`Seeded::remove`].
pub struct Seeded {
    pub name: String,
    pub ids: IdMap,
    pub snapshot: FabricSnapshot,
    /// Its mapping: the fabric-wide settings its addressing fits (hhfab's defaults for the
    /// plain docs fabric), the profiles of its device types.
    pub mapping: MappingConfig,
}

impl Seeded {
    /// The docs fabric as the sample has it (no switch addressing): for render and commit.
    pub async fn create(prefix: &str) -> Seeded {
        let name = unique(prefix);
        let snapshot = docs_snapshot(&name, testkit::netbox::free_octet(&client()).await);
        Seeded::seed(name, snapshot, MappingConfig::default()).await
    }

    async fn seed(name: String, snapshot: FabricSnapshot, mapping: MappingConfig) -> Seeded {
        let options = SeedOptions {
            default_site: name.clone(),
            manufacturer: "hedgehog".into(),
        };
        ensure_schema(&client(), std::slice::from_ref(&mapping))
            .await
            .expect("custom fields, tags and roles");
        let ids = create_snapshot_objects(&client(), &snapshot, &options)
            .await
            .expect("seed NetBox");
        Seeded {
            name,
            ids,
            snapshot,
            mapping,
        }
    }

    /// A /24 inside the fabric's IPv4Namespace (the `n`th of its prefix): a namespace prefix
    /// that overlaps the fabric's own.
    pub fn namespace_slice(&self, n: u8) -> String {
        let namespace: ipnet::Ipv4Net = self.snapshot.prefixes[0].prefix.parse().unwrap();
        let [a, b, c, _] = namespace.network().octets();
        format!("{a}.{b}.{}.0/24", c + n)
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
        fabric.mapping = self.mapping.clone();
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

/// `seeded`'s fabric in commit mode, pushing to a new bare repository in `dir` (returned) with
/// a 200 ms batch window.
pub fn commit_fabric(seeded: &Seeded, dir: &Path) -> (FabricConfig, std::path::PathBuf) {
    let remote = dir.join("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    let mut fabric = seeded.fabric(FabricMode::Commit);
    fabric.git = Some(
        serde_json::from_value(json!({
            "url": remote.to_str().unwrap(),
            "path": "fabrics/lab",
            "batch_window_ms": 200,
        }))
        .unwrap(),
    );
    (fabric, remote)
}

/// A fabric seeded into NetBox complete for a running cluster, in apply mode, validated at
/// cluster level, to a fresh Kubernetes test server running the fabric's own webhooks
/// (configured with the fabric's settings), whose kubeconfig is in `dir`.
pub struct ClusterFabric {
    pub seeded: Seeded,
    pub server: FabricCluster,
    pub dir: tempfile::TempDir,
    pub fabric: FabricConfig,
}

impl ClusterFabric {
    /// The docs fabric ([`cluster_snapshot`]); `None`, said on stderr, when the fabric's
    /// webhooks cannot be built here.
    pub async fn create(prefix: &str) -> Option<Self> {
        ClusterFabric::create_from(prefix, |name, octet| {
            let (snapshot, settings) = cluster_snapshot(name, octet);
            let mapping = MappingConfig {
                settings,
                ..MappingConfig::default()
            };
            (snapshot, mapping)
        })
        .await
    }

    /// The fabric `generate` makes for a fabric name and a free 10.x.0.0/16, with its mapping.
    pub async fn create_from(
        prefix: &str,
        generate: impl FnOnce(&str, u8) -> (FabricSnapshot, MappingConfig),
    ) -> Option<Self> {
        let name = unique(prefix);
        let octet = testkit::netbox::free_octet(&client()).await;
        let (snapshot, mapping) = generate(&name, octet);
        let server = FabricCluster::start_with(&mapping.settings, prefix).await?;
        let seeded = Seeded::seed(name, snapshot, mapping).await;
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        let mut fabric = seeded.fabric(FabricMode::Apply);
        fabric.validation = ValidationLevel::Cluster;
        fabric.kubeconfig = Some(kubeconfig);
        Some(Self {
            seeded,
            server,
            dir,
            fabric,
        })
    }
}

impl ClusterFabric {
    /// The sidecar's settings for this fabric.
    pub fn settings(&self) -> Settings {
        settings(self.fabric.clone(), self.dir.path())
    }
}

/// The start of a cluster scenario: logs shown, the shared NetBox held for the test (keep the
/// guard), and a fabric seeded into NetBox and applied to its own test server.
/// `None`, said on stderr, when the fabric's webhooks cannot be built here.
pub async fn cluster_scenario(
    prefix: &str,
) -> Option<(tokio::sync::MutexGuard<'static, ()>, ClusterFabric)> {
    show_logs();
    let netbox = NETBOX.lock().await;
    remove_stale_webhooks().await;
    Some((netbox, ClusterFabric::create(prefix).await?))
}

/// Removes the webhooks (and their event rules) an earlier e2e run left behind when it failed
/// before its clean-up: those named `e2e-...` whose sidecar no longer listens. Each would make
/// NetBox's single worker deliver every later change to a closed port.
async fn remove_stale_webhooks() {
    let hooks = get("/extras/webhooks/?name__isw=e2e-&limit=1000").await;
    for hook in hooks["results"].as_array().into_iter().flatten() {
        let (Some(name), Some(url)) = (hook["name"].as_str(), hook["payload_url"].as_str()) else {
            continue;
        };
        let listening = url
            .parse::<reqwest::Url>()
            .ok()
            .and_then(|u| u.socket_addrs(|| None).ok())
            .and_then(|addrs| addrs.first().copied())
            .is_some_and(|addr| std::net::TcpStream::connect(addr).is_ok());
        if !listening {
            let _ = remove_webhook(&client(), name).await;
        }
    }
}

/// The fabric side of the sidecar (NetBox client, targets) for `settings`.
pub async fn services(settings: &Settings) -> FabricServices {
    FabricServices::build(settings, None)
        .await
        .expect("services")
}

/// Starts the sidecar for `settings` and points NetBox's webhook `webhook` at it. The name is
/// fixed per scenario, so a run that failed before removing it leaves one stale webhook at most.
pub async fn serve(settings: &Settings, shutdown: &CancellationToken, webhook: &str) -> String {
    start_sidecar(settings, shutdown, Some(webhook), true).await;
    webhook.to_owned()
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

/// A sidecar serving `settings` as `serve` does (its workers only when `workers`), with its
/// shared state; NetBox's webhook `webhook` points at it when given. The webhook's name is
/// fixed per scenario, so a run that failed before removing it leaves one stale webhook at most.
pub struct Sidecar {
    pub addr: std::net::SocketAddr,
    pub app: hedgehog_sidecar::api::RunningApp,
}

pub async fn start_sidecar(
    settings: &Settings,
    shutdown: &CancellationToken,
    webhook: Option<&str>,
    workers: bool,
) -> Sidecar {
    start_sidecar_with(settings, shutdown, webhook, workers, |services| {
        Arc::new(services.job_handler())
    })
    .await
}

/// [`start_sidecar`] with the job handler `handler` makes from the services.
pub async fn start_sidecar_with(
    settings: &Settings,
    shutdown: &CancellationToken,
    webhook: Option<&str>,
    workers: bool,
    handler: impl FnOnce(&FabricServices) -> Arc<dyn hedgehog_sidecar::queue::JobHandler>,
) -> Sidecar {
    let services = Arc::new(
        FabricServices::build(settings, None)
            .await
            .expect("services"),
    );
    let options = AppOptions {
        workers,
        shared: Some(services.shared.clone()),
        ..AppOptions::default()
    };
    let app = spawn_app(settings, handler(&services), shutdown.clone(), options)
        .await
        .expect("the sidecar starts");
    if let Some(name) = webhook {
        let spec = SetupSpec {
            sidecar_url: format!("http://{}", app.addr),
            webhook_secret: settings.webhook.secret.clone(),
            mappings: vec![settings.fabrics[0].mapping.clone()],
            name: name.to_owned(),
            sidecar_user: None,
            ..SetupSpec::default()
        };
        run_setup(&client(), &spec)
            .await
            .expect("setup creates the webhook and event rule");
    }
    Sidecar {
        addr: app.addr,
        app,
    }
}

/// `settings` with the Redis queue (the test database) under a key prefix of its own.
pub fn with_redis(mut settings: Settings) -> Settings {
    settings.redis_url = Some(SecretString::from(testkit::redis::redis_url()));
    settings.queue.key_prefix = testkit::redis::unique_prefix();
    settings
}

/// The journal entries of one NetBox object, newest first.
pub async fn journal(object_type: &str, id: u64) -> Vec<String> {
    let journal = get(&format!(
        "/extras/journal-entries/?assigned_object_type={object_type}&assigned_object_id={id}"
    ))
    .await;
    journal["results"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["comments"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The request id of the newest change NetBox logged for an object.
pub async fn last_request_id(object_type: &str, id: u64) -> String {
    let changes = get(&format!(
        "/core/object-changes/?changed_object_type={object_type}&changed_object_id={id}&ordering=-time&limit=1"
    ))
    .await;
    changes["results"][0]["request_id"]
        .as_str()
        .expect("a logged change")
        .to_owned()
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

/// How long an edit's delivery may take: NetBox's one webhook worker is shared by every test
/// and bench on the machine, and its queue can hold minutes of others' deliveries.
const DELIVERY_WAIT: Duration = Duration::from_secs(900);

/// Saves a user's edit of `device` and waits for its delivery. NetBox's worker sends its
/// queue in order, so everything enqueued before the edit has arrived by then: returns those
/// deliveries, the edit's own, and how long the edit took to arrive after its save.
pub async fn deliveries_through_an_edit(
    counter: &WebhookCounter,
    device: u64,
) -> (Vec<Delivery>, Delivery, Duration) {
    let before = counter.len();
    let description = unique("edited");
    let saved = Instant::now();
    patch(
        &format!("/dcim/devices/{device}/"),
        json!({"description": description}),
    )
    .await;
    let index = eventually_some(DELIVERY_WAIT, "the edit's delivery", || async {
        counter
            .deliveries()
            .iter()
            .enumerate()
            .skip(before)
            .find(|(_, d)| d.body["data"]["description"] == json!(description))
            .map(|(i, _)| i)
    })
    .await;
    let deliveries = counter.deliveries();
    let edit = deliveries[index].clone();
    let latency = edit.at - saved;
    (deliveries[before..index].to_vec(), edit, latency)
}

/// [`deliveries_through_an_edit`] without the edit's own delivery.
pub async fn deliveries_before_an_edit(
    counter: &WebhookCounter,
    device: u64,
) -> (Vec<Delivery>, Duration) {
    let (earlier, _, latency) = deliveries_through_an_edit(counter, device).await;
    (earlier, latency)
}
