//! A fabric with allocation on in the shared test NetBox, and deleting all of it again: the
//! allocation tests and the allocation bench use both.

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::seed::delete_snapshot_objects;
use hedgehog_sidecar::netbox::{ListQuery, NetBoxClient, load_fabric};
use serde_json::{Value, json};
use testkit::netbox::unique;

/// A fabric with allocation on, its pools in 10.<octet>/16 and 4-byte ASNs from `asn`.
pub fn fabric(octet: u8, asn: u32) -> FabricConfig {
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
pub fn asn_base() -> u32 {
    4_200_000_000 + (rand::random::<u32>() % 90_000_000) / 1000 * 1000
}

/// Deletes the fabric's objects, its site, its pools and what was taken from them.
pub async fn delete_fabric(client: &NetBoxClient, fabric: &FabricConfig, octet: u8) {
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
}
