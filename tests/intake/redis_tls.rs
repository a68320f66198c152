//! `rediss://`: the queue talks TLS to Redis, verifying the server's certificate against the
//! trusted roots (here a private CA given through `SSL_CERT_FILE`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::binary::{ServedBinary, free_port};
use crate::support::{Backend, Storage, event, eventually};

/// A CA and a certificate for localhost / 127.0.0.1 signed by it, made with `openssl`.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?} failed");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=hhs-test-ca",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

struct TlsRedis(Child);

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TLS-only Redis (no plain port) on `port`.
fn start_tls_redis(dir: &Path, port: u16) -> TlsRedis {
    let child = Command::new("redis-server")
        .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
        .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
        .args([
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.key",
        ])
        .args(["--tls-ca-cert-file", "ca.pem", "--dir", "."])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    // Killed and reaped on drop, also when it does not come up.
    let redis = TlsRedis(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return redis;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("TLS redis-server did not start on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn the_queue_works_over_rediss() {
    let tls = tempfile::tempdir().unwrap();
    make_certificates(tls.path());
    let redis_port = free_port();
    let _redis = start_tls_redis(tls.path(), redis_port);
    let storage = Storage::with_redis(Backend::Redis, format!("rediss://localhost:{redis_port}/0"));
    let ca = tls.path().join("ca.pem").display().to_string();
    let served = ServedBinary::start(
        &storage,
        free_port(),
        storage.dir.path().join("serve.log"),
        &[("SSL_CERT_FILE", &ca)],
    );
    let client = reqwest::Client::new();
    let ready = client.get(served.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200, "{}", served.logs());
    let body = event("dcim.device", 1, "updated", 1);
    let signature = hedgehog_sidecar::intake::sign(crate::support::SECRET, body.as_bytes());
    let response = client
        .post(served.url("/webhooks/netbox"))
        .header("x-hook-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202, "{}", served.logs());
    let json: serde_json::Value = response.json().await.unwrap();
    let job_id = json["job_id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(10), "the job runs", || {
        let logs = served.logs();
        let job_id = job_id.clone();
        async move {
            logs.lines()
                .any(|l| l.contains(&job_id) && l.contains("job done"))
        }
    })
    .await;
    assert!(
        !served.logs().contains("TLS feature is not enabled"),
        "{}",
        served.logs()
    );
    served.stop();
}
