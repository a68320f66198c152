//! `scripts/demo` against the real NetBox: once it serves, Ctrl-C (SIGINT to its process
//! group, as a terminal sends it) ends every process it started, the Kubernetes API test
//! server and the sidecar, and frees their ports; NetBox, which it did not start, keeps the
//! same processes throughout.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hedgehog_sidecar::netbox::setup::{remove_links, remove_webhook};

use crate::binary::free_port;

/// How long the demo may take to serve: it sets up NetBox and reconciles the docs fabric.
const STARTUP: Duration = Duration::from_secs(600);

/// A process of the demo: its id and command line, from `/proc`.
struct Process {
    pid: u32,
    command: String,
}

/// The live processes of process group `group`.
fn group_members(group: u32) -> Vec<Process> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; the command name may hold spaces and parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let in_group = fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group);
        if in_group && fields.first() != Some(&"Z") {
            let command = std::fs::read(entry.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                .unwrap_or_default();
            members.push(Process { pid, command });
        }
    }
    members
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The ids of NetBox's web server and worker, from the pid files `netbox-up` writes.
fn netbox_processes() -> Vec<(String, u32)> {
    let root = PathBuf::from(testkit::netbox::var("NETBOX_E2E_ROOT")).join("netbox");
    ["gunicorn.pid", "rqworker.pid"]
        .iter()
        .filter_map(|file| {
            let pid = std::fs::read_to_string(root.join(file)).ok()?;
            Some(((*file).to_owned(), pid.trim().parse().ok()?))
        })
        .collect()
}

/// `scripts/demo` in a process group of its own, as a shell runs a foreground job; the whole
/// group is killed when dropped, so a failing test leaves nothing running.
struct Demo {
    child: Child,
    log: PathBuf,
}

impl Demo {
    fn start(env: &[(&'static str, String)], log: PathBuf) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = std::fs::File::create(&log).expect("the demo's log");
        let child = Command::new(root.join("scripts/demo"))
            .current_dir(root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("scripts/demo starts");
        Self { child, log }
    }

    fn group(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.group())])
            .stderr(Stdio::null())
            .status();
    }

    /// Waits until the sidecar answers `/healthz` on `port`; fails if the demo ends first.
    fn wait_serving(&mut self, port: u16) {
        let started = Instant::now();
        while started.elapsed() < STARTUP {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!(
                    "the demo ended with {status} before serving:\n{}",
                    self.log()
                );
            }
            let health = Command::new("curl")
                .args(["-fsS", "-o", "/dev/null", "--max-time", "2"])
                .arg(format!("http://127.0.0.1:{port}/healthz"))
                .stderr(Stdio::null())
                .status();
            if health.is_ok_and(|s| s.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("the demo did not serve within {STARTUP:?}:\n{}", self.log());
    }

    /// Waits up to `within` for the demo to end: `Some` of its exit code (`None` when a signal
    /// ended it), or `None` when it still runs.
    fn wait_ended(&mut self, within: Duration) -> Option<Option<i32>> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status.code());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// What Ctrl-C left behind, observed once the demo ended (or did not end in time).
struct AfterCtrlC {
    /// The demo's exit code; `None` when it still ran 30 s later.
    code: Option<Option<i32>>,
    still_running: Vec<String>,
    ports_free: bool,
    netbox: Vec<(String, u32)>,
    log: String,
}

/// Runs the demo with `env` until it serves on `port` (the test server on `kube_port`), sends
/// its process group Ctrl-C, and looks at what is left.
fn interrupt_demo(env: Vec<(&'static str, String)>, port: u16, kube_port: u16) -> AfterCtrlC {
    let logs = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(&env, logs.path().join("demo.log"));
    demo.wait_serving(port);
    let started = group_members(demo.group());
    let has = |name: &str| started.iter().any(|p| p.command.contains(name));
    assert!(
        has("kube-testserver") && has("hedgehog-sidecar --config"),
        "the demo runs the test server and the sidecar: {:?}",
        started.iter().map(|p| &p.command).collect::<Vec<_>>()
    );

    demo.signal_group("-INT");
    let code = demo.wait_ended(Duration::from_secs(30));
    AfterCtrlC {
        code,
        still_running: started
            .iter()
            .filter(|p| alive(p.pid))
            .map(|p| format!("{} (pid {})", p.command, p.pid))
            .collect(),
        ports_free: port_free(port) && port_free(kube_port),
        netbox: netbox_processes(),
        log: demo.log(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NetBox"]
async fn ctrl_c_stops_everything_the_demo_started_and_netbox_keeps_running() {
    let netbox_before = netbox_processes();
    assert!(
        !netbox_before.is_empty(),
        "NetBox's pid files are under $NETBOX_E2E_ROOT/netbox"
    );
    // Named like the e2e tests' webhooks, which their set-up removes when a failed run left one.
    let instance = testkit::netbox::unique("e2e-demo");
    let (port, kube_port) = (free_port(), free_port());
    let target = Path::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .ancestors()
        .nth(2)
        .expect("the target directory");
    let env = vec![
        ("DEMO_PORT", port.to_string()),
        ("DEMO_KUBE_PORT", kube_port.to_string()),
        ("DEMO_INSTANCE", instance.clone()),
        ("CARGO_TARGET_DIR", target.display().to_string()),
        // The test run has built both binaries; the demo's own `cargo build --workspace`
        // would build them again with the workspace's features instead of the tests', which
        // costs minutes and proves nothing about Ctrl-C.
        ("CARGO", "true".to_owned()),
        ("NETBOX_NO_RESTART", "1".to_owned()),
    ];
    let after = tokio::task::spawn_blocking(move || interrupt_demo(env, port, kube_port)).await;

    // What the demo's `setup` made for its instance goes first, whatever the checks find.
    let client = testkit::netbox::client();
    let removed = remove_webhook(&client, &instance).await.unwrap();
    remove_links(&client, &instance).await.unwrap();
    let after = after.unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));

    let log = &after.log;
    assert_eq!(
        after.code,
        Some(Some(130)),
        "Ctrl-C ends the demo as interrupted, within 30 s:\n{log}"
    );
    assert!(
        after.still_running.is_empty(),
        "still running after Ctrl-C: {:?}\n{log}",
        after.still_running
    );
    assert!(
        after.ports_free,
        "ports {port} and {kube_port} are free again"
    );
    assert_eq!(
        after.netbox, netbox_before,
        "NetBox was not restarted:\n{log}"
    );
    for (file, pid) in &after.netbox {
        assert!(alive(*pid), "NetBox's {file} process {pid} still runs");
    }
    assert!(!log.contains("restarting NetBox"), "{log}");
    assert!(
        removed > 0,
        "the demo set its webhook up under DEMO_INSTANCE"
    );
}
