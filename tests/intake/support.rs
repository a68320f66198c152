//! Test helpers: settings per back-end with private storage, `spawn_app` on port 0, signed
//! requests and the real NetBox deliveries; polling, log capture and Redis come from testkit.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hedgehog_sidecar::api::{AppOptions, spawn_app};
use hedgehog_sidecar::config::Settings;
use hedgehog_sidecar::intake::sign;
use hedgehog_sidecar::queue::{Job, JobHandler, JobQueue, Lease};
use secrecy::SecretString;
pub use testkit::eventually;
pub use testkit::logs::{capture_logs, captured_logs};
use testkit::redis::delete_keys;
pub use testkit::redis::{PrivateRedis, redis_url};
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "netbox-webhook-secret";

/// Runs an async test body once per back-end.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs Redis"]
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
        if self.backend == Backend::Redis {
            delete_keys(&self.redis_url, &self.prefix);
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
        let handler = Arc::new(testkit::handler::RecordingHandler::new());
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

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, within: Duration) {
        let (client, url) = (self.client.clone(), self.url("/readyz"));
        eventually(within, "ready", || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        })
        .await;
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

/// Posts two events for one object and claims the first; another worker then looks at the
/// second and leaves it parked behind the running one. Returns the running lease and the
/// parked job's id.
pub async fn park_behind_a_running_job(app: &TestApp) -> (Lease, String) {
    app.post_signed(&event("dcim.device", 7, "updated", 1))
        .await;
    let running = app
        .queue
        .claim("busy", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("the first job runs");
    let (status, waiting) = app
        .post_signed(&event("dcim.device", 7, "updated", 2))
        .await;
    assert_eq!(status, 202, "{waiting}");
    let other = app
        .queue
        .claim("idle", Duration::from_millis(500))
        .await
        .unwrap();
    assert!(other.is_none(), "the object's second job must wait");
    let waiting = waiting["job_id"].as_str().expect("a job id").to_owned();
    (running, waiting)
}

/// Waits until a claim gets the job `id` (a parked job runs once its object is free).
pub async fn claims_next(app: &TestApp, id: &str) {
    let queue = app.queue.clone();
    eventually(
        Duration::from_secs(5),
        "the parked job runs next",
        || async {
            let lease = queue
                .claim("next", Duration::from_millis(200))
                .await
                .unwrap();
            lease.is_some_and(|l| l.job.id == id)
        },
    )
    .await;
}

/// One real delivery from NetBox 4.7.3.
pub struct Delivery {
    pub signature: String,
    pub body: String,
}

pub fn netbox_deliveries() -> Vec<Delivery> {
    let path = testkit::paths::shared("netbox/webhook-samples/fabric-lifecycle.jsonl");
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
