//! `hedgehog-sidecar serve`: the HTTP server and the workers until SIGTERM or SIGINT.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::fabrics::ApiToken;
use crate::api::{AppOptions, DiscoveryApi, FabricsApi};
use crate::config::{Settings, resolve_secret};
use crate::discovery::turns::Turns;
use crate::pipeline::FabricServices;
use crate::queue::{JobHandler, LoggingHandler};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Serves until SIGTERM/SIGINT; the tasks started here (the signal listener, the reconcile
/// scheduler) are joined before it returns, so a running reconcile finishes and releases its
/// lease.
pub async fn run(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(cancel_on_signal(shutdown.clone()));
    let served = serve(settings, args, &tasks, shutdown.clone()).await;
    // Also when serving failed to start: the tasks end on cancellation.
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    served
}

async fn serve(
    settings: Settings,
    _args: ServeArgs,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut options = AppOptions::default();
    // Resolved even when no fabric is served, so a blank token is refused in every setup.
    let token = resolve_secret(
        "api.token",
        settings.api.token.as_ref(),
        settings.api.token_file.as_deref(),
    )
    .context("invalid configuration")?;
    if token.is_none() {
        tracing::warn!("api.token is not set: /api/v1 refuses every request");
    }
    options.api_token = ApiToken(token.clone());
    let mut services = None;
    let handler: Arc<dyn JobHandler> = if settings.fabrics.is_empty() {
        tracing::warn!("no [[fabric]] is configured: webhooks are queued, logged and dropped");
        Arc::new(LoggingHandler)
    } else {
        let built = Arc::new(FabricServices::build(&settings, None).await?);
        services = Some(Arc::clone(&built));
        let services = built;
        options.shared = Some(services.shared.clone());
        options.recent = Some(services.recent.clone());
        let scheduler = Arc::new(services.scheduler(&settings));
        if settings.reconcile.enabled {
            tasks.spawn(scheduler.clone().run(shutdown.clone()));
        }
        let turns = Turns {
            lease: services.lease_store(&settings),
            holder: crate::lease::new_holder(),
        };
        options.discovery = Some(start_discovery(&settings, tasks, turns, shutdown.clone()).await?);
        options.fabrics_api = Some(FabricsApi {
            scheduler,
            token: ApiToken(token),
        });
        Arc::new(services.job_handler())
    };
    crate::api::run(settings, handler, shutdown, options).await?;
    // The workers have stopped; what they started in the targets ends before the process.
    if let Some(services) = services {
        tasks.close();
        tasks.wait().await;
        services.shutdown().await;
    }
    Ok(())
}

/// The discovery sources: each enabled one runs on its interval until `shutdown` (once per
/// interval among the replicas sharing `turns`); all serve the cabling route.
async fn start_discovery(
    settings: &Settings,
    tasks: &TaskTracker,
    turns: Turns,
    shutdown: CancellationToken,
) -> anyhow::Result<DiscoveryApi> {
    let sources = crate::discovery::schedule::configured(settings, None).await?;
    let api = DiscoveryApi {
        client: Arc::new(crate::netbox::NetBoxClient::from_settings(
            &settings.netbox,
        )?),
        sources,
        settings: Arc::new(settings.clone()),
    };
    crate::discovery::schedule::spawn(
        tasks,
        api.client.clone(),
        api.sources.clone(),
        api.settings.clone(),
        turns,
        shutdown,
    );
    Ok(api)
}

/// Cancels `shutdown` on the first SIGTERM (systemd, Kubernetes) or SIGINT (Ctrl-C).
async fn cancel_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            tracing::warn!("cannot listen for SIGTERM");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            _ = shutdown.cancelled() => return,
        }
    }
    #[cfg(not(unix))]
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = shutdown.cancelled() => return,
    }
    shutdown.cancel();
}
