//! The configured sources, one run of them (`discover`), and their periodic runs under
//! `serve`: each enabled source on its own interval, until shutdown, once per interval across
//! replicas ([`Turns`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::run::{RunOptions, RunReport, run};
use super::source::{Source, selects};
use super::sources::configured::host_sources;
use super::sources::fabric::FabricSource;
use super::turns::Turns;
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

/// The configured sources `selector` picks (all without one): one fabric source per fabric,
/// then the inventory sources, the Proxmox VE, TrueNAS and Home Assistant instances, then the
/// scanner.
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
    sources.extend(inventory(settings, selector)?);
    let mapping = MappingConfig::default();
    let keep = |name: &str| selector.is_none_or(|s| selects(s, name));
    for host in host_sources(settings, &mapping.custom_fields, keep)? {
        sources.push(Configured {
            source: host.source,
            mapping: mapping.clone(),
            enabled: host.settings.enabled,
            interval: Duration::from_secs(host.settings.interval_secs),
            create_cables: false,
        });
    }
    sources.extend(scanner(settings, selector)?);
    if let (Some(selector), true) = (selector, sources.is_empty()) {
        anyhow::bail!(
            "no discovery source `{selector}` is configured (sources: fabric:<fabric name>, \
             inventory:<name>, proxmox:<name>, truenas:<name>, home_assistant:<name>, \
             scanner:<name>)"
        );
    }
    Ok(sources)
}

/// The network scanner, when it has prefixes and `selector` picks it.
#[cfg(feature = "scanner-source")]
fn scanner(settings: &Settings, selector: Option<&str>) -> anyhow::Result<Option<Configured>> {
    use super::sources::scanner::ScannerSource;
    let config = &settings.discovery.scanner;
    let name = format!("scanner:{}", config.name);
    if config.prefixes.is_empty() || selector.is_some_and(|s| !selects(s, &name)) {
        return Ok(None);
    }
    let mapping = MappingConfig::default();
    Ok(Some(Configured {
        source: Arc::new(ScannerSource::new(config, &mapping.custom_fields)?),
        mapping,
        enabled: config.enabled,
        interval: Duration::from_secs(config.interval_secs),
        create_cables: false,
    }))
}

/// The scanner is configured but this build has none.
#[cfg(not(feature = "scanner-source"))]
fn scanner(settings: &Settings, _selector: Option<&str>) -> anyhow::Result<Option<Configured>> {
    if settings.discovery.scanner.prefixes.is_empty() {
        return Ok(None);
    }
    anyhow::bail!(
        "[discovery.scanner] is configured but this build lacks the scanner-source feature"
    )
}

/// The configured inventory sources `selector` picks.
#[cfg(feature = "inventory-source")]
fn inventory(settings: &Settings, selector: Option<&str>) -> anyhow::Result<Vec<Configured>> {
    use super::sources::inventory::InventorySource;
    let mapping = MappingConfig::default();
    Ok(settings
        .discovery
        .inventory
        .iter()
        .filter(|c| selector.is_none_or(|s| selects(s, &format!("inventory:{}", c.name))))
        .map(|config| Configured {
            source: Arc::new(InventorySource::new(config, &mapping.custom_fields)),
            mapping: mapping.clone(),
            enabled: config.enabled,
            interval: Duration::from_secs(config.interval_secs),
            create_cables: false,
        })
        .collect())
}

/// Inventory sources are configured but this build has none.
#[cfg(not(feature = "inventory-source"))]
fn inventory(settings: &Settings, _selector: Option<&str>) -> anyhow::Result<Vec<Configured>> {
    if settings.discovery.inventory.is_empty() {
        return Ok(Vec::new());
    }
    anyhow::bail!(
        "[[discovery.inventory]] is configured but this build lacks the inventory-source feature"
    )
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

/// Spawns one loop per enabled source on `tasks`; each ends on `shutdown`. Replicas sharing
/// `turns`' lease store run each source once per interval between them.
pub fn spawn(
    tasks: &TaskTracker,
    client: Arc<NetBoxClient>,
    sources: Vec<Configured>,
    settings: Arc<Settings>,
    turns: Turns,
    shutdown: CancellationToken,
) {
    for source in sources.into_iter().filter(|c| c.enabled) {
        let (client, settings, turns) = (client.clone(), settings.clone(), turns.clone());
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let name = source.source.name().to_owned();
            let one = std::slice::from_ref(&source);
            turns
                .every(&name, source.interval, shutdown, || async {
                    match run_together(&client, one, &settings, false).await {
                        Ok(report) => log(&report),
                        Err(error) => {
                            tracing::warn!(source = %name, %error, "discovery run failed")
                        }
                    }
                })
                .await;
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
