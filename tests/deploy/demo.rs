//! `scripts/demo` says how to use it and refuses a busy port before it starts or changes
//! anything (NetBox included): both checks run before its first side effect.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn demo(args: &[&str], env: &[(&str, String)]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(root.join("scripts/demo"));
    command.args(args).current_dir(root);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("scripts/demo runs")
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
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    // Were NetBox or the build reached, they would fail differently: port 9 has no NetBox.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = [
        ("DEMO_PORT", free.port().to_string()),
        ("DEMO_KUBE_PORT", port.clone()),
        ("NETBOX_E2E_PORT", "9".to_owned()),
        ("CARGO", "/bin/false".to_owned()),
    ];
    let out = demo(&[], &env);
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
