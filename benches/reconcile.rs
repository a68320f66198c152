//! A full reconcile of a generated fabric of about 10,000 NetBox objects (the real NetBox of
//! `netbox-up`, the Kubernetes API test server on its own thread and runtime), against its floor: the time to
//! page the same data out of NetBox and list the same objects from the cluster, concurrently as
//! the reconciler does, measured in the same run. The reconcile is the real command,
//! `hedgehog-sidecar reconcile --fabric NAME`, in a child process, so its peak memory (max RSS,
//! from `/usr/bin/time`) is the product's own and not this harness's.
//!
//!     eval "$(../shared/netbox/netbox-up)"
//!     cargo bench --bench reconcile
//!
//! The first pass applies every object to the empty test cluster and writes the statuses into
//! NetBox (not measured); the measured passes reconcile the steady fabric (compare everything,
//! heal nothing, write nothing). Env: HHS_BENCH_RUNS (default 3), HHS_BENCH_FABRIC=small.
//! Targets: at most 1.3 times the floor, peak memory under 200 MB.

#[path = "support/bench_fabric.rs"]
mod bench_fabric;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bench_fabric::{ensure_seeded, spec, var};
use hedgehog_sidecar::config::{FabricConfig, ValidationLevel};
use hedgehog_sidecar::netbox::load_fabric;
use hedgehog_sidecar::targets::Target;
use hedgehog_sidecar::targets::cluster::ClusterTarget;
use kube_testserver::TestServer;
use serde_json::Value;

struct Pass {
    elapsed: Duration,
    max_rss_kib: u64,
    report: Value,
}

/// `hedgehog-sidecar --config CONFIG reconcile --fabric NAME --format json` under `time -f`.
fn reconcile(config: &Path, fabric: &str, dry_run: bool) -> Pass {
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "max_rss_kib=%M"])
        .arg(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .arg("--config")
        .arg(config)
        .args(["reconcile", "--fabric", fabric, "--format", "json"]);
    if dry_run {
        command.arg("--dry-run");
    }
    let started = Instant::now();
    let output = command.output().expect("run hedgehog-sidecar reconcile");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "reconcile failed:\n{stderr}");
    let max_rss_kib = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("max_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .expect("/usr/bin/time reports the max RSS");
    let report = serde_json::from_slice(&output.stdout).expect("the report is JSON");
    Pass {
        elapsed,
        max_rss_kib,
        report,
    }
}

/// What any reconcile must at least do: read NetBox and the cluster, at the same time.
async fn floor(client: &hedgehog_sidecar::netbox::NetBoxClient, fabric: &FabricConfig) -> Duration {
    let target = ClusterTarget::connect(fabric).await.expect("cluster");
    let started = Instant::now();
    let (netbox, cluster) = tokio::join!(load_fabric(client, fabric), target.actual());
    let elapsed = started.elapsed();
    assert!(!netbox.expect("NetBox reads").is_empty());
    assert!(!cluster.expect("cluster lists").is_empty());
    elapsed
}

fn config_file(dir: &Path, fabric: &FabricConfig, kubeconfig: &Path) -> PathBuf {
    // The generated fabric's mapping (switch profile, addressing), as an operator would write it.
    let settings = &fabric.mapping.settings;
    let token = dir.join("netbox-token");
    std::fs::write(&token, var("NETBOX_TOKEN_V2")).unwrap();
    let text = format!(
        r#"
[netbox]
url = "{url}"
token_file = "{token}"
timeout_secs = 300

[queue]
data_dir = "{data}"

[log]
level = "warn"

[[fabric]]
name = "{name}"
mode = "apply"
validation = "{validation}"
kubeconfig = "{kubeconfig}"

[fabric.mapping.device_type_profiles]
{profiles}

[fabric.mapping.settings]
management_subnet = "{m}"
control_vip = "{vip}"
management_dhcp_start = "{dhcp}"
protocol_subnet = "{protocol}"
vtep_subnet = "{vtep}"
fabric_subnet = "{links}"
reserved_subnets = [{reserved}]
"#,
        url = var("NETBOX_URL"),
        token = token.display(),
        data = dir.join("queue").display(),
        name = fabric.name,
        validation = match fabric.validation {
            ValidationLevel::Wiring => "wiring",
            ValidationLevel::Cluster => "cluster",
        },
        kubeconfig = kubeconfig.display(),
        profiles = fabric
            .mapping
            .device_type_profiles
            .iter()
            .map(|(t, p)| format!("{t:?} = {p:?}"))
            .collect::<Vec<_>>()
            .join("\n"),
        m = settings.management_subnet,
        vip = settings.control_vip,
        dhcp = settings.management_dhcp_start,
        protocol = settings.protocol_subnet,
        vtep = settings.vtep_subnet,
        links = settings.fabric_subnet,
        reserved = settings
            .reserved_subnets
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let path = dir.join("sidecar.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("HHS_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let client = bench_fabric::client();
    let mut fabric = spec().fabric_config();
    ensure_seeded(&client, &fabric).await;

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let (server_thread, stop_server) = start_cluster(&kubeconfig, &fabric.mapping.settings);
    fabric.kubeconfig = Some(kubeconfig.clone());
    let config = config_file(dir.path(), &fabric, &kubeconfig);

    eprintln!("first pass: applying the fabric to the empty test cluster");
    let started = Instant::now();
    let first = reconcile(&config, &fabric.name, false);
    eprintln!(
        "first pass: {:.1}s, sync {}, {} objects",
        started.elapsed().as_secs_f64(),
        first.report["sync"],
        first.report["objects"].as_array().map_or(0, Vec::len)
    );
    assert!(
        first.report["problems"]
            .as_array()
            .is_none_or(Vec::is_empty)
            && first.report["errors"].as_array().is_none_or(Vec::is_empty),
        "the bench fabric must render and apply: problems {}, errors {}",
        first.report["problems"],
        first.report["errors"]
    );

    let (mut floors, mut passes) = (Vec::new(), Vec::new());
    let mut peak = 0;
    let mut objects = 0;
    for run in 0..runs {
        let f = floor(&client, &fabric).await;
        let pass = reconcile(&config, &fabric.name, false);
        assert_eq!(
            pass.report["sync"], "Synced",
            "a steady fabric reconciles to Synced: {}",
            pass.report["errors"]
        );
        objects = pass.report["objects"].as_array().map_or(0, Vec::len);
        peak = peak.max(pass.max_rss_kib);
        eprintln!(
            "run {}: floor {:.2}s, reconcile {:.2}s, max RSS {} MiB",
            run + 1,
            f.as_secs_f64(),
            pass.elapsed.as_secs_f64(),
            pass.max_rss_kib / 1024
        );
        floors.push(f);
        passes.push(pass.elapsed);
    }
    let (f, r) = (median(floors), median(passes));
    println!(
        "reconcile: {} NetBox objects, {objects} Hedgehog objects, median of {runs} runs",
        load_fabric(&client, &fabric).await.map_or(0, |s| s.len())
    );
    println!(
        "  floor (NetBox pages + cluster lists)  {:>7.2}s",
        f.as_secs_f64()
    );
    println!(
        "  full reconcile (CLI, steady fabric)   {:>7.2}s  ({:.2}x the floor; target <= 1.3x)",
        r.as_secs_f64(),
        r.as_secs_f64() / f.as_secs_f64()
    );
    println!(
        "  peak memory (max RSS)                 {:>7} MiB (target < 200 MB)",
        peak / 1024
    );
    let _ = stop_server.send(());
    server_thread.join().expect("the test server's thread");
}

/// The Kubernetes API test server on its own thread and runtime, as a real API server would be
/// its own process: the floor's reads in this process then do not share a runtime with it.
fn start_cluster(
    kubeconfig: &Path,
    settings: &hedgehog_sidecar::config::FabricSettings,
) -> (
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let kubeconfig = kubeconfig.to_owned();
    let settings = settings.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let server = TestServer::start(&testkit::paths::crds_dir())
                .await
                .expect("test server");
            server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
            testkit::fabric_env::seed_fabric(&server, &settings).await;
            ready_tx.send(()).expect("ready");
            let _ = stop_rx.await;
            server.shutdown().await;
        });
    });
    ready_rx.recv().expect("the test server starts");
    (thread, stop_tx)
}
