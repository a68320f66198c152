//! Builds the fabric side of the service from the configuration: the NetBox client, each
//! fabric's target, the job handler and the reconcile scheduler. `serve` and the one-shot
//! commands share it so they behave the same.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::ExposeSecret;
use tokio_util::task::TaskTracker;

use super::{FabricJobHandler, FabricPublisher, RecentPublishes};
use crate::allocation::AllocatorLease;
use crate::config::{FabricConfig, Settings};
use crate::fabric_env::FabricEnvSource;
use crate::lease::{LeaseStore, LocalLease, RedisLease};
use crate::model::ObjectKey;
use crate::netbox::NetBoxClient;
use crate::netbox::incremental::SnapshotCache;
use crate::reconcile::netbox_io::{NetBoxDesired, NetBoxStatusWriter};
use crate::reconcile::object_view::{ObjectReadError, ObjectView, view_of};
use crate::reconcile::scheduler::{Cadence, FabricRunner, Scheduler};
use crate::reconcile::{DesiredSource, FabricReport, ReconcileOptions, Reconciler, StatusWriter};
use crate::state::{MemoryState, RedisState, SharedState};
use crate::targets::{Target, for_fabric};

/// How old an agent's heartbeat may be before the switch counts as down.
const HEARTBEAT_STALE: chrono::Duration = chrono::Duration::minutes(5);
/// How often an unchanged heartbeat is refreshed in NetBox (see reconcile::writeback).
const HEARTBEAT_REFRESH: chrono::Duration = chrono::Duration::hours(1);

/// One fabric's collaborators.
pub struct FabricParts {
    pub fabric: FabricConfig,
    pub target: Arc<dyn Target>,
}

/// Everything the fabrics need, built once.
pub struct FabricServices {
    pub source: Arc<dyn DesiredSource>,
    pub writer: Arc<dyn StatusWriter>,
    pub fabrics: Vec<FabricParts>,
    pub redis: Option<deadpool_redis::Pool>,
    /// What replicas share: recorded changes, published sources, reports (Redis with the
    /// Redis queue, else memory).
    pub shared: Arc<dyn SharedState>,
    /// The recent publishes of this replica (jobs and self-heals), for the web UI's journal.
    pub recent: Arc<RecentPublishes>,
    /// Each fabric's NetBox snapshot kept between publishes.
    kept: Arc<SnapshotCache>,
    /// The NetBox client the fabrics read and write through.
    client: NetBoxClient,
    /// The rounds of publishes the job handlers start, waited for at shutdown.
    rounds: TaskTracker,
}

/// The connection pool of the configured Redis (`redis_url`), when there is one.
pub fn redis_pool(settings: &Settings) -> anyhow::Result<Option<deadpool_redis::Pool>> {
    let Some(url) = &settings.redis_url else {
        return Ok(None);
    };
    let pool = deadpool_redis::Config::from_url(url.expose_secret())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .map_err(|e| anyhow::anyhow!("redis_url: cannot create the connection pool: {e}"))?;
    Ok(Some(pool))
}

impl FabricServices {
    /// Connects to NetBox and builds each configured fabric's target (or only `only`).
    pub async fn build(settings: &Settings, only: Option<&str>) -> anyhow::Result<Self> {
        let client = NetBoxClient::from_settings(&settings.netbox)?;
        let redis = redis_pool(settings)?;
        let mut fabrics = Vec::new();
        let mut environments = BTreeMap::new();
        for fabric in &settings.fabrics {
            if only.is_some_and(|name| name != fabric.name) {
                continue;
            }
            let target = for_fabric(settings, fabric, redis.clone())
                .await
                .map_err(|e| anyhow::anyhow!("fabric `{}`: {e}", fabric.name))?;
            let environment = FabricEnvSource::connect(fabric)
                .await
                .map_err(|e| anyhow::anyhow!("fabric `{}`: {e}", fabric.name))?;
            environments.insert(fabric.name.clone(), environment);
            fabrics.push(FabricParts {
                fabric: fabric.clone(),
                target,
            });
        }
        if let Some(name) = only
            && fabrics.is_empty()
        {
            anyhow::bail!("no fabric named `{name}` is configured");
        }
        let shared: Arc<dyn SharedState> = match &redis {
            Some(pool) => Arc::new(RedisState::new(
                pool.clone(),
                settings.queue.key_prefix.clone(),
            )),
            None => Arc::new(MemoryState::default()),
        };
        let kept = Arc::new(SnapshotCache::default());
        Ok(Self {
            shared,
            recent: Arc::default(),
            source: Arc::new(NetBoxDesired {
                client: client.clone(),
                environments,
                allocator: AllocatorLease::for_replicas(redis.clone(), &settings.queue.key_prefix),
                kept: kept.clone(),
            }),
            writer: Arc::new(NetBoxStatusWriter {
                client: client.clone(),
                kept: kept.clone(),
            }),
            fabrics,
            redis,
            kept,
            client,
            rounds: TaskTracker::new(),
        })
    }

    /// The NetBox client the fabrics' publishes, reconciles and write-backs use: its
    /// [`NetBoxClient::requests_sent`] is what they cost NetBox.
    pub fn netbox(&self) -> &NetBoxClient {
        &self.client
    }

    /// Waits for the rounds of publishes still running, then for what the fabrics' targets
    /// still run on their own (batched publishes, lock releases); called once the workers and
    /// the scheduler stopped.
    pub async fn shutdown(&self) {
        self.rounds.close();
        self.rounds.wait().await;
        for parts in &self.fabrics {
            parts.target.shutdown().await;
        }
    }

    /// The worker's handler: publish the fabric a change concerns.
    pub fn job_handler(&self) -> FabricJobHandler {
        FabricJobHandler::new(
            self.fabrics
                .iter()
                .map(|parts| FabricPublisher {
                    fabric: parts.fabric.clone(),
                    source: self.source.clone(),
                    target: parts.target.clone(),
                    writer: self.writer.clone(),
                    shared: self.shared.clone(),
                })
                .collect(),
        )
        .with_recent(self.recent.clone())
        .with_rounds_owned_by(self.rounds.clone())
    }

    /// The leases replicas share: in Redis when there is one, else this process's.
    pub fn lease_store(&self, settings: &Settings) -> Arc<dyn LeaseStore> {
        match &self.redis {
            Some(pool) => Arc::new(RedisLease::new(
                pool.clone(),
                settings.queue.key_prefix.clone(),
            )),
            None => Arc::new(LocalLease::default()),
        }
    }

    /// The reconcile scheduler, with a Redis lease when replicas share a Redis.
    pub fn scheduler(self: &Arc<Self>, settings: &Settings) -> Scheduler {
        Scheduler::new(
            self.fabrics.iter().map(|p| p.fabric.clone()).collect(),
            self.clone(),
            self.lease_store(settings),
            self.shared.clone(),
            Cadence::from_settings(&settings.reconcile),
        )
    }

    /// One reconcile pass of one fabric, without the scheduler (the CLI).
    pub async fn reconcile(&self, fabric: &str, options: ReconcileOptions) -> Option<FabricReport> {
        let parts = self.fabrics.iter().find(|p| p.fabric.name == fabric)?;
        Some(self.reconcile_parts(parts, options).await)
    }

    /// One pass; it read NetBox in full, which catches what webhooks missed, so every
    /// replica's next publish of the fabric reads it in full too.
    async fn reconcile_parts(
        &self,
        parts: &FabricParts,
        options: ReconcileOptions,
    ) -> FabricReport {
        let report = self.reconciler(parts).run(options).await;
        let fabric = &parts.fabric.name;
        self.kept.forget(fabric);
        crate::state::invalidate_snapshots_or_warn(self.shared.as_ref(), fabric).await;
        report
    }

    fn reconciler<'a>(&'a self, parts: &'a FabricParts) -> Reconciler<'a> {
        Reconciler {
            fabric: &parts.fabric,
            source: self.source.as_ref(),
            target: parts.target.as_ref(),
            writer: self.writer.as_ref(),
            heartbeat_stale: HEARTBEAT_STALE,
            heartbeat_refresh: HEARTBEAT_REFRESH,
        }
    }
}

#[async_trait::async_trait]
impl FabricRunner for FabricServices {
    async fn reconcile(&self, fabric: &FabricConfig, options: ReconcileOptions) -> FabricReport {
        match self.fabrics.iter().find(|p| p.fabric.name == fabric.name) {
            Some(parts) => {
                let report = self.reconcile_parts(parts, options).await;
                self.recent.record_heal(parts.target.kind(), &report);
                report
            }
            None => {
                let mut report =
                    FabricReport::new(&fabric.name, fabric.mode.as_str(), options.dry_run);
                report.errors.push("the fabric has no target".into());
                report
            }
        }
    }

    async fn object(
        &self,
        fabric: &FabricConfig,
        key: &ObjectKey,
    ) -> Result<ObjectView, ObjectReadError> {
        let parts = self
            .fabrics
            .iter()
            .find(|p| p.fabric.name == fabric.name)
            .ok_or(ObjectReadError::NoTarget)?;
        let (desired, actual) = tokio::join!(self.source.desired(fabric), parts.target.actual());
        let desired = desired?;
        let actual = actual.map_err(|source| ObjectReadError::Actual {
            target: parts.target.kind(),
            source,
        })?;
        Ok(view_of(&desired, &actual, key))
    }
}
