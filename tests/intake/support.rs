//! Test helpers: settings per back-end with private storage, `spawn_app` on port 0, signed
//! requests, the real NetBox deliveries, a private Redis server that can be stopped, and a
//! log capture.

#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hedgehog_sidecar::api::{AppOptions, spawn_app};
use hedgehog_sidecar::config::Settings;
use hedgehog_sidecar::intake::sign;
use hedgehog_sidecar::queue::{Job, JobHandler, JobQueue};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "netbox-webhook-secret";

/// Runs an async test body once per back-end.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Backend::Redis).await
                }
            )*
        }
        mod on_embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Backend::Embedded).await
                }
            )*
        }
    };
}
pub(crate) use both_backends;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Redis,
    Embedded,
}

pub fn redis_url() -> String {
    std::env::var("HHS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/3".into())
}

/// Private storage for one test: a random Redis key prefix or a temporary directory.
/// Dropping it deletes the Redis keys.
pub struct Storage {
    pub backend: Backend,
    pub prefix: String,
    pub dir: tempfile::TempDir,
    pub redis_url: String,
}

impl Storage {
    pub fn new(backend: Backend) -> Self {
        Self::with_redis(backend, redis_url())
    }

    pub fn with_redis(backend: Backend, redis_url: String) -> Self {
        capture_logs();
        Self {
            backend,
            prefix: format!("hhs-test-{}", uuid::Uuid::new_v4().simple()),
            dir: tempfile::tempdir().expect("tempdir"),
            redis_url,
        }
    }

    /// Settings for a service on 127.0.0.1:0 with fast retries and a 1 s visibility timeout.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().expect("addr"),
            ..Settings::default()
        };
        settings.webhook.secret = Some(SecretString::from(SECRET));
        settings.queue.key_prefix = self.prefix.clone();
        settings.queue.data_dir = self.dir.path().join("queue");
        settings.queue.workers = 2;
        settings.queue.max_attempts = 3;
        settings.queue.backoff_initial_ms = 20;
        settings.queue.backoff_max_ms = 100;
        settings.queue.visibility_timeout_secs = 1;
        settings.queue.shutdown_grace_secs = 5;
        if self.backend == Backend::Redis {
            settings.redis_url = Some(SecretString::from(self.redis_url.clone()));
        }
        settings
    }

    /// Environment for running the `hedgehog-sidecar` binary against this storage.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "HEDGEHOG_SIDECAR_QUEUE__KEY_PREFIX".to_owned(),
                self.prefix.clone(),
            ),
            (
                "HEDGEHOG_SIDECAR_DATA_DIR".to_owned(),
                self.dir.path().join("queue").display().to_string(),
            ),
        ];
        if self.backend == Backend::Redis {
            env.push((
                "HEDGEHOG_SIDECAR_REDIS_URL".to_owned(),
                self.redis_url.clone(),
            ));
        }
        env
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if self.backend != Backend::Redis {
            return;
        }
        let Ok(client) = redis::Client::open(self.redis_url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A running service and what tests need to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub queue: Arc<dyn JobQueue>,
    pub shutdown: CancellationToken,
    running: Option<hedgehog_sidecar::api::RunningApp>,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn spawn(settings: &Settings, handler: Arc<dyn JobHandler>) -> Self {
        Self::spawn_with(settings, handler, AppOptions::default()).await
    }

    /// Intake only: jobs stay in the queue.
    pub async fn spawn_without_workers(settings: &Settings) -> Self {
        let options = AppOptions {
            workers: false,
            ..AppOptions::default()
        };
        let handler = Arc::new(hedgehog_sidecar::queue::RecordingHandler::new());
        Self::spawn_with(settings, handler, options).await
    }

    pub async fn spawn_with(
        settings: &Settings,
        handler: Arc<dyn JobHandler>,
        mut options: AppOptions,
    ) -> Self {
        options.http_threads = Some(1);
        let shutdown = CancellationToken::new();
        let running = spawn_app(settings, handler, shutdown.clone(), options)
            .await
            .expect("the service starts");
        Self {
            addr: running.addr,
            queue: running.queue.clone(),
            shutdown,
            running: Some(running),
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Posts `body` with the signature NetBox would send.
    pub async fn post_signed(&self, body: &str) -> (u16, serde_json::Value) {
        let signature = sign(SECRET, body.as_bytes());
        self.post(body, Some(&signature)).await
    }

    pub async fn post(&self, body: &str, signature: Option<&str>) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(self.url("/webhooks/netbox"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("x-hook-signature", signature);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Stops the service (as SIGTERM does) and waits until it has stopped.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), running.stopped())
                .await
                .expect("the service stops within 30 s");
        }
    }
}

/// A NetBox-shaped event for object `id` of `object_type`, made distinct by `version`
/// (which also lands in `data.version` so tests can tell events apart).
pub fn event(object_type: &str, id: i64, event: &str, version: u32) -> String {
    serde_json::json!({
        "event": event,
        "timestamp": format!("2026-11-22T03:00:{:02}.{:06}+00:00", version % 60, version),
        "object_type": object_type,
        "data": {"id": id, "name": format!("obj-{id}"), "version": version,
                 "custom_fields": {"hedgehog_fabric": "lab"}},
        "request": {"id": format!("req-{id}-{version}"), "path": "/api/", "path_info": "/api/",
                    "method": "PATCH", "GET": {}, "user": "admin"},
        "snapshots": {"prechange": null, "postchange": null}
    })
    .to_string()
}

/// One real delivery from NetBox 4.7.3.
pub struct Delivery {
    pub signature: String,
    pub body: String,
}

pub fn netbox_deliveries() -> Vec<Delivery> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/netbox/webhook-samples/fabric-lifecycle.jsonl");
    let text = std::fs::read_to_string(&path).expect("webhook samples are readable");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("sample is JSON");
            Delivery {
                signature: v["headers"]["X-Hook-Signature"]
                    .as_str()
                    .expect("signature")
                    .to_owned(),
                body: v["body"].as_str().expect("body").to_owned(),
            }
        })
        .collect()
}

/// Polls `check` every 20 ms until it is true or `within` has passed.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A handler that records jobs as they finish, taking `delay` each, and notes any overlap of
/// two jobs for the same key.
#[derive(Default)]
pub struct SlowHandler {
    pub delay: Duration,
    pub started: Mutex<Vec<Job>>,
    pub finished: Mutex<Vec<Job>>,
    running_keys: Mutex<std::collections::HashSet<String>>,
    pub overlaps: Mutex<Vec<String>>,
}

impl SlowHandler {
    pub fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            delay,
            ..Self::default()
        })
    }

    pub fn finished(&self) -> Vec<Job> {
        self.finished.lock().unwrap().clone()
    }

    pub fn started(&self) -> Vec<Job> {
        self.started.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl JobHandler for SlowHandler {
    async fn handle(&self, job: &Job) -> Result<(), hedgehog_sidecar::queue::JobError> {
        self.started.lock().unwrap().push(job.clone());
        if !self.running_keys.lock().unwrap().insert(job.key.clone()) {
            self.overlaps.lock().unwrap().push(job.key.clone());
        }
        tokio::time::sleep(self.delay).await;
        self.running_keys.lock().unwrap().remove(&job.key);
        self.finished.lock().unwrap().push(job.clone());
        Ok(())
    }
}

/// Everything every test in this binary logged, as JSON lines (the service's JSON format).
pub fn captured_logs() -> String {
    let buffer = LOGS.get_or_init(Default::default);
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a global subscriber like `telemetry::init` with JSON output, writing into
/// memory at debug level so tests can read every line the service wrote.
pub fn capture_logs() {
    let buffer = LOGS.get_or_init(Default::default).clone();
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter("info,hedgehog_sidecar=debug")
        .with_writer(move || LogWriter(buffer.clone()))
        .try_init();
}

/// A Redis server of our own on a free port, with an append-only file fsynced on every write,
/// so it can be stopped and started again without losing what it acknowledged.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut redis = Self {
            port,
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("private redis-server did not start on port {}", self.port);
    }

    /// Kills the server (no chance to save: only the fsynced append-only file survives).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
