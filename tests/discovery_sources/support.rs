//! Settings for a source instance pointing at a local server, and the recorded responses.

use hedgehog_sidecar::config::HostSourceSettings;
use hedgehog_sidecar::discovery::sources::host::{Host, HostInterface};
use serde_json::json;
use testkit::paths::fixture;
use testkit::recorded_api::{Routes, load_dir};

/// An instance named `name` reading `url` with `token` given inline.
pub fn settings(name: &str, url: &str, token: &str) -> HostSourceSettings {
    serde_json::from_value(json!({"name": name, "url": url, "token": token})).unwrap()
}

/// The recorded responses of `source` (`proxmox`, `truenas`).
pub fn recorded(source: &str) -> Routes {
    load_dir(&fixture(&format!("discovery/{source}")))
}

/// A URL nothing listens on.
pub fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// The host with `identity`, or a failure naming those there are.
pub fn host<'a>(hosts: &'a [Host], identity: &str) -> &'a Host {
    hosts
        .iter()
        .find(|h| h.identity == identity)
        .unwrap_or_else(|| {
            let all: Vec<_> = hosts.iter().map(|h| &h.identity).collect();
            panic!("no host {identity} among {all:?}")
        })
}

/// `(name, MAC, addresses)` of each interface, for comparing in one assertion.
pub fn interfaces(host: &Host) -> Vec<(String, Option<String>, Vec<String>)> {
    host.interfaces
        .iter()
        .map(|i: &HostInterface| {
            let addresses = i.addresses.iter().map(ToString::to_string).collect();
            (i.name.clone(), i.mac.clone(), addresses)
        })
        .collect()
}

/// Shorthand for an expected interface.
pub fn iface(
    name: &str,
    mac: Option<&str>,
    addresses: &[&str],
) -> (String, Option<String>, Vec<String>) {
    (
        name.to_owned(),
        mac.map(str::to_owned),
        addresses.iter().map(|a| (*a).to_owned()).collect(),
    )
}
