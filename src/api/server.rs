//! Builds and runs the whole service: queue, group-commit enqueuer, workers, HTTP server.
//! [`spawn_app`] is the one entry point `serve`, the tests and the benchmark share; the job
//! handler is a parameter so rendering and targets plug in later without touching this.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fabrics::ApiToken;
use super::state::AppState;
use super::{health, webhook};
use crate::config::{SecretError, Settings};
use crate::intake::{OwnWrites, SignatureVerifier};
use crate::pipeline::RecentPublishes;
use crate::queue::worker::WorkerConfig;
use crate::queue::{Enqueuer, JobHandler, JobQueue, QueueError, WorkerPool, open_queue};
use crate::reconcile::scheduler::Scheduler;
use crate::state::SharedState;
use crate::ui::UiContext;

/// How long a client may take to send a request's headers.
const HEADERS_WITHIN: Duration = Duration::from_secs(5);

/// How often queue depth gauges are refreshed.
const DEPTH_EVERY: Duration = Duration::from_secs(5);
/// How long shutdown waits for the HTTP worker threads to drop their copies of the state.
const STATE_DROP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A webhook secret setting cannot be used; the source names the key.
    #[error("invalid configuration")]
    Secret(#[from] SecretError),
    #[error(
        "invalid configuration: webhook.secret: not set (HEDGEHOG_SIDECAR_WEBHOOK_SECRET or \
         ..._SECRET_FILE); NetBox's webhooks cannot be verified without it"
    )]
    NoWebhookSecret,
    // The causes below are part of the messages and deliberately not `source()`s: `error: {:#}`
    // prints the chain, and would print each cause twice.
    #[error("cannot open the job queue: {0}")]
    Queue(QueueError),
    #[error("listen: cannot bind {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
}

impl From<QueueError> for StartError {
    fn from(error: QueueError) -> Self {
        Self::Queue(error)
    }
}

/// Knobs that are not configuration: tests and the benchmark use them.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Run the workers (the intake benchmark measures acceptance alone).
    pub workers: bool,
    /// HTTP worker threads; None for one per core.
    pub http_threads: Option<usize>,
    /// The `/api/v1/fabrics` operator API, when fabrics are served.
    pub fabrics_api: Option<FabricsApi>,
    /// The token every `/api/v1` route requires (`/api/v1/jobs` is always served).
    pub api_token: ApiToken,
    /// Where intake records queued changes for attribution (the fabrics' shared state).
    pub shared: Option<Arc<dyn SharedState>>,
    /// The cabling route (`/api/v1/fabrics/{name}/cabling`), when discovery sources exist.
    pub discovery: Option<super::discovery::DiscoveryApi>,
    /// The recent publishes the web UI's journal shows (none: it shows none).
    pub recent: Option<Arc<RecentPublishes>>,
}

/// What the operator API serves from.
#[derive(Clone)]
pub struct FabricsApi {
    pub scheduler: Arc<Scheduler>,
    pub token: ApiToken,
}

impl std::fmt::Debug for FabricsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FabricsApi").finish_non_exhaustive()
    }
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            workers: true,
            http_threads: None,
            fabrics_api: None,
            api_token: ApiToken(None),
            shared: None,
            discovery: None,
            recent: None,
        }
    }
}

/// A started service.
pub struct RunningApp {
    /// Where the HTTP server listens (the real port when configured with port 0).
    pub addr: SocketAddr,
    pub queue: Arc<dyn JobQueue>,
    task: JoinHandle<()>,
}

impl RunningApp {
    /// Resolves once the service has shut down (after `shutdown` was cancelled).
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Runs the service until `shutdown` is cancelled, then stops cleanly.
pub async fn run(
    settings: Settings,
    handler: Arc<dyn JobHandler>,
    shutdown: CancellationToken,
    options: AppOptions,
) -> Result<(), StartError> {
    let app = spawn_app(&settings, handler, shutdown, options).await?;
    tracing::info!(addr = %app.addr, "hedgehog-sidecar is serving");
    app.stopped().await;
    tracing::info!("hedgehog-sidecar stopped");
    Ok(())
}

/// Starts everything and returns once the HTTP server listens.
///
/// Shutdown order, once `shutdown` is cancelled: readiness fails; the HTTP server stops
/// accepting and finishes the requests it has (each waits for its job to be stored); the
/// workers stop claiming and finish or hand back their jobs.
pub async fn spawn_app(
    settings: &Settings,
    handler: Arc<dyn JobHandler>,
    shutdown: CancellationToken,
    options: AppOptions,
) -> Result<RunningApp, StartError> {
    let verifier = webhook_verifier(settings)?;
    let queue = open_queue(settings)?;
    let _ = super::metrics::handle();
    let fabrics: Vec<String> = settings.fabrics.iter().map(|f| f.name.clone()).collect();
    super::metric_catalog::register(&fabrics);
    let (enqueuer, flushers) = Enqueuer::start(queue.clone(), settings.queue.batch_max, 2);
    let (in_use, all_dropped) = tokio::sync::mpsc::channel::<()>(1);
    let state = web::Data::new(AppState {
        verifier,
        own_writes: own_writes(settings),
        max_body_bytes: settings.webhook.max_body_bytes,
        unverified_budget: Arc::new(tokio::sync::Semaphore::new(
            settings
                .webhook
                .max_unverified_bytes
                .min(tokio::sync::Semaphore::MAX_PERMITS),
        )),
        body_timeout: Duration::from_secs(settings.webhook.body_timeout_secs),
        enqueuer,
        shared: options.shared.clone(),
        queue: queue.clone(),
        stopping: shutdown.child_token(),
        _in_use: in_use,
    });
    let (server, addr) = start_http(settings, state, &options)?;
    let http = server.handle();
    let workers = options.workers.then(|| {
        WorkerPool::spawn(
            queue.clone(),
            handler,
            WorkerConfig::from(&settings.queue),
            shutdown.clone(),
        )
    });
    let parts = Parts {
        http,
        http_task: tokio::spawn(server),
        all_dropped,
        flushers,
        workers,
        depth: tokio::spawn(report_depth(queue.clone(), shutdown.clone())),
    };
    let task = tokio::spawn(async move {
        shutdown.cancelled().await;
        parts.stop_in_order().await;
    });
    Ok(RunningApp { addr, queue, task })
}

/// Binds and starts the HTTP server; returns it and the address it listens on.
fn start_http(
    settings: &Settings,
    state: web::Data<AppState>,
    options: &AppOptions,
) -> Result<(actix_web::dev::Server, SocketAddr), StartError> {
    let fabrics_api = options.fabrics_api.clone();
    let discovery = options.discovery.clone().map(web::Data::new);
    let api_token = web::Data::new(options.api_token.clone());
    let prefix = settings.ui.normalized_prefix();
    let ui = web::Data::new(UiContext {
        prefix: prefix.clone(),
        scheduler: fabrics_api.as_ref().map(|api| api.scheduler.clone()),
        recent: options.recent.clone().unwrap_or_default(),
    });
    let mut server = HttpServer::new(move || {
        let fabrics_api = fabrics_api.clone();
        let discovery = discovery.clone();
        App::new()
            .app_data(state.clone())
            .app_data(api_token.clone())
            .app_data(ui.clone())
            .configure(super::jobs::configure)
            .configure(|cfg| crate::ui::configure(cfg, &prefix))
            .configure(move |cfg| {
                if let Some(discovery) = discovery {
                    cfg.app_data(discovery);
                    super::discovery::configure(cfg);
                }
            })
            .configure(move |cfg| {
                if let Some(api) = fabrics_api {
                    cfg.app_data(web::Data::new(api.scheduler))
                        .app_data(web::Data::new(api.token));
                    super::fabrics::configure(cfg);
                }
            })
            .route("/webhooks/netbox", web::post().to(webhook::netbox))
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(health::metrics))
    })
    .disable_signals()
    // Request headers that take longer are cut off (slowloris); bodies have their own deadline.
    .client_request_timeout(HEADERS_WITHIN)
    .shutdown_timeout(settings.queue.shutdown_grace_secs.max(1));
    if let Some(threads) = options.http_threads {
        server = server.workers(threads);
    }
    let server = server
        .bind(settings.listen)
        .map_err(|error| StartError::Bind {
            addr: settings.listen,
            error,
        })?;
    let addr = server.addrs().first().copied().unwrap_or(settings.listen);
    Ok((server.run(), addr))
}

/// The running parts of the service, stopped in order at shutdown.
struct Parts {
    http: actix_web::dev::ServerHandle,
    http_task: JoinHandle<std::io::Result<()>>,
    /// Ends once every HTTP worker thread dropped its copy of the state.
    all_dropped: tokio::sync::mpsc::Receiver<()>,
    flushers: Vec<JoinHandle<()>>,
    workers: Option<WorkerPool>,
    depth: JoinHandle<()>,
}

impl Parts {
    async fn stop_in_order(mut self) {
        tracing::info!("shutting down: no more webhooks");
        self.http.stop(true).await;
        let _ = self.http_task.await;
        // HTTP worker threads drop their app (and its queue handle) a moment after the server
        // future ends; wait, so the embedded queue's file is closed when this task ends.
        if tokio::time::timeout(STATE_DROP_WAIT, self.all_dropped.recv())
            .await
            .is_err()
        {
            tracing::warn!("the HTTP workers still hold the queue after shutdown");
        }
        // The server's handlers held the last enqueuers: the flushers end once they drained.
        for flusher in self.flushers {
            let _ = flusher.await;
        }
        if let Some(workers) = self.workers {
            workers.join().await;
        }
        let _ = self.depth.await;
    }
}

/// The sidecar's own user(s), and the fields it writes back in any fabric.
fn own_writes(settings: &Settings) -> OwnWrites {
    OwnWrites {
        users: settings.webhook.ignore_users.clone(),
        fields: settings
            .fabrics
            .iter()
            .flat_map(|f| f.mapping.custom_fields.written_back())
            .map(str::to_owned)
            .collect(),
    }
}

fn webhook_verifier(settings: &Settings) -> Result<SignatureVerifier, StartError> {
    let secrets = settings.webhook.secrets()?;
    SignatureVerifier::new(&secrets).ok_or(StartError::NoWebhookSecret)
}

/// Keeps the queue depth gauges fresh (and the histogram upkeep done).
async fn report_depth(queue: Arc<dyn JobQueue>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(DEPTH_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        super::metrics::handle().run_upkeep();
        if let Ok(stats) = queue.stats().await {
            for (state, count) in [
                ("queued", stats.queued),
                ("running", stats.running),
                ("retrying", stats.retrying),
                ("dead", stats.dead),
            ] {
                metrics::gauge!(crate::queue::metrics::QUEUE_DEPTH, "state" => state)
                    .set(count as f64);
            }
        }
    }
}
