//! The web UI's object page end to end: a fabric seeded into the real NetBox and applied to the
//! Kubernetes test server, one switch then edited in the cluster, and the page of that switch
//! in headless Chromium showing the YAML rendered from NetBox, the live object with the edit,
//! and the diff row of the edited field with both values. The screenshot is kept with the UI
//! tests' (`<target>/tmp/ui-screenshots/object-e2e.png`).

use std::path::Path;
use std::sync::Arc;

use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::api::{AppOptions, FabricsApi, spawn_app};
use hedgehog_sidecar::config::Settings;
use hedgehog_sidecar::reconcile::scheduler::Scheduler;
use hedgehog_sidecar::reconcile::{ObjectState, ReconcileOptions, SyncStatus};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use secrecy::SecretString;
use serde_json::json;
use testkit::browser::{Driver, check, installed, sign_in, text_of};
use testkit::handler::RecordingHandler;
use testkit::oracle::FabricCluster;
use tokio_util::sync::CancellationToken;

use super::harness::*;

const EDIT: &str = "edited in the cluster for the UI";

/// What the object page shows in its three parts, and NetBox's value of the edited field.
struct ObjectPage {
    diff: String,
    rendered: String,
    live: String,
    netbox_value: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox and chromium"]
async fn the_object_page_shows_a_drifted_switch_rendered_live_and_diffed() {
    if !installed() {
        return;
    }
    let Some((_netbox, cluster)) = cluster_scenario("e2e-ui-object").await else {
        return;
    };
    let settings = cluster.settings();
    let ClusterFabric {
        seeded,
        server,
        dir,
        ..
    } = cluster;
    // In a task of its own, so that a failed step still removes the fabric from NetBox
    // before the test fails with it.
    let shown = tokio::spawn(drifted_object_page(settings, server, seeded.name.clone())).await;
    seeded.remove().await;
    drop(dir);
    let page = shown.unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));

    assert!(
        page.diff.contains("spec.description")
            && page.diff.contains(EDIT)
            && page.diff.contains(&page.netbox_value),
        "the diff row names the field, NetBox's value and the cluster's:\n{}",
        page.diff
    );
    assert!(
        page.rendered.contains("name: spine-01")
            && page
                .rendered
                .contains(&format!("description: {}", page.netbox_value))
            && !page.rendered.contains(EDIT),
        "the rendered YAML is NetBox's:\n{}",
        page.rendered
    );
    assert!(
        page.live.contains("name: spine-01") && page.live.contains(&format!("description: {EDIT}")),
        "the live YAML is the cluster's, with the edit:\n{}",
        page.live
    );
}

/// Applies the fabric, edits `spine-01` in the cluster, lets a pass without self-healing
/// report the drift (the UI shows stored reports, which a dry run does not replace), and reads
/// the switch's page from a sidecar serving the fabric.
async fn drifted_object_page(
    settings: Settings,
    server: FabricCluster,
    name: String,
) -> ObjectPage {
    let first = services(&settings)
        .await
        .reconcile(&name, ReconcileOptions::default())
        .await
        .expect("a first pass");
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.errors);

    let switches: Api<DynamicObject> = Api::namespaced_with(
        server.client().await.unwrap(),
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("wiring.githedgehog.com", "v1beta1", "Switch"),
            "switches",
        ),
    );
    let edit = Patch::Merge(json!({"spec": {"description": EDIT}}));
    switches
        .patch("spine-01", &PatchParams::default(), &edit)
        .await
        .unwrap();

    let mut reporting = settings.clone();
    reporting.fabrics[0].cluster.self_heal = false;
    let services = Arc::new(services(&reporting).await);
    let scheduler = Arc::new(services.scheduler(&reporting));
    let second = scheduler
        .reconcile_now(&name, ReconcileOptions::default())
        .await
        .expect("a second pass");
    assert_eq!(second.sync, SyncStatus::OutOfSync, "{:?}", second.errors);
    let drifted = second
        .objects
        .iter()
        .find(|o| o.state == ObjectState::Drifted)
        .expect("the edit is found as drift");
    assert_eq!(drifted.key.to_string(), "Switch/spine-01");
    let netbox_value = drifted.diffs[0].desired.as_str().unwrap_or("").to_owned();

    let token = unique("ui-token");
    let shutdown = CancellationToken::new();
    let app = spawn_app(
        &reporting,
        Arc::new(RecordingHandler::new()),
        shutdown.clone(),
        sidecar_options(scheduler, &token),
    )
    .await
    .expect("the sidecar starts");
    let base = format!("http://{}", app.addr);
    let page = format!("{base}/ui/fabrics/{name}/objects/Switch/spine-01");
    let page = read_object_page(&format!("{base}/ui/"), &token, &page, netbox_value).await;
    shutdown.cancel();
    app.stopped().await;
    page
}

/// The UI (and the API it stands on) for `scheduler`'s fabrics, signed in with `token`.
fn sidecar_options(scheduler: Arc<Scheduler>, token: &str) -> AppOptions {
    let token = ApiToken(Some(SecretString::from(token.to_owned())));
    AppOptions {
        workers: false,
        fabrics_api: Some(FabricsApi {
            scheduler,
            token: token.clone(),
        }),
        api_token: token,
        ..AppOptions::default()
    }
}

/// Signs in at `login` with `token` and reads the object page at `page` in Chromium, keeping a
/// screenshot once it shows the object, its state and its parts.
async fn read_object_page(
    login: &str,
    token: &str,
    page: &str,
    netbox_value: String,
) -> ObjectPage {
    let driver = Driver::start();
    let browser = driver.browser().await;
    sign_in(&browser, login, token).await;
    browser.goto(page).await.expect("the object page loads");
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ui-screenshots")
        .join("object-e2e.png");
    let parts = ["Switch spine-01", "drifted", "Drift", "Live in the target"];
    check(&browser, &parts, &screenshot).await;
    let shown = ObjectPage {
        diff: text_of(&browser, "#diff").await,
        rendered: text_of(&browser, "#rendered").await,
        live: text_of(&browser, "#live").await,
        netbox_value,
    };
    browser.close().await.expect("the session ends");
    shown
}
