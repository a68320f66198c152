//! The `hedgehog-sidecar serve` binary as a child process on a loopback port, for tests that
//! kill it, measure its memory, or read its logs.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{SECRET, Storage};

pub struct ServedBinary {
    pub port: u16,
    child: Child,
    pub log: PathBuf,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl ServedBinary {
    /// Starts `serve` on `port` against `storage`, with JSON logs in `log`, and waits until it
    /// answers `/healthz`. `extra` adds or overrides environment variables.
    pub fn start(storage: &Storage, port: u16, log: PathBuf, extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(storage.cli_env())
            .env("HEDGEHOG_SIDECAR_LISTEN", format!("127.0.0.1:{port}"))
            .env("HEDGEHOG_SIDECAR_WEBHOOK_SECRET", SECRET)
            .env("HEDGEHOG_SIDECAR_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,hedgehog_sidecar=debug")
            .env("HEDGEHOG_SIDECAR_RECONCILE__ENABLED", "false");
        for (name, value) in extra {
            command.env(name, value);
        }
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = command
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("the binary runs");
        let served = Self { port, child, log };
        served.wait_healthy(Duration::from_secs(20));
        served
    }

    fn wait_healthy(&self, within: Duration) {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                let mut reply = String::new();
                let _ = stream.read_to_string(&mut reply);
                if reply.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "serve did not answer /healthz within {within:?}:\n{}",
            self.logs()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("serve did not stop within 30 s after SIGTERM");
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
