//! Every page in headless Chromium (through chromedriver): the content a user needs is on it,
//! and a screenshot of each is kept in `<target>/tmp/ui-screenshots/` (docs/ui/ holds copies).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hedgehog_sidecar::queue::JobState;
use serde_json::json;

use crate::fixture::{DEAD_ERROR, Sidecar, TOKEN};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A headless Chromium session, once chromedriver answers.
    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM,
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--window-size=1280,860"]}),
        );
        for _ in 0..100 {
            let connected = ClientBuilder::rustls()
                .expect("a TLS client")
                .capabilities(capabilities.clone())
                .connect(&self.url)
                .await;
            if let Ok(client) = connected {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {} gave no session", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    dir
}

/// Opens `path`, checks that the page shows each of `expected`, and keeps a screenshot.
async fn visit(browser: &Client, sidecar: &Sidecar, path: &str, expected: &[&str], shot: &str) {
    browser
        .goto(&sidecar.url(path))
        .await
        .expect("the page loads");
    check(browser, expected, shot).await;
}

/// The text of the element `css` selects, once the page shows it (a click's navigation may
/// still be under way: the element is then missing or stale for a moment).
async fn text_of(browser: &Client, css: &str) -> String {
    for _ in 0..50 {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no `{css}` on the page within 10 s");
}

/// Waits up to 10 s for the page to show each of `expected`, then keeps a screenshot.
async fn check(browser: &Client, expected: &[&str], shot: &str) {
    let mut text = String::new();
    for _ in 0..50 {
        text = text_of(browser, "body").await;
        if expected.iter().all(|needle| text.contains(needle)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for needle in expected {
        assert!(
            text.contains(needle),
            "{shot}: `{needle}` not shown:\n{text}"
        );
    }
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{shot}: not a PNG");
    std::fs::write(screenshots().join(format!("{shot}.png")), png).expect("kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium"]
async fn every_page_shows_its_content_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed (apt-get install chromium chromium-driver)"
        );
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
    let field = browser
        .find(Locator::Id("token"))
        .await
        .expect("token field");
    field.send_keys(TOKEN).await.expect("typed");
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let fabric = [
        "lab",
        "OutOfSync",
        "Progressing",
        "Last reconcile",
        "3 (1 in sync, 1 drifted",
    ];
    check(&browser, &fabric, "fabrics").await;

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
