//! A second web server for the test NetBox whose requests fire no event rule
//! (`quiet_netbox_wsgi.py`), to seed thousands of objects without queueing a webhook delivery
//! for every other user of NetBox's single webhook worker.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::netbox::var;

pub struct QuietNetBox {
    pub url: String,
    child: Child,
}

impl QuietNetBox {
    /// Starts it from the NetBox that `netbox-up` installed on this host (`NETBOX_E2E_ROOT`)
    /// and waits until it answers.
    pub async fn start() -> Self {
        let root = std::path::PathBuf::from(var("NETBOX_E2E_ROOT"));
        let mode = std::fs::read_to_string(root.join("mode")).unwrap_or_default();
        assert_eq!(
            mode.trim(),
            "host",
            "seeding without webhooks needs the NetBox of netbox-up installed on this host"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let support = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/support");
        let child = Command::new(root.join("venv/bin/gunicorn"))
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--workers", "2", "--threads", "2", "--timeout", "900"])
            // Its own control socket would take the place of the main server's.
            .arg("--no-control-socket")
            .args(["--pythonpath", support, "quiet_netbox_wsgi:application"])
            .current_dir(root.join("netbox"))
            .env("NETBOX_ROOT", root.join("netbox"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gunicorn of the test NetBox runs");
        let quiet = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        quiet.wait_until_up().await;
        quiet
    }

    async fn wait_until_up(&self) {
        let http = reqwest::Client::new();
        let status = format!("{}/api/status/", self.url);
        let token = var("NETBOX_TOKEN_V2");
        let started = Instant::now();
        loop {
            let answer = http
                .get(&status)
                .header("Authorization", &token)
                .send()
                .await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the quiet NetBox did not answer on {status} within 120 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for QuietNetBox {
    /// SIGTERM, so gunicorn stops its workers too.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
