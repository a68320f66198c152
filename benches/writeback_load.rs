//! What onboarding a large fabric costs NetBox's webhook worker, and whether a user's change
//! still gets through at once: the generated bench fabric (about 10,400 NetBox objects, or
//! `HHS_BENCH_FABRIC=small`) in the real NetBox of `netbox-up`, the sidecar served in this
//! process with `setup`'s webhook and event rules, and the Kubernetes API test server.
//!
//!     eval "$(../shared/netbox/netbox-up)"
//!     cargo bench --bench writeback_load
//!
//! 1. The fabric is seeded (once, then reused) and its statuses reset to what seeding leaves
//!    (none), both through a NetBox server that fires no event rule, so neither queues a
//!    webhook delivery for anyone sharing the NetBox.
//! 2. A first reconcile applies the fabric to the empty cluster and writes back.
//! 3. Once NetBox's webhook queue is empty, a user edits a switch's description; the edit must
//!    be in the cluster within 10 s of its save. A counting receiver behind a second copy of
//!    setup's event rules sees every delivery NetBox sent before the edit's: the first
//!    reconcile's write-back must have caused at most one per 100 mapped NetBox objects.
//!
//! NetBox's worker is shared with whatever else uses this NetBox, so the edit's latency
//! includes the deliveries others queued after the queue was found empty; the receiver counts
//! only this fabric's.

#[path = "support/bench_fabric.rs"]
mod bench_fabric;
#[path = "../tests/e2e/webhook_counter.rs"]
mod webhook_counter;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_fabric::{QuietNetBox, client, ensure_seeded, quiet_client, spec, webhook_queue_len};
use hedgehog_sidecar::api::{AppOptions, RunningApp, spawn_app};
use hedgehog_sidecar::config::{FabricConfig, Settings};
use hedgehog_sidecar::model::Kind;
use hedgehog_sidecar::netbox::setup::{SetupSpec, remove_webhook, run_setup};
use hedgehog_sidecar::netbox::writeback::{CustomFieldUpdate, patch_custom_fields};
use hedgehog_sidecar::netbox::{FabricSnapshot, NetBoxClient, load_fabric};
use hedgehog_sidecar::pipeline::FabricServices;
use hedgehog_sidecar::reconcile::ReconcileOptions;
use hedgehog_sidecar::reconcile::netbox_io::desired_from_snapshot;
use hedgehog_sidecar::reconcile::sources::custom_fields_index;
use kube_testserver::TestServer;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use webhook_counter::WebhookCounter;

const EDIT_LIMIT: Duration = Duration::from_secs(10);
/// How long NetBox's webhook queue may take to empty before the edit is made anyway.
const QUEUE_DRAIN_LIMIT: Duration = Duration::from_secs(900);

/// Clears the sidecar's status fields wherever an earlier run left them, so the first
/// reconcile below starts from a freshly seeded fabric.
async fn reset_statuses(fabric: &FabricConfig, snapshot: &FabricSnapshot) {
    let names = &fabric.mapping.custom_fields;
    let mut by_type: BTreeMap<&str, Vec<CustomFieldUpdate>> = BTreeMap::new();
    for ((object_type, id), fields) in custom_fields_index(snapshot) {
        if fields.raw(&names.status).is_some() || fields.raw(&names.message).is_some() {
            let mut values = Map::new();
            values.insert(names.status.clone(), Value::Null);
            values.insert(names.message.clone(), Value::Null);
            by_type
                .entry(object_type)
                .or_default()
                .push(CustomFieldUpdate { id, values });
        }
    }
    if by_type.is_empty() {
        return;
    }
    let quiet = QuietNetBox::start().await;
    let client = &quiet_client(&quiet);
    for (object_type, updates) in by_type {
        eprintln!("resetting {} {object_type} statuses", updates.len());
        patch_custom_fields(client, object_type, &updates)
            .await
            .expect("reset statuses");
    }
}

fn settings(fabric: FabricConfig, dir: &std::path::Path) -> Settings {
    bench_fabric::sidecar_settings(fabric, dir, "bench-writeback-secret")
}

async fn setup(name: &str, url: &str, settings: &Settings) {
    let spec = SetupSpec {
        sidecar_url: url.to_owned(),
        webhook_secret: settings.webhook.secret.clone(),
        mappings: vec![settings.fabrics[0].mapping.clone()],
        name: name.to_owned(),
        sidecar_user: None,
        ..SetupSpec::default()
    };
    run_setup(&client(), &spec).await.expect("setup");
}

async fn switch_description(kube: &kube::Client, name: &str) -> Option<String> {
    let api = testkit::kube::objects(kube, Kind::Switch);
    let object = api.get_opt(name).await.ok().flatten()?;
    let value = serde_json::to_value(object).ok()?;
    value["spec"]["description"].as_str().map(str::to_owned)
}

/// Waits until NetBox's webhook queue is empty (what others and this run queued before the
/// edit), so the edit's time is the sidecar's and not the backlog's. Returns how long it took.
async fn wait_for_an_empty_webhook_queue() -> Duration {
    let started = Instant::now();
    loop {
        match webhook_queue_len() {
            Some(0) => return started.elapsed(),
            None => {
                eprintln!("NetBox's webhook queue cannot be read: editing at once");
                return Duration::ZERO;
            }
            Some(_) if started.elapsed() > QUEUE_DRAIN_LIMIT => {
                eprintln!("NetBox's webhook queue did not empty within {QUEUE_DRAIN_LIMIT:?}");
                return started.elapsed();
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The seeded fabric as the bench measures it.
struct Onboarded {
    fabric: FabricConfig,
    /// Every NetBox object of the fabric, by object type and id.
    objects: BTreeSet<(String, u64)>,
    /// How many of them render into a Hedgehog object.
    mapped: usize,
    /// The switch whose description the user edits.
    switch_id: u64,
    switch_name: String,
}

/// Seeds the fabric (once), resets its statuses and counts its objects.
async fn onboard(client: &NetBoxClient) -> Onboarded {
    let fabric = spec().fabric_config();
    ensure_seeded(client, &fabric).await;
    let snapshot = load_fabric(client, &fabric).await.expect("load");
    reset_statuses(&fabric, &snapshot).await;
    let objects: BTreeSet<(String, u64)> = custom_fields_index(&snapshot)
        .keys()
        .map(|(t, id)| ((*t).to_owned(), *id))
        .collect();
    let mapped = {
        let desired = desired_from_snapshot(&fabric, snapshot.clone());
        desired
            .sources
            .values()
            .flatten()
            .collect::<BTreeSet<_>>()
            .len()
    };
    let switch = snapshot
        .devices
        .iter()
        .find(|d| {
            d.custom_fields
                .raw(&fabric.mapping.custom_fields.fabric)
                .is_some()
        })
        .expect("a switch");
    let (switch_id, switch_name) = (switch.id, switch.name.clone().expect("named"));
    Onboarded {
        fabric,
        objects,
        mapped,
        switch_id,
        switch_name,
    }
}

/// The user's edit: when it was delivered and applied, and how many deliveries of the
/// fabric's objects NetBox sent before it.
struct Edit {
    caused: usize,
    delivered_after: Duration,
    applied_after: Duration,
}

/// Edits the switch's description and waits for the edit in the cluster and at the counting
/// receiver.
async fn edit_a_switch(
    client: &NetBoxClient,
    kube: &kube::Client,
    counter: &WebhookCounter,
    onboarded: &Onboarded,
) -> Edit {
    let description = format!("edited after onboarding {:08x}", rand::random::<u32>());
    let before = counter.len();
    let saved = Instant::now();
    let _: Value = client
        .patch(
            &format!("dcim/devices/{}/", onboarded.switch_id),
            &json!({"description": description}),
        )
        .await
        .expect("the user's edit");
    let applied_after = testkit::eventually_some(
        Duration::from_secs(600),
        "the edit in the cluster",
        || async {
            (switch_description(kube, &onboarded.switch_name)
                .await
                .as_deref()
                == Some(description.as_str()))
            .then(|| saved.elapsed())
        },
    )
    .await;
    let delivered =
        testkit::eventually_some(Duration::from_secs(600), "the edit's delivery", || async {
            counter
                .deliveries()
                .iter()
                .skip(before)
                .position(|d| d.body["data"]["description"] == json!(description))
                .map(|i| before + i)
        })
        .await;
    let deliveries = counter.deliveries();
    let caused = deliveries[..delivered]
        .iter()
        .filter(|d| {
            d.object_id().is_some_and(|id| {
                onboarded
                    .objects
                    .contains(&(d.object_type().to_owned(), id))
            })
        })
        .count();
    Edit {
        caused,
        delivered_after: deliveries[delivered].at - saved,
        applied_after,
    }
}

/// The sidecar serving the fabric in this process, applying to the test server, with setup's
/// webhook and a second copy of it to the counting receiver.
struct Running {
    server: TestServer,
    services: FabricServices,
    shutdown: CancellationToken,
    counter: WebhookCounter,
    _app: RunningApp,
    _dir: tempfile::TempDir,
}

async fn start(fabric: &mut FabricConfig) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let server = bench_fabric::fabric_cluster(fabric, dir.path()).await;
    let settings = settings(fabric.clone(), dir.path());
    let services = FabricServices::build(&settings, None)
        .await
        .expect("services");
    let shutdown = CancellationToken::new();
    let app = spawn_app(
        &settings,
        Arc::new(services.job_handler()),
        shutdown.clone(),
        AppOptions::default(),
    )
    .await
    .expect("the sidecar starts");
    let counter = WebhookCounter::start().await;
    setup(
        "bench-writeback",
        &format!("http://{}", app.addr),
        &settings,
    )
    .await;
    setup("bench-writeback-count", &counter.url, &settings).await;
    Running {
        server,
        services,
        shutdown,
        counter,
        _app: app,
        _dir: dir,
    }
}

#[tokio::main]
async fn main() {
    let client = client();
    let mut onboarded = onboard(&client).await;
    let running = start(&mut onboarded.fabric).await;

    let started = Instant::now();
    let first = running
        .services
        .reconcile(&onboarded.fabric.name, ReconcileOptions::default())
        .await
        .unwrap();
    let reconcile_time = started.elapsed();
    assert!(first.errors.is_empty(), "{:?}", first.errors);

    let queued_after_reconcile = webhook_queue_len();
    let drained_in = wait_for_an_empty_webhook_queue().await;
    let queued_at_edit = webhook_queue_len();
    let kube = running.server.client().await.unwrap();
    let edit = edit_a_switch(&client, &kube, &running.counter, &onboarded).await;
    let (caused, mapped, applied) = (edit.caused, onboarded.mapped, edit.applied_after);

    println!(
        "write-back load: {} NetBox objects read, {mapped} mapped, {} Hedgehog objects",
        onboarded.objects.len(),
        first.objects.len()
    );
    println!(
        "  first reconcile                        {:>7.1}s, {} NetBox writes, {} journal entries",
        reconcile_time.as_secs_f64(),
        first.netbox_updates,
        first.journal_entries
    );
    println!(
        "  webhook deliveries it caused           {caused:>7} (target <= {})",
        mapped / 100
    );
    println!(
        "  NetBox's webhook queue                 {queued_after_reconcile:?} after the reconcile, \
         empty {:.1}s later, {queued_at_edit:?} at the edit's save",
        drained_in.as_secs_f64()
    );
    println!(
        "  a user's edit delivered after its save {:>7.1}s",
        edit.delivered_after.as_secs_f64()
    );
    println!(
        "  a user's edit applied after its save   {:>7.1}s (target <= {}s)",
        applied.as_secs_f64(),
        EDIT_LIMIT.as_secs()
    );

    running.shutdown.cancel();
    remove_webhook(&client, "bench-writeback").await.unwrap();
    remove_webhook(&client, "bench-writeback-count")
        .await
        .unwrap();
    running.server.shutdown().await;
    assert!(
        caused * 100 <= mapped,
        "{caused} deliveries for {mapped} mapped objects"
    );
    assert!(applied <= EDIT_LIMIT, "the edit took {applied:?}");
}
