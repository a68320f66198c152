//! A generated Proxmox VE API: a cluster of nodes running `vms` QEMU VMs, each with one
//! interface, its MAC and an address the guest agent reports, as
//! [`RecordedApi`](crate::recorded_api::RecordedApi) routes. For tests and benchmarks that
//! need many virtual machines (`RecordedApi::start(proxmox::generated("bench", 5000))`).

use serde_json::{Value, json};

use crate::recorded_api::{Reply, Routes};

/// VMs per generated node.
pub const VMS_PER_NODE: usize = 250;

/// Most VMs one generated cluster holds (their addresses share a /16).
pub const MAX_VMS: usize = 65_000;

/// The routes of a cluster named `prefix` whose nodes are `<prefix>-node-N` and whose VMs are
/// `<prefix>-vm-N` (N from 1), VM ids from 1000. VM `i` (from 0) has the MAC
/// [`mac`]`(octet, i)` and the address [`address`]`(octet, i)`/16; node `n` has
/// `10.<octet>.255.<n+1>/16`. A test NetBox that enforces unique addresses wants an `octet`
/// whose 10.octet.0.0/16 is free (`testkit::netbox::free_octet`).
pub fn generated(prefix: &str, vms: usize, octet: u8) -> Routes {
    assert!(vms <= MAX_VMS, "at most {MAX_VMS} VMs");
    let nodes = vms.div_ceil(VMS_PER_NODE).max(1);
    let node_name = |n: usize| format!("{prefix}-node-{}", n + 1);
    let mut routes = Routes::new();
    let mut put = |path: String, data: Value| {
        routes.insert(
            format!("/api2/json/{path}"),
            Reply::ok(json!({ "data": data })),
        );
    };
    let mut status = vec![json!({"type": "cluster", "name": prefix, "id": "cluster",
        "nodes": nodes, "quorate": 1, "version": 3})];
    status.extend((0..nodes).map(|n| {
        json!({"type": "node", "name": node_name(n),
        "id": format!("node/{}", node_name(n)), "ip": format!("10.{octet}.255.{}", n + 1),
        "online": 1, "local": u8::from(n == 0), "nodeid": n + 1, "level": ""})
    }));
    put("cluster/status".into(), Value::Array(status));
    put(
        "nodes".into(),
        json!(
            (0..nodes)
                .map(|n| json!({"node": node_name(n),
        "status": "online", "type": "node", "id": format!("node/{}", node_name(n))}))
                .collect::<Vec<_>>()
        ),
    );
    for n in 0..nodes {
        let node = node_name(n);
        put(
            format!("nodes/{node}/version"),
            json!({"version": "8.2.4", "release": "8.2",
            "repoid": "faa83925c9641325"}),
        );
        put(
            format!("nodes/{node}/network"),
            json!([{"iface": "vmbr0", "type": "bridge",
            "active": 1, "cidr": format!("10.{octet}.255.{}/16", n + 1)}]),
        );
        put(format!("nodes/{node}/lxc"), json!([]));
        let range = n * VMS_PER_NODE..((n + 1) * VMS_PER_NODE).min(vms);
        put(
            format!("nodes/{node}/qemu"),
            json!(
                range
                    .clone()
                    .map(|i| json!({
            "vmid": 1000 + i, "name": format!("{prefix}-vm-{}", i + 1), "status": "running",
            "cpus": 2, "maxmem": 2_147_483_648u64, "maxdisk": 34_359_738_368u64,
            "uptime": 3600}))
                    .collect::<Vec<_>>()
            ),
        );
        for i in range {
            let base = format!("nodes/{node}/qemu/{}", 1000 + i);
            put(
                format!("{base}/config"),
                json!({"name": format!("{prefix}-vm-{}", i + 1),
                "net0": format!("virtio={},bridge=vmbr0", mac(octet, i)), "agent": "1",
                "cores": 2, "memory": "2048"}),
            );
            put(
                format!("{base}/agent/network-get-interfaces"),
                json!({"result": [
                {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses":
                    [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
                {"name": "ens18", "hardware-address": mac(octet, i).to_lowercase(), "ip-addresses":
                    [{"ip-address": address(octet, i), "ip-address-type": "ipv4", "prefix": 16}]}]}),
            );
        }
    }
    routes
}

/// The MAC of generated VM `i` of a cluster generated with `octet`.
pub fn mac(octet: u8, i: usize) -> String {
    format!(
        "BC:24:{octet:02X}:{:02X}:{:02X}:{:02X}",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

/// The address (without prefix length) of generated VM `i` of a cluster generated with `octet`:
/// the `i+1`th of 10.octet.0.0/16, so never its network address.
pub fn address(octet: u8, i: usize) -> String {
    let host = i + 1;
    format!("10.{octet}.{}.{}", (host >> 8) & 0xff, host & 0xff)
}
