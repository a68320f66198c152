//! What allocating a 100-leaf fabric from scratch costs NetBox: 2 spines and 100 leaves (each
//! cabled to both spines) imported into the real NetBox of `netbox-up` without any ASN or
//! address, then one `allocate` pass takes every value (a leaf's ASN, management, protocol and
//! VTEP IPs, a spine's spine ASN, management and protocol IPs, two addresses per link) from
//! the pools mirrored by setup. Reported: the values, the NetBox requests the pass sent (its
//! reads of the fabric included), requests per value (target: at most 2), its duration, and
//! what a second pass of the then complete fabric costs.
//!
//!     eval "$(../shared/netbox/netbox-up)"
//!     cargo bench --bench allocation
//!
//! Everything goes through a server of that NetBox that fires no event rule (`QuietNetBox`), so
//! the run queues no webhook delivery for anyone else sharing it. The fabric has its own
//! name, site, pools and ASNs, and is deleted afterwards. Env: HHS_BENCH_LEAVES (default 100).

#[path = "support/quiet_netbox.rs"]
mod quiet_netbox;
#[path = "../tests/allocation_e2e/support.rs"]
mod support;

use std::time::{Duration, Instant};

use hedgehog_sidecar::allocation::{AllocatorLease, allocate_fabric, ensure_pools};
use hedgehog_sidecar::import::{ImportOptions, import_fabric};
use hedgehog_sidecar::model::{Manifest, parse_manifests};
use hedgehog_sidecar::netbox::NetBoxClient;
use hedgehog_sidecar::netbox::setup::ensure_schema;
use quiet_netbox::QuietNetBox;
use testkit::netbox::{free_octet, unique, var};

/// A spine-leaf wiring with no ASN and no address: 2 spines, `leaves` leaves, one link from
/// each leaf to each spine.
fn wiring(leaves: usize) -> Vec<Manifest> {
    let switch = |name: &str, role: &str, profile: &str| {
        format!(
            "---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: {name}\nspec:\n  profile: {profile}\n  redundancy: {{}}\n  role: {role}\n"
        )
    };
    let mut text = String::new();
    for spine in 1..=2 {
        text += &switch(&format!("spine-{spine:02}"), "spine", "celestica-ds4000");
    }
    for leaf in 1..=leaves {
        let name = format!("leaf-{leaf:03}");
        text += &switch(&name, "server-leaf", "celestica-ds3000");
        for spine in 1..=2 {
            text += &format!(
                "---\napiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: spine-{spine:02}--fabric--{name}\nspec:\n  fabric:\n    links:\n    - leaf:\n        port: {name}/E1/{port}\n      spine:\n        port: spine-{spine:02}/E1/{leaf}\n",
                port = 48 + spine
            );
        }
    }
    parse_manifests(&text).expect("the generated wiring parses")
}

fn client_of(url: &str) -> NetBoxClient {
    let mut options = testkit::netbox::options(url, &var("NETBOX_TOKEN_V2"));
    options.timeout = Duration::from_secs(600);
    options.max_retries = 3;
    NetBoxClient::new(options).expect("client")
}

#[tokio::main]
async fn main() {
    let leaves: usize = std::env::var("HHS_BENCH_LEAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let quiet = QuietNetBox::start().await;
    let client = client_of(&quiet.url);
    let octet = free_octet(&client).await;
    let mut fabric = support::fabric(octet, support::asn_base());
    fabric.name = unique("bench-alloc");
    ensure_schema(&client, std::slice::from_ref(&fabric.mapping))
        .await
        .expect("schema");
    let options = ImportOptions {
        dry_run: false,
        site: fabric.name.clone(),
    };
    import_fabric(&client, &fabric, &wiring(leaves), &options)
        .await
        .expect("import");
    ensure_pools(&client, &fabric).await.expect("pools");

    let lease = AllocatorLease::local();
    let (sent, started) = (client.requests_sent(), Instant::now());
    let first = allocate_fabric(&client, &fabric, &lease, false).await;
    let (requests, took) = (client.requests_sent() - sent, started.elapsed());
    let sent = client.requests_sent();
    let second = allocate_fabric(&client, &fabric, &lease, false).await;
    let steady = client.requests_sent() - sent;
    support::delete_fabric(&client, &fabric, octet).await;

    let first = first.expect("the first pass");
    let second = second.expect("the second pass");
    assert!(first.plan.problems.is_empty(), "{}", first.plan);
    assert!(
        !second.changed(),
        "a second pass changed something:\n{second}"
    );
    let values = first.allocated.len();
    println!(
        "allocation, 2 spines + {leaves} leaves from scratch: {values} values, {requests} NetBox requests ({:.2} per value), {:.1} s; a second pass: {steady} requests, nothing allocated",
        requests as f64 / values as f64,
        took.as_secs_f64()
    );
}
