//! Every page in headless Chromium (through chromedriver): the content a user needs is on it,
//! and a screenshot of each is kept in `<target>/tmp/ui-screenshots/` (docs/ui/ holds copies).

use std::path::{Path, PathBuf};

use fantoccini::{Client, Locator};
use hedgehog_sidecar::queue::JobState;
use testkit::browser::{Driver, installed, sign_in, text_of};

use crate::fixture::{DEAD_ERROR, Sidecar, TOKEN};

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots")
}

/// Opens `path`, checks that the page shows each of `expected`, and keeps a screenshot.
async fn visit(browser: &Client, sidecar: &Sidecar, path: &str, expected: &[&str], shot: &str) {
    browser
        .goto(&sidecar.url(path))
        .await
        .expect("the page loads");
    check(browser, expected, shot).await;
}

/// Waits up to 10 s for the page to show each of `expected`, then keeps screenshot `shot`.
async fn check(browser: &Client, expected: &[&str], shot: &str) {
    let file = screenshots().join(format!("{shot}.png"));
    testkit::browser::check(browser, expected, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium"]
async fn every_page_shows_its_content_in_chromium() {
    if !installed() {
        return;
    }
    let sidecar = Sidecar::start("").await;
    let driver = Driver::start();
    let browser = driver.browser().await;

    visit(
        &browser,
        &sidecar,
        "/ui/",
        &["Sign in", "API token"],
        "login",
    )
    .await;
    sign_in(&browser, &sidecar.url("/ui/"), TOKEN).await;
    let fabric = [
        "lab",
        "OutOfSync",
        "Progressing",
        "Last reconcile",
        "Last successful",
        "4 (1 in sync, 1 drifted, 1 missing",
    ];
    check(&browser, &fabric, "fabrics").await;
    let fabrics = text_of(&browser, "#fabrics").await;
    assert_eq!(
        fabrics.matches(" UTC").count(),
        2,
        "the times of the last and the last successful reconcile: {fabrics}"
    );

    let objects = [
        "leaf-01",
        "spine-01",
        "vpc-broken",
        "held_back",
        "subnet 10.0.0.0/33 is not a prefix",
        "3 of 4",
        "applying generation 4",
    ];
    visit(&browser, &sidecar, "/ui/fabrics/lab", &objects, "objects").await;
    visit(
        &browser,
        &sidecar,
        "/ui/fabrics/lab?state=drifted&kind=Switch",
        &["leaf-01"],
        "objects-drifted",
    )
    .await;
    let filtered = text_of(&browser, "#objects").await;
    assert!(
        !filtered.contains("spine-01"),
        "the filter keeps drifted objects only: {filtered}"
    );

    let object = [
        "spec.asn",
        "65101",
        "65199",
        "asn: 65101",
        "asn: 65199",
        "dcim.device 12",
    ];
    visit(
        &browser,
        &sidecar,
        "/ui/fabrics/lab/objects/Switch/leaf-01",
        &object,
        "object",
    )
    .await;
    visit(
        &browser,
        &sidecar,
        "/ui/netbox/dcim.device/12",
        &["Switch leaf-01", "spec.asn"],
        "netbox-link",
    )
    .await;

    visit(
        &browser,
        &sidecar,
        "/ui/journal",
        &[
            "alice",
            "updated Switch/leaf-01",
            "webhook dcim.device 12 updated",
        ],
        "journal",
    )
    .await;
    visit(
        &browser,
        &sidecar,
        "/ui/jobs?state=dead",
        &["dead (1)", DEAD_ERROR, "alice"],
        "jobs",
    )
    .await;
    browser
        .find(Locator::Css("form[action$='/retry'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    check(&browser, &["dead (0)", "queued (1)"], "jobs-retried").await;
    let state = sidecar
        .queue
        .show(&sidecar.dead_job)
        .await
        .unwrap()
        .map(|(s, _)| s);
    assert_eq!(
        state,
        Some(JobState::Queued),
        "Retry queued the dead letter again"
    );

    browser.close().await.expect("the session ends");
    sidecar.stop().await;
}
