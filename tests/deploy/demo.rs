//! `scripts/demo` says how to use it, stops a test server an earlier demo left running (and
//! nothing else), and refuses a busy port before it starts or changes anything (NetBox
//! included): these run before its first side effect. Each run keeps its files in a directory
//! of its own (`DEMO_DIR`), never in the checkout's `.data/demo`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

fn demo(args: &[&str], env: &[(&str, String)]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(root.join("scripts/demo"));
    command.args(args).current_dir(root);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("scripts/demo runs")
}

/// The demo with its files in `dir` and its test server's port `busy`, which is in use: it
/// stops at the port check. Were NetBox or the build reached, they would fail differently:
/// port 9 has no NetBox and the build is `/bin/false`.
fn demo_stopped_by_a_busy_port(dir: &Path, busy: &TcpListener) -> Output {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = [
        ("DEMO_DIR", dir.display().to_string()),
        ("DEMO_PORT", free.port().to_string()),
        (
            "DEMO_KUBE_PORT",
            busy.local_addr().unwrap().port().to_string(),
        ),
        ("NETBOX_E2E_PORT", "9".to_owned()),
        ("CARGO", "/bin/false".to_owned()),
    ];
    demo(&[], &env)
}

/// A process whose command line is `command`, once it runs under that name.
fn process_named(command: &str) -> Child {
    let child = Command::new("bash")
        .args(["-c", &format!("exec -a {command} sleep 60")])
        .spawn()
        .expect("bash runs");
    let cmdline = format!("/proc/{}/cmdline", child.id());
    let started = Instant::now();
    while !std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(command.as_bytes())) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{command} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Whether the thread ends within 5 s.
fn ends<T>(thread: &std::thread::JoinHandle<T>) -> bool {
    let started = Instant::now();
    while !thread.is_finished() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    thread.is_finished()
}

#[test]
fn help_prints_usage_and_every_variable() {
    let out = demo(&["--help"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.starts_with("Usage: scripts/demo"), "{text}");
    for variable in [
        "DEMO_PORT",
        "DEMO_KUBE_PORT",
        "DEMO_INSTANCE",
        "DEMO_DIR",
        "CARGO_TARGET_DIR",
        "NETBOX_E2E_PORT",
    ] {
        assert!(text.contains(variable), "--help names {variable}: {text}");
    }
}

#[test]
fn an_unknown_argument_is_refused_with_a_pointer_to_help() {
    let out = demo(&["--frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--help"));
}

#[test]
fn a_busy_port_stops_the_demo_before_netbox_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = demo_stopped_by_a_busy_port(dir.path(), &busy);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{stderr}"
    );
    assert!(stderr.contains("DEMO_KUBE_PORT"), "{stderr}");
    assert!(
        !stderr.contains("netbox-up"),
        "NetBox was not started: {stderr}"
    );
}

#[test]
fn a_test_server_an_earlier_demo_left_running_is_stopped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let stale = process_named("kube-testserver");
    let pid = stale.id();
    let pid_file = dir.path().join("kube-testserver.pid");
    std::fs::write(&pid_file, pid.to_string()).unwrap();
    // Reaped as soon as it ends, so the demo does not wait for a zombie.
    let waiting = std::thread::spawn(move || {
        let mut stale = stale;
        stale.wait()
    });
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();

    let out = demo_stopped_by_a_busy_port(dir.path(), &busy);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stopped = ends(&waiting);
    if !stopped {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    let said = format!("stopping the test server a previous demo left running (pid {pid})");
    assert!(stderr.contains(&said), "the demo says so: {stderr}");
    assert!(stopped, "the stale test server was stopped, not reused");
    assert!(!pid_file.exists(), "its pid file is gone");
}

#[test]
fn a_pid_file_naming_another_process_stops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut other = process_named("not-a-test-server");
    std::fs::write(
        dir.path().join("kube-testserver.pid"),
        other.id().to_string(),
    )
    .unwrap();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();

    let out = demo_stopped_by_a_busy_port(dir.path(), &busy);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let running = other.try_wait().expect("wait").is_none();
    let _ = other.kill();
    let _ = other.wait();
    assert!(!stderr.contains("stopping the test server"), "{stderr}");
    assert!(
        running,
        "a process that is not the demo's test server keeps running"
    );
}
