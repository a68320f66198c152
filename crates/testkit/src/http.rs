//! Reading the sidecar's own token-protected API from a test.

use serde_json::Value;

/// GETs `url` with the API token as a bearer token and returns the JSON answer; panics with the
/// status and body when the answer is not JSON, so a failing test shows what it got.
pub async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("GET {url}: {status}, not JSON ({e}): {body}"))
}
