//! Headless Chromium through chromedriver (the Debian packages `chromium` and
//! `chromium-driver`, which `.ci/run` installs), for tests of the web UI: sign in, wait for a
//! page to show what it should, keep a screenshot of it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether Chromium and chromedriver are installed; says on stderr that the test is skipped
/// when they are not.
pub fn installed() -> bool {
    let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !installed {
        eprintln!(
            "skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed (apt-get install chromium chromium-driver)"
        );
    }
    installed
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start() -> Self {
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
    pub async fn browser(&self) -> Client {
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

/// Signs in on the UI's login page at `login_url` with the API token `token`, and waits until
/// the signed-in page shows.
pub async fn sign_in(browser: &Client, login_url: &str, token: &str) {
    browser.goto(login_url).await.expect("the login page loads");
    let field = browser
        .find(Locator::Id("token"))
        .await
        .expect("token field");
    field.send_keys(token).await.expect("typed");
    browser
        .find(Locator::Id("sign-in"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("clicked");
    // The sign-in's own navigation (its redirect to the fabrics page) must be over before the
    // caller goes elsewhere, or it lands after the caller's and replaces that page.
    for _ in 0..50 {
        if text_of(browser, "body").await.contains("Sign out") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("still not signed in 10 s after signing in at {login_url}");
}

/// The text of the element `css` selects, once the page shows it (a click's navigation may
/// still be under way: the element is then missing or stale for a moment).
pub async fn text_of(browser: &Client, css: &str) -> String {
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

/// Waits up to 10 s for the page to show each of `expected`, then keeps a screenshot in
/// `screenshot` (a PNG file).
pub async fn check(browser: &Client, expected: &[&str], screenshot: &Path) {
    let mut text = String::new();
    for _ in 0..50 {
        text = text_of(browser, "body").await;
        if expected.iter().all(|needle| text.contains(needle)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shot = screenshot.display();
    for needle in expected {
        assert!(
            text.contains(needle),
            "{shot}: `{needle}` not shown:\n{text}"
        );
    }
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{shot}: not a PNG");
    if let Some(dir) = screenshot.parent() {
        std::fs::create_dir_all(dir).expect("the screenshot directory");
    }
    std::fs::write(screenshot, png).expect("kept");
}
