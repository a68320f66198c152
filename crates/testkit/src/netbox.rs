//! The real test NetBox (started by `scripts/test` or `../shared/netbox/netbox-up`, which set
//! `NETBOX_URL`, `NETBOX_TOKEN` (v1) and `NETBOX_TOKEN_V2`). It is shared by every test and
//! benchmark: names are made unique, and [`NETBOX`] serialises the scenarios of one binary.

use std::time::Duration;

use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::{ClientOptions, ListQuery, NetBoxClient};
use secrecy::SecretString;

/// NetBox is shared by the scenarios of one test binary: one at a time.
pub static NETBOX: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A NetBox variable; panics with how to set it when it is missing.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: tests and benchmarks against NetBox need the real NetBox. Run \
             `eval \"$(../shared/netbox/netbox-up)\"` first (scripts/test does)."
        )
    })
}

/// Client options for NetBox at `url` with `token`, patient enough for a busy shared NetBox.
pub fn options(url: &str, token: &str) -> ClientOptions {
    ClientOptions {
        url: url.to_owned(),
        token: SecretString::from(token.to_owned()),
        verify_tls: true,
        ca_file: None,
        timeout: Duration::from_secs(60),
        page_size: 1000,
        concurrency: 4,
        max_retries: 2,
    }
}

/// A client for the test NetBox with its v2 token.
pub fn client() -> NetBoxClient {
    NetBoxClient::new(options(&var("NETBOX_URL"), &var("NETBOX_TOKEN_V2"))).expect("client")
}

/// A client for the test NetBox with its v1 (legacy) token.
pub fn client_v1() -> NetBoxClient {
    NetBoxClient::new(options(&var("NETBOX_URL"), &var("NETBOX_TOKEN"))).expect("client")
}

/// Discovery creation defaults whose every reference is the slug `prefix` (and status
/// active), so what a test creates is found and deleted by that one slug.
pub fn creation_defaults(prefix: &str) -> hedgehog_sidecar::config::CreateDefaults {
    hedgehog_sidecar::config::CreateDefaults {
        site: prefix.into(),
        role: prefix.into(),
        manufacturer: prefix.into(),
        device_type: prefix.into(),
        platform: None,
        status: "active".into(),
        cluster_type: prefix.into(),
    }
}

/// The slugs of an object's tags.
pub fn tag_slugs(object: &serde_json::Value) -> Vec<&str> {
    object["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["slug"].as_str())
        .collect()
}

/// `prefix` made unique with a random suffix, for names in the shared NetBox.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

/// A second octet whose 10.x.0.0/16 holds no IP address and no prefix yet (NetBox enforces
/// global uniqueness of both), for a fabric seeded into the shared NetBox.
pub async fn free_octet(client: &NetBoxClient) -> u8 {
    for _ in 0..50 {
        let octet = rand::random::<u8>();
        let block = format!("10.{octet}.0.0/16");
        let addresses = ListQuery::new().filter("parent", &block).fields(&["id"]);
        let prefixes = ListQuery::new()
            .filter("within_include", &block)
            .fields(&["id"]);
        let used: Vec<serde_json::Value> = client
            .list(ep::IP_ADDRESSES.path, &addresses)
            .await
            .expect("NetBox lists IP addresses");
        let taken: Vec<serde_json::Value> = client
            .list(ep::PREFIXES.path, &prefixes)
            .await
            .expect("NetBox lists prefixes");
        if used.is_empty() && taken.is_empty() {
            return octet;
        }
    }
    panic!("no free 10.x.0.0/16 left in the test NetBox");
}
