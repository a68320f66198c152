//! The `hedgehog-sidecar` binary as a child process with a clean environment.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_hedgehog-sidecar");

/// `hedgehog-sidecar args` with only `PATH` and `env`, run to its end.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("the binary runs")
}

fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    command
}

/// `serve` running in the background; killed when dropped.
pub struct Served {
    child: Child,
    pub port: u16,
}

impl Served {
    /// Starts `serve` on a free loopback port with its log in `log`, and waits until
    /// `hedgehog-sidecar health` says it is up.
    pub fn start(env: &[(&str, &str)], log: &Path) -> Self {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut env = env.to_vec();
        env.push(("HEDGEHOG_SIDECAR_LISTEN", &listen));
        let log_file = std::fs::File::create(log).expect("log file");
        let child = command(&["serve"], &env)
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("serve runs");
        let mut served = Self { child, port };
        served.wait_up(log, Duration::from_secs(20));
        served
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_up(&mut self, log: &Path, within: Duration) {
        let started = Instant::now();
        let url = self.url();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("serve ended with {status}:\n{log}");
            }
            if run(&["health", "--url", &url, "--timeout-secs", "1"], &[])
                .status
                .success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(log).unwrap_or_default();
        panic!("serve was not healthy within {within:?}:\n{log}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}
