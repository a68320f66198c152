//! A fabric with `allocate = true`: a new leaf and its two uplinks created through NetBox's
//! API get their ASN, management, protocol and VTEP IPs and their /31s within the one job of
//! the last cable's webhook (handled here by the sidecar's own job handler), and reach the
//! cluster complete (cluster-level validation holds back a switch or connection that lacks
//! any of them).

use std::time::Duration;

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::{ListQuery, load_fabric};
use hedgehog_sidecar::queue::JobHandler;
use hedgehog_sidecar::queue::job::{EventData, Job};
use serde_json::{Value, json};

use super::harness::*;

async fn created(path: &str, body: Value) -> u64 {
    let object: Value = client().post(path, &body).await.expect("created");
    object["id"].as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn a_new_leaf_and_its_uplinks_get_their_values_from_the_webhook_job() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-alloc").await else {
        return;
    };
    let ClusterFabric {
        seeded,
        server,
        dir,
        mut fabric,
    } = cluster;
    // The seeded switches and links hold their values as a user set them; the new ones get
    // theirs from the same pools, which the fabric's webhooks check.
    fabric.allocate = true;
    let pools = fabric.mapping.settings.clone();
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
    let asn = spec["asn"].as_u64().unwrap() as u32;
    assert!(
        (pools.leaf_asn_start..=pools.leaf_asn_end).contains(&asn),
        "{spec}"
    );
    for (field, pool) in [
        ("ip", pools.management_subnet),
        ("protocolIP", pools.protocol_subnet),
        ("vtepIP", pools.vtep_subnet),
    ] {
        let value: ipnet::Ipv4Net = spec[field].as_str().unwrap().parse().unwrap();
        assert!(pool.contains(&value.addr()), "{field}: {spec}");
    }
    let others = load_fabric(&client(), &fabric).await.unwrap();
    let held: Vec<i64> = others
        .devices
        .iter()
        .filter(|d| d.id != leaf)
        .filter_map(|d| d.custom_fields.0.get("hedgehog_asn")?.as_i64())
        .collect();
    assert!(
        !held.contains(&i64::from(asn)),
        "ASN {asn} is also in {held:?}"
    );
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
            let ip: ipnet::Ipv4Net = link[end]["ip"].as_str().unwrap().parse().unwrap();
            assert!(
                pools.fabric_subnet.contains(&ip.addr()) && ip.prefix_len() == 31,
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
    release_pools(&fabric).await;
    server.shutdown().await;
}

/// Deletes what allocation left in NetBox for `fabric`: its pools and what was taken from them.
async fn release_pools(fabric: &FabricConfig) {
    let s = &fabric.mapping.settings;
    let slug = format!("{}-leaf-asns", fabric.name);
    let mut leftovers = vec![
        (
            ep::ASNS,
            ListQuery::new().filter("description__ic", &fabric.name),
        ),
        (ep::ASN_RANGES, ListQuery::new().filter("slug", &slug)),
    ];
    for pool in [
        s.management_subnet,
        s.protocol_subnet,
        s.vtep_subnet,
        s.fabric_subnet,
    ] {
        let pool = pool.trunc().to_string();
        leftovers.push((ep::IP_ADDRESSES, ListQuery::new().filter("parent", &pool)));
        leftovers.push((ep::IP_RANGES, ListQuery::new().filter("parent", &pool)));
        leftovers.push((
            ep::PREFIXES,
            ListQuery::new().filter("within_include", &pool),
        ));
    }
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
