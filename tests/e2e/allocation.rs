//! A fabric with `allocate = true`: a new leaf and its two uplinks created through NetBox's
//! API get their ASN, management, protocol and VTEP IPs and their /31s within the one job of
//! the last cable's webhook (handled here by the sidecar's own job handler), and reach the
//! cluster complete (cluster-level validation holds back a switch or connection that lacks
//! any of them).

use std::time::Duration;

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::netbox::ListQuery;
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::queue::JobHandler;
use hedgehog_sidecar::queue::job::{EventData, Job};
use serde_json::{Value, json};

use super::harness::*;

/// `fabric` with allocation on and its pools in 10.`octet`/16, with 4-byte ASNs from `asn`.
fn allocating(fabric: &FabricConfig, octet: u8, asn: u32) -> FabricConfig {
    let mut out: FabricConfig = serde_json::from_value(json!({
        "name": fabric.name, "allocate": true,
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
    .unwrap();
    out.kubeconfig = fabric.kubeconfig.clone();
    out
}

async fn created(path: &str, body: Value) -> u64 {
    let object: Value = client().post(path, &body).await.expect("created");
    object["id"].as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn a_new_leaf_and_its_uplinks_get_their_values_from_the_webhook_job() {
    let (
        _netbox,
        ClusterFabric {
            seeded,
            server,
            dir,
            fabric,
        },
    ) = cluster_scenario("e2e-alloc").await;
    let octet = testkit::netbox::free_octet(&client()).await;
    let asn = 4_200_000_000 + (rand::random::<u32>() % 90_000_000) / 1000 * 1000;
    let fabric = allocating(&fabric, octet, asn);
    testkit::fabric_env::seed_fabric(&server, &fabric.mapping.settings).await;
    let settings = settings(fabric.clone(), dir.path());
    let handler = services(&settings).await.job_handler();

    let template = get(&format!("/dcim/devices/{}/", seeded.device_id("leaf-01"))).await;
    let leaf = created(
        "dcim/devices/",
        json!({
            "name": "leaf-05", "device_type": template["device_type"]["id"],
            "role": {"slug": "leaf"}, "site": template["site"]["id"],
            "custom_fields": {"hedgehog_fabric": seeded.name, "hedgehog_profile": "celestica-ds3000"},
        }),
    )
    .await;
    let mut cable = 0;
    for (port, spine) in [("E1/8", "spine-01"), ("E1/9", "spine-02")] {
        let kind = "100gbase-x-qsfp28";
        let a = created(
            "dcim/interfaces/",
            json!({"device": leaf, "name": port, "type": kind}),
        )
        .await;
        let spine = seeded.device_id(spine);
        let b = created(
            "dcim/interfaces/",
            json!({"device": spine, "name": "E1/3", "type": kind}),
        )
        .await;
        cable = created(
            "dcim/cables/",
            json!({
                "a_terminations": [{"object_type": "dcim.interface", "object_id": a}],
                "b_terminations": [{"object_type": "dcim.interface", "object_id": b}],
            }),
        )
        .await;
    }

    let job = Job {
        id: unique("job"),
        key: format!("dcim.cable:{cable}"),
        object_type: "dcim.cable".into(),
        object_id: cable as i64,
        event: "created".into(),
        request_id: None,
        user: None,
        timestamp: chrono::Utc::now().to_rfc3339(),
        data: EventData::null(),
        fabric: None,
        attempts: 1,
        last_error: None,
    };
    handler.handle(&job).await.expect("the job succeeds");

    let kube = server.client().await.unwrap();
    let switch = eventually_some(Duration::from_secs(5), "leaf-05 in the cluster", || {
        let kube = kube.clone();
        async move {
            cluster_object(
                &kube,
                "switches",
                "Switch",
                "wiring.githedgehog.com",
                "leaf-05",
            )
            .await
        }
    })
    .await;
    let spec = &switch["spec"];
    let asn_value = spec["asn"].as_u64().unwrap() as u32;
    assert!((asn + 1..=asn + 200).contains(&asn_value), "{spec}");
    for (field, pool) in [("ip", 0), ("protocolIP", 1), ("vtepIP", 2)] {
        let value = spec[field].as_str().unwrap_or_default();
        assert!(
            value.starts_with(&format!("10.{octet}.{pool}.")),
            "{field}: {spec}"
        );
    }
    for spine in ["spine-01", "spine-02"] {
        let name = format!("{spine}--fabric--leaf-05");
        let connection = eventually_some(Duration::from_secs(5), "the uplink", || {
            let (kube, name) = (kube.clone(), name.clone());
            async move {
                cluster_object(
                    &kube,
                    "connections",
                    "Connection",
                    "wiring.githedgehog.com",
                    &name,
                )
                .await
            }
        })
        .await;
        let link = &connection["spec"]["fabric"]["links"][0];
        for end in ["spine", "leaf"] {
            let ip = link[end]["ip"].as_str().unwrap_or_default();
            assert!(
                ip.starts_with(&format!("10.{octet}.")) && ip.ends_with("/31"),
                "{connection}"
            );
        }
    }
    let entries = journal("dcim.device", leaf).await;
    assert!(
        entries
            .iter()
            .any(|e| e.contains("Allocated by hedgehog-sidecar")),
        "{entries:?}"
    );

    seeded.remove().await;
    release_pools(&fabric, octet).await;
    server.shutdown().await;
}

/// Deletes what allocation left in NetBox for `fabric`: its pools and what was taken from them.
async fn release_pools(fabric: &FabricConfig, octet: u8) {
    let block = format!("10.{octet}.0.0/16");
    let s = &fabric.mapping.settings;
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
                .filter("asn__gte", s.spine_asn.to_string())
                .filter("asn__lte", s.leaf_asn_end.to_string()),
        ),
        (ep::ASN_RANGES, ListQuery::new().filter("slug", &slug)),
    ];
    for (endpoint, query) in leftovers {
        let mut found: Vec<Value> = client()
            .list(endpoint.path, &query)
            .await
            .unwrap_or_default();
        // Longest prefixes first: a container goes after what it holds.
        found.sort_by_key(|o| std::cmp::Reverse(o["prefix"].as_str().map_or(0, str::len)));
        for id in found.iter().filter_map(|o| o["id"].as_u64()) {
            let _ = client().delete::<()>(&endpoint.detail(id), None).await;
        }
    }
}
