//! TrueNAS: a SCALE 24.04 system recorded as its REST API v2.0 answers.

use hedgehog_sidecar::config::CustomFieldNames;
use hedgehog_sidecar::discovery::Source;
use hedgehog_sidecar::discovery::kind::ObjectKind;
use hedgehog_sidecar::discovery::observation::Field;
use hedgehog_sidecar::discovery::sources::truenas::TrueNasSource;
use serde_json::json;
use testkit::recorded_api::{RecordedApi, Reply, Routes};

use crate::support::{iface, interfaces, recorded, settings, unreachable_url};

const API_KEY: &str = "1-TrUeNaSaPiKeY0123456789";

async fn source_for(routes: Routes) -> (RecordedApi, TrueNasSource) {
    let api = RecordedApi::start(routes).await;
    let source = TrueNasSource::new(
        0,
        &settings("nas", &api.url, API_KEY),
        &CustomFieldNames::default(),
    )
    .unwrap()
    .with_page_size(2);
    (api, source)
}

#[tokio::test]
async fn the_system_becomes_a_device_with_interfaces_pools_and_shares() {
    let (_api, source) = source_for(recorded("truenas")).await;
    let nas = source.hosts().await.unwrap().remove(0);
    assert_eq!((nas.kind, nas.name.as_str()), (ObjectKind::Device, "nas01"));
    assert_eq!(nas.serial.as_deref(), Some("A1-123456"));
    assert_eq!(nas.facts["manufacturer"], json!("iXsystems"));
    assert_eq!(nas.facts["model"], json!("TRUENAS-MINI-3.0-XL+"));
    assert_eq!(nas.facts["version"], json!("TrueNAS-SCALE-24.04.2"));
    assert_eq!(
        interfaces(&nas),
        [
            iface("enp1s0", Some("3C:EC:EF:10:00:01"), &["192.168.10.20/24"]),
            iface("enp2s0", Some("3C:EC:EF:10:00:02"), &["10.30.0.20/24"]),
            iface(
                "vlan30",
                Some("3C:EC:EF:10:00:01"),
                &["10.40.0.20/24", "2001:db8:40::20/64"]
            ),
        ],
        "the DHCP address from the state, the configured one of a link that is down"
    );
    assert_eq!(nas.primary_address(), "192.168.10.20".parse().ok());
    assert_eq!(
        nas.facts["pools"],
        json!([
            {"name": "tank", "status": "ONLINE", "healthy": true,
             "size": 15994458112000u64, "free": 11596411600896u64},
            {"name": "fast", "status": "DEGRADED", "healthy": false,
             "size": 1979120929996u64, "free": 1099511627776u64}
        ])
    );
    assert_eq!(
        nas.facts["shares"],
        json!([
            {"protocol": "smb", "name": "family", "path": "/mnt/tank/family", "enabled": true},
            {"protocol": "nfs", "path": "/mnt/tank/vmstore", "enabled": true}
        ])
    );
    let observed = source.observe().await.unwrap();
    assert_eq!(observed.len(), 1);
    assert_eq!(observed[0].source, "truenas:nas");
    assert_eq!(observed[0].serial.as_deref(), Some("A1-123456"));
    assert_eq!(observed[0].macs, ["3C:EC:EF:10:00:01", "3C:EC:EF:10:00:02"]);
    assert_eq!(
        observed[0].interfaces[2].interface_type.as_deref(),
        Some("virtual")
    );
    assert_eq!(
        observed[0].interfaces[2].ips,
        ["10.40.0.20/24", "2001:db8:40::20/64"]
    );
    let names = CustomFieldNames::default();
    assert_eq!(
        observed[0].facts[&Field::Custom(names.storage)],
        json!({"pools": nas.facts["pools"], "shares": nas.facts["shares"]}),
        "pools and shares in the storage custom field"
    );
    assert_eq!(
        observed[0].facts[&Field::Custom(names.hardware)],
        json!("iXsystems TRUENAS-MINI-3.0-XL+")
    );
}

#[tokio::test]
async fn lists_are_read_page_by_page_with_the_api_key() {
    let (api, source) = source_for(recorded("truenas")).await;
    source.hosts().await.unwrap();
    let received = api.received();
    for request in &received {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {API_KEY}").as_str()),
            "{}",
            request.path
        );
    }
    let pages = |path: &str| -> Vec<String> {
        received
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.query.clone())
            .collect()
    };
    assert_eq!(
        pages("/api/v2.0/interface"),
        ["limit=2&offset=0", "limit=2&offset=2"],
        "a short page ends the list"
    );
    assert_eq!(
        pages("/api/v2.0/pool"),
        ["limit=2&offset=0", "limit=2&offset=2"],
        "a full page asks for the next"
    );
    assert_eq!(pages("/api/v2.0/sharing/smb"), ["limit=2&offset=0"]);
}

#[tokio::test]
async fn a_failed_pool_read_fails_the_source() {
    let mut routes = recorded("truenas");
    routes.insert(
        "/api/v2.0/pool?limit=2&offset=0".into(),
        Reply::status(500, json!({"message": "[EFAULT] Failed to query pools"})),
    );
    let (_api, source) = source_for(routes).await;
    let error = source.observe().await.unwrap_err().to_string();
    assert!(error.starts_with("source truenas:nas: GET "), "{error}");
    assert!(
        error.contains("500") && error.contains("Failed to query pools"),
        "{error}"
    );
}

#[tokio::test]
async fn a_refused_key_or_an_unreachable_system_is_an_error() {
    let mut routes = recorded("truenas");
    routes.insert(
        "/api/v2.0/system/info".into(),
        Reply::status(401, "Unauthorized"),
    );
    let (_api, source) = source_for(routes).await;
    let error = source.observe().await.unwrap_err().to_string();
    assert!(error.contains("401") && !error.contains(API_KEY), "{error}");

    let source = TrueNasSource::new(
        0,
        &settings("nas", &unreachable_url(), API_KEY),
        &CustomFieldNames::default(),
    )
    .unwrap();
    assert!(source.observe().await.is_err());
}

#[tokio::test]
async fn a_server_that_ignores_paging_is_read_once() {
    let mut routes = Routes::new();
    for (path, reply) in recorded("truenas") {
        if !path.contains('@') && !path.contains('?') {
            routes.insert(path, reply);
        }
    }
    let all = json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]);
    for list in ["interface", "pool"] {
        routes.insert(format!("/api/v2.0/{list}"), Reply::ok(all.clone()));
    }
    let (api, source) = source_for(routes).await;
    let nas = source.hosts().await.unwrap().remove(0);
    assert_eq!(nas.interfaces.len(), 3);
    let reads = api
        .received()
        .iter()
        .filter(|r| r.path == "/api/v2.0/pool")
        .count();
    assert_eq!(
        reads, 1,
        "more than `limit` entries: the server answered everything"
    );
}
