//! Several replicas, each handling the webhook of another new switch at the same moment: each
//! allocates for the whole fabric, under the fabric's lease in the shared Redis, so every new
//! switch gets its values once and no value twice.

use std::time::Duration;

use hedgehog_sidecar::allocation::{AllocatorLease, allocate_and_load};
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::{ListQuery, load_fabric};
use serde_json::Value;
use testkit::netbox::{NETBOX, client};

use super::{
    allocate, assert_inside_pools_and_unique, bare_docs_fabric, device_like, import, oracle_admits,
    rendered, with_cleanup,
};

const NEW_LEAVES: usize = 10;

/// A replica's allocator lease: its own connection pool to the shared Redis.
fn replica_lease(key_prefix: &str) -> AllocatorLease {
    let pool = deadpool_redis::Config::from_url(testkit::redis::redis_url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    AllocatorLease::redis(pool, key_prefix).waiting(Duration::from_secs(120))
}

#[tokio::test]
#[ignore = "needs NetBox and Redis"]
async fn ten_switches_created_at_once_get_ten_distinct_asns_and_addresses() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let (fabric, octet, manifests) = bare_docs_fabric(&client).await;
    let key_prefix = testkit::redis::unique_prefix();
    with_cleanup(&client, &fabric, octet, async {
        import(&client, &fabric, &manifests).await;
        allocate(&client, &fabric, false).await;
        let snapshot = load_fabric(&client, &fabric).await.unwrap();
        let template = snapshot
            .devices
            .iter()
            .find(|d| d.name.as_deref() == Some("leaf-01"))
            .unwrap();
        let template: Value = client
            .get(&ep::DEVICES.detail(template.id), &[])
            .await
            .unwrap();
        let creations = (0..NEW_LEAVES).map(|n| {
            let body = device_like(&template, &format!("leaf-{:02}", 11 + n));
            let client = &client;
            async move { client.post::<_, Value>(ep::DEVICES.path, &body).await }
        });
        futures::future::try_join_all(creations).await.unwrap();

        // One pass per new switch, all at once, as the replicas that received their webhooks
        // would run them.
        let passes = (0..NEW_LEAVES).map(|_| {
            let (client, fabric, lease) = (&client, &fabric, replica_lease(&key_prefix));
            async move { allocate_and_load(client, fabric, &lease, false).await }
        });
        let reports = futures::future::try_join_all(passes).await.unwrap();
        let allocated: usize = reports.iter().map(|(r, _)| r.allocated.len()).sum();
        assert_eq!(
            allocated,
            NEW_LEAVES * 4,
            "each new leaf's ASN, management, protocol and VTEP IP, once"
        );
        let asns: Vec<Value> = client
            .list(
                ep::ASNS.path,
                &ListQuery::new()
                    .tag(&fabric.mapping.pools.allocated_tag)
                    .filter("description__iew", format!("fabric {})", fabric.name)),
            )
            .await
            .unwrap();
        assert_eq!(asns.len(), 4 + NEW_LEAVES, "one ASN object per leaf");
        let manifests = rendered(&client, &fabric).await;
        let switches = manifests.iter().filter(|m| m.kind == "Switch").count();
        assert_eq!(switches, 6 + NEW_LEAVES);
        assert_inside_pools_and_unique(&fabric, &manifests);
        oracle_admits(&fabric, &manifests);
    })
    .await;
    testkit::redis::delete_keys(&testkit::redis::redis_url(), &key_prefix);
}
