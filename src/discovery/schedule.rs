//! The configured sources, one run of them (`discover`), and their periodic runs under
//! `serve`: each enabled source on its own interval, until shutdown.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::run::{RunOptions, RunReport, run};
use super::source::{Source, selects};
use super::sources::fabric::FabricSource;
use crate::config::{MappingConfig, Settings};
use crate::netbox::{NetBoxClient, NetBoxError};

/// A source with its settings.
#[derive(Clone)]
pub struct Configured {
    pub source: Arc<dyn Source>,
    /// Names the custom fields and the stale tag the source's writes use.
    pub mapping: MappingConfig,
    /// Runs on the scheduler (a source can always be run with `discover`).
    pub enabled: bool,
    pub interval: Duration,
    pub create_cables: bool,
}

/// The configured sources `selector` picks (all without one): one fabric source per fabric.
pub async fn configured(
    settings: &Settings,
    selector: Option<&str>,
) -> anyhow::Result<Vec<Configured>> {
    let fabric = &settings.discovery.fabric;
    let mut sources = Vec::new();
    for config in &settings.fabrics {
        let name = format!("fabric:{}", config.name);
        if selector.is_some_and(|s| !selects(s, &name)) {
            continue;
        }
        let source = FabricSource::connect(config).await?;
        sources.push(Configured {
            source: Arc::new(source),
            mapping: config.mapping.clone(),
            enabled: fabric.enabled,
            interval: Duration::from_secs(fabric.interval_secs),
            create_cables: fabric.create_cables,
        });
    }
    if let (Some(selector), true) = (selector, sources.is_empty()) {
        anyhow::bail!(
            "no discovery source `{selector}` is configured (sources: fabric:<fabric name>)"
        );
    }
    Ok(sources)
}

/// Runs `sources` together: the first one's mapping names the fields.
pub async fn run_together(
    client: &NetBoxClient,
    sources: &[Configured],
    settings: &Settings,
    dry_run: bool,
) -> Result<RunReport, NetBoxError> {
    let mapping = sources
        .first()
        .map(|c| c.mapping.clone())
        .unwrap_or_default();
    let options = RunOptions {
        dry_run,
        create_cables: sources.iter().any(|c| c.create_cables),
        stale_after: chrono::Duration::seconds(
            i64::try_from(settings.discovery.stale_after_secs).unwrap_or(i64::MAX / 1000),
        ),
        now: Utc::now(),
    };
    let list: Vec<Arc<dyn Source>> = sources.iter().map(|c| Arc::clone(&c.source)).collect();
    run(client, &list, &mapping, &options).await
}

/// Spawns one loop per enabled source on `tasks`; each ends on `shutdown`.
pub fn spawn(
    tasks: &TaskTracker,
    client: Arc<NetBoxClient>,
    sources: Vec<Configured>,
    settings: Arc<Settings>,
    shutdown: CancellationToken,
) {
    for source in sources.into_iter().filter(|c| c.enabled) {
        let (client, settings, shutdown) = (client.clone(), settings.clone(), shutdown.clone());
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(source.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let one = std::slice::from_ref(&source);
                match run_together(&client, one, &settings, false).await {
                    Ok(report) => log(&report),
                    Err(error) => tracing::warn!(source = source.source.name(), %error,
                        "discovery run failed"),
                }
            }
        });
    }
}

fn log(report: &RunReport) {
    let plan = &report.plan;
    tracing::info!(
        sources = %report.sources.join(","),
        devices = plan.devices.len(),
        interfaces = plan.interfaces.len(),
        cabling_mismatches = plan.cabling.iter().filter(|f| super::plan::is_mismatch(f)).count(),
        stale = plan.stale.len(),
        errors = report.errors.len(),
        "discovery run"
    );
}
