//! The generated bench fabric shared by the benches (`netbox_load`, `reconcile`,
//! `writeback_load`, `publish_load`, `publish_step`): its shape, a client for the real NetBox of
//! `netbox-up`, a test server for it to apply to, and seeding it once, through a server of that NetBox that fires no event rule ([`QuietNetBox`]).

use std::time::{Duration, Instant};

use hedgehog_sidecar::config::{FabricConfig, Settings};
use hedgehog_sidecar::netbox::seed::{
    SeedOptions, create_snapshot_objects, delete_snapshot_objects,
};
use hedgehog_sidecar::netbox::setup::ensure_schema;
use hedgehog_sidecar::netbox::{ListQuery, endpoints};
use hedgehog_sidecar::netbox::{NetBoxClient, load_fabric};
use serde_json::{Value, json};
pub use testkit::netbox::var;
use testkit::synthetic::SyntheticFabric;

#[path = "quiet_netbox.rs"]
mod quiet_netbox;
pub use quiet_netbox::QuietNetBox;

/// NetBox's webhook queue: its RQ `default` queue in its Redis database (14 for `netbox-up`).
const NETBOX_RQ_REDIS: &str = "redis://127.0.0.1:6379/14";

/// A client for the NetBox of `netbox-up` (NETBOX_URL, NETBOX_TOKEN_V2), patient enough to
/// list a 10,000-object fabric from a busy NetBox.
pub fn client() -> NetBoxClient {
    client_of(&var("NETBOX_URL"), Duration::from_secs(300))
}

/// A client for `quiet`, patient enough for a bulk POST of devices with all their
/// interfaces on a loaded machine.
pub fn quiet_client(quiet: &QuietNetBox) -> NetBoxClient {
    client_of(&quiet.url, Duration::from_secs(900))
}

fn client_of(url: &str, timeout: Duration) -> NetBoxClient {
    let mut options = testkit::netbox::options(url, &var("NETBOX_TOKEN_V2"));
    options.timeout = timeout;
    options.max_retries = 3;
    NetBoxClient::new(options).expect("client")
}

/// The settings of a sidecar served in a bench's process for `fabric`: any port, the queue in
/// `dir`, webhooks signed with `secret` and taken from every user, the NetBox of `netbox-up`.
#[allow(dead_code)]
pub fn sidecar_settings(fabric: FabricConfig, dir: &std::path::Path, secret: &str) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        fabrics: vec![fabric],
        ..Settings::default()
    };
    settings.webhook.secret = Some(secrecy::SecretString::from(secret.to_owned()));
    settings.webhook.ignore_users = vec![];
    settings.queue.data_dir = dir.join("queue");
    settings.netbox.url = Some(var("NETBOX_URL"));
    settings.netbox.token = Some(secrecy::SecretString::from(var("NETBOX_TOKEN_V2")));
    settings.netbox.timeout_secs = 300;
    settings
}

/// A Kubernetes API test server holding the fabric's configuration and switch profiles, with
/// `fabric` applying to it through a kubeconfig in `dir`.
#[allow(dead_code)]
pub async fn fabric_cluster(
    fabric: &mut FabricConfig,
    dir: &std::path::Path,
) -> kube_testserver::TestServer {
    let server = kube_testserver::TestServer::start(&testkit::paths::crds_dir())
        .await
        .expect("test server");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    testkit::fabric_env::seed_fabric(&server, &fabric.mapping.settings).await;
    fabric.kubeconfig = Some(kubeconfig);
    server
}

/// Deliveries waiting in NetBox's webhook queue, or `None` when its Redis cannot be read.
pub fn webhook_queue_len() -> Option<u64> {
    let url = std::env::var("HHS_BENCH_NETBOX_RQ_REDIS").unwrap_or(NETBOX_RQ_REDIS.to_owned());
    let mut redis = redis::Client::open(url).ok()?.get_connection().ok()?;
    redis::cmd("LLEN")
        .arg("rq:queue:default")
        .query(&mut redis)
        .ok()
}

/// The bench fabric: `HHS_BENCH_FABRIC=10k` (default, about 10,400 objects) or `small`
/// (about 1,300 objects, for a NetBox too busy to seed 10k in reasonable time).
pub fn spec() -> SyntheticFabric {
    match std::env::var("HHS_BENCH_FABRIC").as_deref() {
        Ok("small") => SyntheticFabric {
            spines: 2,
            leaves: 8,
            servers_per_leaf: 16,
            vpcs: 8,
            ..SyntheticFabric::new("bench-small", 252, 4_292_000_000)
        },
        _ => SyntheticFabric {
            spines: 4,
            leaves: 25,
            servers_per_leaf: 48,
            vpcs: 20,
            ..SyntheticFabric::new("bench-10k-v3", 250, 4_290_000_000)
        },
    }
}

/// Seeds the bench fabric unless a complete copy is already in NetBox. Seeding goes through a
/// [`QuietNetBox`], so it queues no webhook delivery, whatever event rules others have made.
pub async fn ensure_seeded(client: &NetBoxClient, config: &FabricConfig) {
    let fabric_name = &config.name;
    let wanted = spec().generate(&config.mapping);
    let present = load_fabric(client, config)
        .await
        .expect("load bench fabric");
    if present.len() == wanted.len() {
        eprintln!(
            "reusing seeded fabric {fabric_name} ({} objects)",
            present.len()
        );
        return;
    }
    let quiet = QuietNetBox::start().await;
    let queued_before = webhook_queue_len();
    let client = &quiet_client(&quiet);
    if !present.is_empty() {
        eprintln!(
            "removing an incomplete {fabric_name} ({} objects)",
            present.len()
        );
        delete_snapshot_objects(client, &present)
            .await
            .expect("delete");
    }
    remove_leftover_devices(client, fabric_name).await;
    // Custom fields must exist before objects carry them; no webhook is wanted here.
    ensure_schema(client, std::slice::from_ref(&config.mapping))
        .await
        .expect("custom fields, tags and roles");
    eprintln!("seeding {fabric_name}: {} objects", wanted.len());
    let started = Instant::now();
    let options = SeedOptions {
        default_site: fabric_name.clone(),
        ..SeedOptions::default()
    };
    create_snapshot_objects(client, &wanted, &options)
        .await
        .expect("seed bench fabric");
    eprintln!(
        "seeded in {:.1}s; NetBox's webhook queue held {queued_before:?} deliveries before, {:?} after",
        started.elapsed().as_secs_f64(),
        webhook_queue_len()
    );
}

/// An interrupted seed can leave servers that no cable ties to the fabric yet (so the fabric's
/// load does not see them): delete every device of the bench fabric's own site.
async fn remove_leftover_devices(client: &NetBoxClient, site: &str) {
    let query = ListQuery::new().filter("site", site).fields(&["id"]);
    let devices: Vec<Value> = match client.list(endpoints::DEVICES.path, &query).await {
        Ok(devices) => devices,
        // NetBox refuses a filter on a site that does not exist: nothing to remove.
        Err(e) if e.status() == Some(400) => return,
        Err(e) => panic!("list the bench site's devices: {e}"),
    };
    if devices.is_empty() {
        return;
    }
    eprintln!("removing {} leftover devices of site {site}", devices.len());
    for chunk in devices.chunks(500) {
        let ids: Vec<Value> = chunk.iter().map(|d| json!({"id": d["id"]})).collect();
        client
            .delete(endpoints::DEVICES.path, Some(&ids))
            .await
            .expect("delete leftover devices");
    }
}
