//! Loading a generated fabric of about 10,000 NetBox objects from the real NetBox, with
//! `load_fabric` and with pynetbox (same filters, same id chunks), alternating in one run.
//!
//!     eval "$(../shared/netbox/netbox-up)"
//!     CARGO_TARGET_DIR=... cargo bench --bench netbox_load
//!
//! The fabric (`bench-10k-v3`, or `bench-small` with HHS_BENCH_FABRIC=small) is seeded once
//! with bulk creates and reused while it is complete (`support/bench_fabric.rs`). pynetbox is
//! installed into /var/tmp/hh-pynetbox (a venv) when missing. Env: HHS_BENCH_RUNS (default 3).

#[path = "support/bench_fabric.rs"]
mod bench_fabric;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bench_fabric::{ensure_seeded, spec, var};
use hedgehog_sidecar::netbox::load_fabric;
use serde_json::Value;

const VENV: &str = "/var/tmp/hh-pynetbox";

fn ensure_pynetbox() -> String {
    let python = format!("{VENV}/bin/python");
    let ok = |p: &str| {
        Command::new(p)
            .args(["-c", "import pynetbox"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&python) {
        eprintln!("installing pynetbox into {VENV}");
        let venv = Command::new("python3").args(["-m", "venv", VENV]).status();
        assert!(venv.is_ok_and(|s| s.success()), "python3 -m venv failed");
        let pip = Command::new(format!("{VENV}/bin/pip"))
            .args(["install", "-q", "pynetbox"])
            .status();
        assert!(
            pip.is_ok_and(|s| s.success()),
            "pip install pynetbox failed"
        );
    }
    python
}

fn pynetbox_run(
    python: &str,
    url: &str,
    token: &str,
    fabric_name: &str,
    threading: bool,
) -> (Duration, u64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pynetbox_load.py");
    let mut command = Command::new(python);
    command.arg(&script).args([url, token, fabric_name]);
    if threading {
        command.arg("--threading");
    }
    let output = command.output().expect("run pynetbox");
    assert!(
        output.status.success(),
        "pynetbox failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).expect("pynetbox output");
    (
        Duration::from_secs_f64(result["seconds"].as_f64().unwrap_or_default()),
        result["objects"].as_u64().unwrap_or_default(),
    )
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let url = var("NETBOX_URL");
    let token = var("NETBOX_TOKEN_V2");
    let runs: usize = std::env::var("HHS_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let client = bench_fabric::client();
    let config = spec().fabric_config();
    ensure_seeded(&client, &config).await;
    let python = ensure_pynetbox();

    let (mut rust, mut py, mut py_threaded) = (Vec::new(), Vec::new(), Vec::new());
    let mut counts = (0, 0, 0);
    for run in 0..runs {
        let started = Instant::now();
        let snapshot = load_fabric(&client, &config).await.expect("load");
        rust.push(started.elapsed());
        counts.0 = snapshot.len() as u64;
        let (t, n) = pynetbox_run(&python, &url, &token, &config.name, false);
        py.push(t);
        counts.1 = n;
        let (t, n) = pynetbox_run(&python, &url, &token, &config.name, true);
        py_threaded.push(t);
        counts.2 = n;
        eprintln!(
            "run {}: load_fabric {:.2}s, pynetbox {:.2}s, pynetbox threading {:.2}s",
            run + 1,
            rust[run].as_secs_f64(),
            py[run].as_secs_f64(),
            py_threaded[run].as_secs_f64()
        );
    }
    assert_eq!(
        counts.0, counts.1,
        "pynetbox read a different number of objects"
    );
    assert_eq!(
        counts.0, counts.2,
        "pynetbox (threading) read a different number"
    );
    let (r, p, pt) = (median(rust), median(py), median(py_threaded));
    println!("netbox_load: {} objects, median of {runs} runs", counts.0);
    println!(
        "  load_fabric (hedgehog-sidecar)  {:>7.2}s",
        r.as_secs_f64()
    );
    println!(
        "  pynetbox 7.8 (default)          {:>7.2}s  ({:.1}x slower)",
        p.as_secs_f64(),
        p.as_secs_f64() / r.as_secs_f64()
    );
    println!(
        "  pynetbox 7.8 (threading=True)   {:>7.2}s  ({:.1}x slower)",
        pt.as_secs_f64(),
        pt.as_secs_f64() / r.as_secs_f64()
    );
}
