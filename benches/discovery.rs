//! Discovery at scale: 5,000 hosts into the real NetBox of `netbox-up`, half from the inventory
//! source (a generated CSV file, one interface with a MAC and an IP each), half from the
//! Proxmox VE source reading a generated cluster (`testkit::proxmox::generated`: nodes of 250
//! QEMU VMs, each VM with `net0`, its MAC and the address its guest agent reports; each node
//! with its bridge and address) served on a local port. Both sources run together, as
//! `discover` runs them.
//!
//!     export NETBOX_NO_RESTART=1 && . scripts/lib/netbox.sh && start_test_netbox
//!     flock /var/tmp/netbox-bench.lock cargo bench --profile dev --bench discovery
//!
//! (`--profile dev` only avoids a release build: the time is spent in NetBox.)
//!
//! 1. A dry run plans every host as a creation and writes nothing; the heap's peak during it
//!    is reported.
//! 2. A first sync creates the devices and virtual machines (and the cluster), their
//!    interfaces (with their MACs), their IP addresses and primary IPs; its time and the
//!    heap's peak during it (a counting allocator: everything this process holds, the
//!    generated Proxmox answers included; target under 100 MB) are reported.
//! 3. A second sync of the same sources must plan and write nothing.
//! 4. The floor: the same objects with the same fields (bulk POSTs of the devices and virtual
//!    machines, their interfaces and IPs, then the primary IPs' bulk PATCH, 100 objects a
//!    request, as concurrent as the sidecar's client) sent straight to NetBox for as many other
//!    hosts, without reading or matching anything.
//!
//! Everything goes through a server of the test NetBox that fires no event rule, so the
//! creations queue no webhook delivery for anyone sharing the NetBox. All of it is named
//! `bench-discovery-*` and deleted at the end; a run that fails leaves its objects, which the
//! next run deletes before it starts. `HHS_BENCH_HOSTS` sets another number of hosts.

#[path = "support/quiet_netbox.rs"]
mod quiet_netbox;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use hedgehog_sidecar::config::MappingConfig;
use hedgehog_sidecar::discovery::{RunOptions, RunReport, Source, run};
use hedgehog_sidecar::netbox::setup::ensure_schema;
use hedgehog_sidecar::netbox::{ListQuery, NetBoxClient};
use quiet_netbox::QuietNetBox;
use serde_json::{Value, json};
use testkit::discovery::{inventory_source, proxmox_source};
use testkit::netbox::{free_octet, unique, var};
use testkit::proxmox::{VMS_PER_NODE, address, generated, mac};
use testkit::recorded_api::RecordedApi;

/// The heap: what is allocated now and the most that was since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What every name the bench gives starts with.
const BENCH: &str = "bench-discovery";
const CHUNK: usize = 100;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The hosts of one run: `inventory` devices listed in a file, a Proxmox cluster of `vms`
/// virtual machines on `nodes` nodes (devices), each group in its own 10.x.0.0/16.
struct Hosts {
    prefix: String,
    inventory: usize,
    vms: usize,
    nodes: usize,
    inventory_octet: u8,
    proxmox_octet: u8,
}

impl Hosts {
    /// `total` hosts named after `prefix`: half in the inventory, the rest the cluster's nodes
    /// and VMs.
    fn new(prefix: String, total: usize, octets: [u8; 2]) -> Hosts {
        let inventory = total / 2;
        let rest = total - inventory;
        let nodes = rest.div_ceil(VMS_PER_NODE + 1).max(1);
        let vms = rest - nodes;
        Hosts {
            prefix,
            inventory,
            vms,
            nodes: vms.div_ceil(VMS_PER_NODE).max(1),
            inventory_octet: octets[0],
            proxmox_octet: octets[1],
        }
    }

    fn total(&self) -> usize {
        self.inventory + self.vms + self.nodes
    }

    /// The generated cluster's name, which its nodes' and VMs' names start with.
    fn cluster(&self) -> String {
        format!("{}-pve", self.prefix)
    }

    /// Inventory host `i`: name, serial, MAC and address.
    fn host(&self, i: usize) -> (String, String, String, String) {
        let (prefix, octet) = (&self.prefix, self.inventory_octet);
        (
            format!("{prefix}-h{i:05}"),
            format!("{prefix}-S{i:05}"),
            format!("0C:17:{octet:02X}:00:{:02X}:{:02X}", i / 256, i % 256),
            format!("10.{octet}.{}.{}", i / 250, i % 250 + 1),
        )
    }

    fn write_inventory(&self, path: &Path) {
        let mut csv = String::from("name,serial,primary_ip,interface,interface_type,mac,ips\n");
        for i in 0..self.inventory {
            let (name, serial, mac, ip) = self.host(i);
            csv.push_str(&format!(
                "{name},{serial},{ip},eth0,1000base-t,{mac},{ip}/16\n"
            ));
        }
        std::fs::write(path, csv).unwrap();
    }
}

fn client(url: &str) -> NetBoxClient {
    let mut options = testkit::netbox::options(url, &var("NETBOX_TOKEN_V2"));
    options.timeout = Duration::from_secs(900);
    options.max_retries = 3;
    NetBoxClient::new(options).expect("client")
}

/// `count` distinct second octets whose 10.x.0.0/16 NetBox does not use.
async fn free_octets(client: &NetBoxClient, count: usize) -> Vec<u8> {
    let mut octets = Vec::new();
    while octets.len() < count {
        let octet = free_octet(client).await;
        if !octets.contains(&octet) {
            octets.push(octet);
        }
    }
    octets
}

/// The two sources of `hosts`, creating into references named after its prefix.
fn sources(hosts: &Hosts, dir: &Path, api: &RecordedApi) -> Vec<Arc<dyn Source>> {
    let file = dir.join(format!("{}.csv", hosts.prefix));
    hosts.write_inventory(&file);
    vec![
        inventory_source(&hosts.prefix, vec![file], &hosts.prefix),
        proxmox_source(&hosts.prefix, &api.url),
    ]
}

/// One run of `sources`; its report, its time and the heap's peak during it.
async fn sync(
    client: &NetBoxClient,
    sources: &[Arc<dyn Source>],
    dry_run: bool,
) -> (RunReport, Duration, usize) {
    let options = RunOptions {
        dry_run,
        create_cables: false,
        stale_after: chrono::Duration::days(7),
        now: chrono::Utc::now(),
    };
    let mapping = MappingConfig::default();
    PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
    let started = Instant::now();
    let report = run(client, sources, &mapping, &options)
        .await
        .expect("sync");
    let (elapsed, peak) = (started.elapsed(), PEAK.load(Ordering::Relaxed));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    (report, elapsed, peak)
}

#[derive(serde::Deserialize)]
struct Row {
    id: u64,
}

/// Bulk POSTs `bodies` to `path`, `CHUNK` a request and as concurrently as the client allows;
/// the new ids in order.
async fn post(client: &NetBoxClient, path: &str, bodies: Vec<Value>) -> Vec<u64> {
    let chunks: Vec<Vec<Value>> = bodies.chunks(CHUNK).map(<[Value]>::to_vec).collect();
    let rows: Vec<Vec<Row>> = stream::iter(chunks)
        .map(|chunk| async move { client.post::<_, Vec<Row>>(path, &chunk).await })
        .buffered(client.concurrency())
        .try_collect()
        .await
        .expect(path);
    rows.into_iter().flatten().map(|r| r.id).collect()
}

/// Objects of one kind for the floor: each with one interface and its address.
struct FloorKind {
    path: &'static str,
    interface_path: &'static str,
    parent_field: &'static str,
    object_type: &'static str,
    /// (object body, interface body without its parent, address with prefix length)
    objects: Vec<(Value, Value, String)>,
}

impl FloorKind {
    fn devices(objects: Vec<(Value, Value, String)>) -> FloorKind {
        FloorKind {
            path: "dcim/devices/",
            interface_path: "dcim/interfaces/",
            parent_field: "device",
            object_type: "dcim.interface",
            objects,
        }
    }

    fn virtual_machines(objects: Vec<(Value, Value, String)>) -> FloorKind {
        FloorKind {
            path: "virtualization/virtual-machines/",
            interface_path: "virtualization/interfaces/",
            parent_field: "virtual_machine",
            object_type: "virtualization.vminterface",
            objects,
        }
    }

    /// The objects, then their interfaces, then the addresses, then the primary IPs.
    async fn create(self, client: &NetBoxClient) {
        let (bodies, rest): (Vec<Value>, Vec<(Value, String)>) = self
            .objects
            .into_iter()
            .map(|(object, interface, ip)| (object, (interface, ip)))
            .unzip();
        let ids = post(client, self.path, bodies).await;
        let (interfaces, ips): (Vec<Value>, Vec<String>) = rest.into_iter().unzip();
        let interfaces = ids
            .iter()
            .zip(interfaces)
            .map(|(id, mut body)| {
                body[self.parent_field] = json!(id);
                body
            })
            .collect();
        let interfaces = post(client, self.interface_path, interfaces).await;
        let ips = interfaces
            .iter()
            .zip(ips)
            .map(|(id, address)| {
                json!({"address": address, "status": "active",
                       "assigned_object_type": self.object_type, "assigned_object_id": id})
            })
            .collect();
        let ips = post(client, "ipam/ip-addresses/", ips).await;
        let primaries: Vec<Value> = ids
            .iter()
            .zip(&ips)
            .map(|(id, ip)| json!({"id": id, "primary_ip4": ip}))
            .collect();
        for chunk in primaries.chunks(CHUNK) {
            let _: Vec<Value> = client.patch(self.path, chunk).await.expect("primary");
        }
    }
}

/// The same writes as the first sync of `synced`, straight to NetBox, for `hosts` (other names
/// and addresses), into the references and the cluster that sync made.
async fn floor(client: &NetBoxClient, synced: &Hosts, hosts: &Hosts) -> Duration {
    let refs = &synced.prefix;
    let cluster = find_id(
        client,
        "virtualization/clusters/",
        "name",
        &synced.cluster(),
    )
    .await;
    let owner = |kind: &str| json!({"hedgehog_discovered_by": format!("{kind}:{refs}")});
    let device = |name: String, serial: Option<String>, kind: &str| {
        json!({"name": name, "serial": serial.unwrap_or_default(), "status": "active",
               "site": {"slug": refs}, "role": {"slug": refs}, "device_type": {"slug": refs},
               "custom_fields": owner(kind)})
    };
    let mut devices: Vec<_> = (0..hosts.inventory)
        .map(|i| {
            let (name, serial, mac, ip) = hosts.host(i);
            let interface = json!({"name": "eth0", "type": "1000base-t", "mac_address": mac});
            (
                device(name, Some(serial), "inventory"),
                interface,
                format!("{ip}/16"),
            )
        })
        .collect();
    let (cluster_name, octet) = (hosts.cluster(), hosts.proxmox_octet);
    devices.extend((0..hosts.nodes).map(|n| {
        let name = format!("{cluster_name}-node-{}", n + 1);
        let interface = json!({"name": "vmbr0", "type": "bridge"});
        let ip = format!("10.{octet}.255.{}/16", n + 1);
        (device(name, None, "proxmox"), interface, ip)
    }));
    let vms = (0..hosts.vms)
        .map(|i| {
            let body = json!({"name": format!("{cluster_name}-vm-{}", i + 1), "status": "active",
                              "cluster": cluster, "custom_fields": owner("proxmox")});
            let interface = json!({"name": "net0", "mac_address": mac(octet, i)});
            (body, interface, format!("{}/16", address(octet, i)))
        })
        .collect();
    let started = Instant::now();
    FloorKind::devices(devices).create(client).await;
    FloorKind::virtual_machines(vms).create(client).await;
    started.elapsed()
}

/// The id of the one object of `path` whose `key` is `value`.
async fn find_id(client: &NetBoxClient, path: &str, key: &str, value: &str) -> u64 {
    let query = ListQuery::new().filter(key, value).fields(&["id"]);
    let rows: Vec<Row> = client.list(path, &query).await.expect(path);
    rows.first().map(|r| r.id).expect(value)
}

/// Deletes everything a bench run made: the devices and virtual machines whose names start
/// with `BENCH` (NetBox deletes their interfaces, MACs and addresses with them), and the
/// references and clusters named `BENCH-*`.
async fn cleanup(client: &NetBoxClient) {
    for (path, key) in [
        ("dcim/devices/", "name__isw"),
        ("virtualization/virtual-machines/", "name__isw"),
        ("virtualization/clusters/", "name__isw"),
        ("virtualization/cluster-types/", "slug__isw"),
        ("dcim/device-types/", "slug__isw"),
        ("dcim/manufacturers/", "slug__isw"),
        ("dcim/device-roles/", "slug__isw"),
        ("dcim/sites/", "slug__isw"),
    ] {
        let query = ListQuery::new().filter(key, BENCH).fields(&["id"]);
        let rows: Vec<Row> = client.list(path, &query).await.expect(path);
        for chunk in rows.chunks(CHUNK) {
            let body: Vec<Value> = chunk.iter().map(|r| json!({"id": r.id})).collect();
            let _ = client.delete(path, Some(&body)).await;
        }
    }
}

/// The figures of one bench run.
struct Figures {
    hosts: usize,
    dry: (Duration, usize),
    first: (Duration, usize),
    second: Duration,
    floor: Duration,
    heap_before: usize,
}

impl Figures {
    fn print(&self, hosts: &Hosts) {
        let per_k = |d: Duration| d.as_secs_f64() * 1000.0 / self.hosts as f64;
        println!(
            "discovery of {} hosts into NetBox: {} devices from an inventory file, a Proxmox \
             cluster of {} nodes and {} VMs",
            self.hosts, hosts.inventory, hosts.nodes, hosts.vms
        );
        let line = |what: &str, d: Duration| {
            println!(
                "  {what:<24} {:>8.1} s  ({:.1} s per 1,000)",
                d.as_secs_f64(),
                per_k(d)
            )
        };
        line("dry run (no writes)", self.dry.0);
        line("first sync", self.first.0);
        line("NetBox bulk-create floor", self.floor);
        println!(
            "  ratio to the floor       {:>8.2}x",
            self.first.0.as_secs_f64() / self.floor.as_secs_f64()
        );
        println!(
            "  second sync              {:>8.1} s, 0 writes",
            self.second.as_secs_f64()
        );
        println!(
            "  heap peak: dry run {:.1} MiB, first sync {:.1} MiB (before: {:.1} MiB; target \
             < 100 MB)",
            mib(self.dry.1),
            mib(self.first.1),
            mib(self.heap_before)
        );
    }
}

/// The dry run, the first and second syncs and the floor, with their checks.
async fn measure(client: &NetBoxClient, hosts: &Hosts, floor_hosts: &Hosts) -> Figures {
    let api = RecordedApi::start(generated(&hosts.cluster(), hosts.vms, hosts.proxmox_octet)).await;
    let dir = tempfile::tempdir().unwrap();
    let sources = sources(hosts, dir.path(), &api);
    let heap_before = CURRENT.load(Ordering::Relaxed);

    eprintln!("dry run of {} hosts ...", hosts.total());
    let (dry, dry_time, dry_peak) = sync(client, &sources, true).await;
    assert_eq!(dry.plan.creates.len(), hosts.total(), "every host planned");
    assert!(dry.applied.is_none());
    drop(dry);
    let query = ListQuery::new()
        .filter("name__isw", &hosts.prefix)
        .fields(&["id"]);
    let written: Vec<Row> = client.list("dcim/devices/", &query).await.unwrap();
    assert!(written.is_empty(), "a dry run writes nothing");

    eprintln!("first sync ...");
    let (first, first_time, first_peak) = sync(client, &sources, false).await;
    let created = first.applied.clone().unwrap_or_default().created;
    let total = hosts.total();
    assert_eq!(
        (created.objects, created.interfaces, created.ips),
        (total, total, total),
        "{created:?}"
    );
    drop(first);

    eprintln!("second sync ...");
    let (second, second_time, _) = sync(client, &sources, false).await;
    assert!(
        second.plan.is_empty(),
        "a second sync plans no write: {:?}",
        second.plan.devices.first()
    );
    let applied = second.applied.clone().unwrap_or_default();
    assert_eq!(applied, Default::default(), "a second sync writes nothing");
    api.stop().await;

    eprintln!("floor ...");
    let floor_time = floor(client, hosts, floor_hosts).await;
    Figures {
        hosts: total,
        dry: (dry_time, dry_peak),
        first: (first_time, first_peak),
        second: second_time,
        floor: floor_time,
        heap_before,
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total: usize = std::env::var("HHS_BENCH_HOSTS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(5_000);
    let quiet = QuietNetBox::start().await;
    let client = client(&quiet.url);
    ensure_schema(&client, &[MappingConfig::default()])
        .await
        .expect("schema");
    cleanup(&client).await;
    let octets = free_octets(&client, 4).await;
    let prefix = unique(BENCH);
    let hosts = Hosts::new(prefix.clone(), total, [octets[0], octets[1]]);
    let floor_hosts = Hosts::new(format!("{prefix}-floor"), total, [octets[2], octets[3]]);
    let figures = measure(&client, &hosts, &floor_hosts).await;
    figures.print(&hosts);
    eprintln!("deleting what the bench made ...");
    cleanup(&client).await;
}
