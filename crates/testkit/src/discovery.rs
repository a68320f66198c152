//! Discovery runs against the test NetBox, and finding and removing what they created.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Duration, Utc};
use hedgehog_sidecar::config::{HostSourceSettings, InventorySourceSettings, MappingConfig};
use hedgehog_sidecar::discovery::sources::inventory::InventorySource;
use hedgehog_sidecar::discovery::sources::proxmox::ProxmoxSource;
use hedgehog_sidecar::discovery::{RunOptions, RunReport, Source, run};
use hedgehog_sidecar::netbox::NetBoxClient;
use serde_json::Value;

use hedgehog_sidecar::netbox::setup::ensure_schema;

use crate::netbox::{NETBOX, client, creation_defaults, free_octet, unique};

/// A discovery scenario against the test NetBox: NetBox to itself among the binary's
/// scenarios, its schema for discovery (custom fields, stale tag) in place, a unique prefix
/// for names and slugs, and a free 10.`octet`.0.0/16 for addresses. NetBox is the scenario's
/// while `lock` lives: bind it (`lock: _lock`) when taking the scenario apart.
pub struct Scenario {
    pub lock: tokio::sync::MutexGuard<'static, ()>,
    pub client: NetBoxClient,
    pub prefix: String,
    pub octet: u8,
}

impl Scenario {
    /// Waits for NetBox, then prepares it; names start with `prefix`.
    pub async fn start(prefix: &str) -> Scenario {
        let netbox = NETBOX.lock().await;
        let client = client();
        ensure_schema(&client, &[MappingConfig::default()])
            .await
            .expect("the discovery schema");
        let octet = free_octet(&client).await;
        Scenario {
            lock: netbox,
            client,
            prefix: unique(prefix),
            octet,
        }
    }
}

/// One run of `sources` as if `days_later` days had passed (stale after 7 days); panics when
/// a source fails.
pub async fn discover(sources: &[Arc<dyn Source>], dry_run: bool, days_later: i64) -> RunReport {
    let options = RunOptions {
        dry_run,
        create_cables: false,
        stale_after: Duration::days(7),
        now: Utc::now() + Duration::days(days_later),
    };
    let report = run(&client(), sources, &MappingConfig::default(), &options)
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

/// Runs `sources` once more and asserts the run plans no write (what a steady source must do).
pub async fn assert_second_run_writes_nothing(sources: &[Arc<dyn Source>]) {
    let again = discover(sources, false, 0).await;
    assert!(
        again.plan.is_empty(),
        "a second run writes nothing: {:?}",
        again.plan
    );
}

/// The first page of the objects at `path` whose `key` is `value`.
pub async fn find(client: &NetBoxClient, path: &str, key: &str, value: &str) -> Vec<Value> {
    let query = [(key.to_owned(), value.to_owned())];
    let page: Value = client.get(path, &query).await.expect(path);
    page["results"].as_array().cloned().unwrap_or_default()
}

/// The first object of `path` whose `key` is `value`; panics when there is none.
pub async fn find_one(client: &NetBoxClient, path: &str, key: &str, value: &str) -> Value {
    find(client, path, key, value)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {path} with {key} = {value}"))
}

/// Deletes `objects` of `path`, ignoring those already gone.
pub async fn delete_all(client: &NetBoxClient, path: &str, objects: Vec<Value>) {
    for object in objects {
        let _ = client
            .delete::<Value>(&format!("{path}{}/", object["id"]), None)
            .await;
    }
}

/// Deletes the references a run created with `testkit::netbox::creation_defaults(prefix)`
/// (site, role, manufacturer, device type, cluster type) and the cluster named `cluster`.
pub async fn delete_references(client: &NetBoxClient, prefix: &str, cluster: &str) {
    for (path, key, value) in [
        ("virtualization/clusters/", "name", cluster),
        ("virtualization/cluster-types/", "slug", prefix),
        ("dcim/device-types/", "slug", prefix),
        ("dcim/manufacturers/", "slug", prefix),
        ("dcim/device-roles/", "slug", prefix),
        ("dcim/sites/", "slug", prefix),
    ] {
        let objects = find(client, path, key, value).await;
        delete_all(client, path, objects).await;
    }
}

/// The inventory source `inventory:<name>` reading `paths`, creating into the references of
/// [`creation_defaults`]`(refs)`.
pub fn inventory_source(name: &str, paths: Vec<PathBuf>, refs: &str) -> Arc<dyn Source> {
    let settings = InventorySourceSettings {
        name: name.into(),
        paths,
        enabled: false,
        interval_secs: 60,
        create: true,
        defaults: creation_defaults(refs),
    };
    Arc::new(InventorySource::new(
        &settings,
        &MappingConfig::default().custom_fields,
    ))
}

/// The Proxmox VE source `proxmox:<name>` reading the API at `url` (a recorded or generated
/// one) with a made-up token, creating into the references of [`creation_defaults`]`(name)`.
pub fn proxmox_source(name: &str, url: &str) -> Arc<dyn Source> {
    let settings: HostSourceSettings = serde_json::from_value(serde_json::json!({
        "name": name, "url": url, "token": "monitor@pve!test=secret", "timeout_secs": 300,
        "defaults": creation_defaults(name),
    }))
    .expect("Proxmox settings");
    let names = MappingConfig::default().custom_fields;
    Arc::new(ProxmoxSource::new(0, &settings, &names).expect("a Proxmox source"))
}
