//! NetBox's IPAM as the fabric's allocator, against the real NetBox 4.7: a published wiring
//! imported without any ASN or address gets every value from its pools through NetBox's own
//! endpoints, renders, and the fabric's admission webhooks accept it; a second pass allocates
//! nothing; a value a user set is kept, and one outside its pool is reported, not replaced.
//!
//! NetBox is shared: every case has its own fabric name and site, its own 10.x/16 for the
//! pools and another for the namespaces, its own range of 4-byte ASNs, and deletes all of it.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use hedgehog_sidecar::allocation::{Scope, allocate_fabric, allocate_snapshot, ensure_pools};
use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::import::{ImportOptions, import_fabric};
use hedgehog_sidecar::mapping;
use hedgehog_sidecar::model::fabric_config::fabric_config_yaml;
use hedgehog_sidecar::model::{Manifest, parse_manifests};
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::seed::delete_snapshot_objects;
use hedgehog_sidecar::netbox::setup::ensure_schema;
use hedgehog_sidecar::netbox::{ListQuery, NetBoxClient, load_fabric};
use ipnet::Ipv4Net;
use serde_json::{Value, json};
use testkit::netbox::{NETBOX, client, free_octet, unique};

/// A fabric with allocation on, its pools in 10.<octet>/16 and 4-byte ASNs from `asn`.
fn fabric(octet: u8, asn: u32) -> FabricConfig {
    serde_json::from_value(json!({
        "name": unique("e2e-alloc"), "allocate": true,
        "mapping": {"settings": {
            "management_subnet": format!("10.{octet}.0.0/24"),
            "control_vip": format!("10.{octet}.0.1"),
            "management_dhcp_start": format!("10.{octet}.0.128"),
            "protocol_subnet": format!("10.{octet}.1.0/24"),
            "vtep_subnet": format!("10.{octet}.2.0/24"),
            "fabric_subnet": format!("10.{octet}.4.0/22"),
            "spine_asn": asn, "leaf_asn_start": asn + 1, "leaf_asn_end": asn + 200,
        }},
    }))
    .unwrap()
}

/// A base for 201 private 4-byte ASNs no other test uses.
fn asn_base() -> u32 {
    4_200_000_000 + (rand::random::<u32>() % 90_000_000) / 1000 * 1000
}

/// A published wiring sample, its IPv4Namespace moved to 10.<octet>.0.0/16.
fn sample(file: &str, octet: u8) -> Vec<Manifest> {
    let path = testkit::paths::shared("hedgehog/samples").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("10.0.0.0/16", &format!("10.{octet}.0.0/16"));
    parse_manifests(&text).unwrap()
}

/// Runs `scenario`, then deletes the fabric's objects, its site and its pools.
async fn with_cleanup<F>(client: &NetBoxClient, fabric: &FabricConfig, octet: u8, scenario: F)
where
    F: std::future::Future<Output = ()>,
{
    let outcome = AssertUnwindSafe(scenario).catch_unwind().await;
    if let Ok(snapshot) = load_fabric(client, fabric).await {
        let _ = delete_snapshot_objects(client, &snapshot).await;
    }
    let block = format!("10.{octet}.0.0/16");
    let settings = &fabric.mapping.settings;
    let slug = format!("{}-leaf-asns", fabric.name);
    let leftovers = [
        (ep::IP_ADDRESSES, ListQuery::new().filter("parent", &block)),
        (ep::IP_RANGES, ListQuery::new().filter("parent", &block)),
        (
            ep::PREFIXES,
            ListQuery::new().filter("within_include", &block),
        ),
        (
            ep::ASNS,
            ListQuery::new()
                .filter("asn__gte", settings.spine_asn.to_string())
                .filter("asn__lte", settings.leaf_asn_end.to_string()),
        ),
        (ep::ASN_RANGES, ListQuery::new().filter("slug", &slug)),
        (ep::SITES, ListQuery::new().filter("slug", &fabric.name)),
    ];
    for (endpoint, query) in leftovers {
        let found: Vec<Value> = client.list(endpoint.path, &query).await.unwrap_or_default();
        // Longest prefixes first: a container goes after what it holds.
        let mut ids: Vec<(u64, u64)> = found
            .iter()
            .filter_map(|o| {
                Some((
                    o["id"].as_u64()?,
                    o["prefix"].as_str().map_or(0, |p| p.len() as u64),
                ))
            })
            .collect();
        ids.sort_by_key(|(_, len)| std::cmp::Reverse(*len));
        for (id, _) in ids {
            let _ = client.delete::<()>(&endpoint.detail(id), None).await;
        }
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn net(address: &str) -> Ipv4Net {
    address.parse().unwrap_or_else(|e| panic!("{address}: {e}"))
}

/// Every switch's values are inside their pools and unique; every fabric link is one /31 of
/// the fabric subnet.
fn assert_inside_pools_and_unique(fabric: &FabricConfig, manifests: &[Manifest]) {
    let s = &fabric.mapping.settings;
    let mut seen = BTreeSet::new();
    let mut unique = |what: &str, value: String| {
        assert!(seen.insert(value.clone()), "{what} {value} is held twice");
    };
    for m in manifests.iter().filter(|m| m.kind == "Switch") {
        let spec = &m.spec;
        let asn = spec["asn"].as_u64().unwrap() as u32;
        if spec["role"] == "spine" {
            assert_eq!(asn, s.spine_asn);
            assert!(spec.get("vtepIP").is_none_or(Value::is_null));
        } else {
            assert!((s.leaf_asn_start..=s.leaf_asn_end).contains(&asn), "{asn}");
            unique("ASN", asn.to_string());
            let vtep = net(spec["vtepIP"].as_str().unwrap());
            assert!(vtep.prefix_len() == 32 && s.vtep_subnet.contains(&vtep.addr()));
            unique("address", vtep.addr().to_string());
        }
        let ip = net(spec["ip"].as_str().unwrap());
        assert!(s.management_subnet.contains(&ip.addr()) && ip.addr() < s.management_dhcp_start);
        assert_ne!(ip.addr(), s.control_vip);
        unique("address", ip.addr().to_string());
        let protocol = net(spec["protocolIP"].as_str().unwrap());
        assert!(protocol.prefix_len() == 32 && s.protocol_subnet.contains(&protocol.addr()));
        unique("address", protocol.addr().to_string());
    }
    for m in manifests.iter().filter(|m| m.kind == "Connection") {
        for link in m.spec["fabric"]["links"].as_array().into_iter().flatten() {
            let (a, b) = (
                net(link["spine"]["ip"].as_str().unwrap()),
                net(link["leaf"]["ip"].as_str().unwrap()),
            );
            assert!(a.prefix_len() == 31 && a.trunc() == b.trunc() && a.addr() < b.addr());
            assert!(s.fabric_subnet.contains(&a.addr()));
            unique("link", a.trunc().to_string());
        }
    }
}

/// A fabric with addresses and ASNs of its own, the docs sample's wiring (with no ASN or
/// address) in other free addresses, and the NetBox schema of the fabric's mapping; the octet
/// of the fabric's addresses.
async fn bare_docs_fabric(client: &NetBoxClient) -> (FabricConfig, u8, Vec<Manifest>) {
    let octet = free_octet(client).await;
    let fabric = fabric(octet, asn_base());
    let manifests = sample(
        "docs_build-wiring_sample-wiring-diagram.yaml",
        free_octet(client).await,
    );
    ensure_schema(client, std::slice::from_ref(&fabric.mapping))
        .await
        .unwrap();
    (fabric, octet, manifests)
}

/// Imports `manifests` into NetBox as `fabric`'s.
async fn import(client: &NetBoxClient, fabric: &FabricConfig, manifests: &[Manifest]) {
    let options = ImportOptions {
        dry_run: false,
        site: fabric.name.clone(),
    };
    import_fabric(client, fabric, manifests, &options)
        .await
        .expect("import");
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn a_bare_published_wiring_is_allocated_once_and_the_fabric_admits_it() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let (fabric, octet, manifests) = bare_docs_fabric(&client).await;
    with_cleanup(&client, &fabric, octet, async {
        import(&client, &fabric, &manifests).await;
        ensure_pools(&client, &fabric)
            .await
            .expect("pools mirrored");

        let dry = allocate_fabric(&client, &fabric, true).await.unwrap();
        // 2 spines (ASN, management, protocol), 4 leaves (and VTEP), 16 fabric links (/31).
        assert_eq!(dry.plan.values(), 2 * 3 + 4 * 4 + 16 * 2, "{dry}");
        assert!(
            dry.plan.problems.is_empty() && dry.allocated.is_empty(),
            "{dry}"
        );

        let first = allocate_fabric(&client, &fabric, false).await.unwrap();
        assert_eq!(first.allocated.len(), dry.plan.values(), "{first}");
        let second = allocate_fabric(&client, &fabric, false).await.unwrap();
        assert!(
            second.plan.is_empty() && second.allocated.is_empty(),
            "a second pass allocated:\n{second}"
        );

        let snapshot = load_fabric(&client, &fabric).await.unwrap();
        let rendered = match mapping::render(&fabric, &snapshot) {
            Ok(rendered) => rendered,
            Err(error) => panic!("the allocated fabric does not validate:\n{error}"),
        };
        assert_inside_pools_and_unique(&fabric, &rendered.manifests);
        let switch = first
            .allocated
            .iter()
            .find(|a| a.object_type == "dcim.device")
            .unwrap();
        let journal: Vec<Value> = client
            .list(
                ep::JOURNAL_ENTRIES.path,
                &ListQuery::new()
                    .filter("assigned_object_type", "dcim.device")
                    .filter("assigned_object_id", switch.id.to_string()),
            )
            .await
            .unwrap();
        assert!(
            journal.iter().any(|j| j["comments"]
                .as_str()
                .is_some_and(|c| c.contains("Allocated by hedgehog-sidecar") && c.contains("ASN"))),
            "no journal entry names what was allocated on {}: {journal:#?}",
            switch.name
        );
        if let Some(oracle) = testkit::oracle::binary_or_skip("allocation oracle check") {
            let config = fabric_config_yaml(&fabric.mapping.settings);
            let verdicts = testkit::oracle::check(oracle, &rendered.to_yaml(), &config);
            let refused: Vec<_> = verdicts.iter().filter(|v| !v.allowed).collect();
            assert!(refused.is_empty(), "the fabric refuses: {refused:#?}");
            assert!(verdicts.iter().any(|v| v.kind == "Switch"));
        }
    })
    .await;
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn concurrent_allocators_one_per_leaf_get_distinct_values() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let (fabric, octet, manifests) = bare_docs_fabric(&client).await;
    with_cleanup(&client, &fabric, octet, async {
        import(&client, &fabric, &manifests).await;
        let snapshot = load_fabric(&client, &fabric).await.unwrap();
        // One allocator per leaf (and its uplinks), all at once, as replicas handling
        // concurrent webhooks would run them; each sees the same snapshot, so only NetBox
        // keeps them apart. The spines follow in one pass of the whole fabric.
        let switches: Vec<u64> = snapshot
            .devices
            .iter()
            .filter(|d| {
                d.role
                    .as_ref()
                    .and_then(|r| r.slug.as_deref())
                    .is_some_and(|r| r.ends_with("leaf"))
            })
            .map(|d| d.id)
            .collect();
        assert_eq!(switches.len(), 4);
        let passes = switches.iter().map(|id| {
            let scope = Scope::Touched {
                devices: [*id].into(),
                cables: BTreeSet::new(),
            };
            let (client, fabric, snapshot) = (&client, &fabric, &snapshot);
            async move { allocate_snapshot(client, fabric, snapshot, &scope, false).await }
        });
        let reports = futures::future::try_join_all(passes).await.unwrap();
        assert!(
            reports.iter().all(|r| r.allocated.len() == 4 + 4 * 2),
            "{reports:#?}"
        );
        let rest = allocate_fabric(&client, &fabric, false).await.unwrap();
        assert_eq!(rest.allocated.len(), 2 * 3, "the spines: {rest}");
        let rendered = match mapping::render(&fabric, &load_fabric(&client, &fabric).await.unwrap())
        {
            Ok(rendered) => rendered,
            Err(error) => panic!("the allocated fabric does not validate:\n{error}"),
        };
        assert_eq!(
            rendered
                .manifests
                .iter()
                .filter(|m| m.kind == "Switch")
                .count(),
            6
        );
        assert_inside_pools_and_unique(&fabric, &rendered.manifests);
    })
    .await;
}
