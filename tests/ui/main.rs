//! The web UI against a running sidecar (`spawn_app` on port 0) serving one fabric whose
//! reconcile finds drift, with a dead letter in its queue and a recent publish: sign-in, cookie
//! and form protections over plain HTTP (`http`), and every page in headless Chromium with
//! screenshots kept under the target directory (`browser`, needs Chromium and chromedriver).

mod fixture;

mod browser;
mod http;
