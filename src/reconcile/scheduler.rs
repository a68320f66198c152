//! Reconciles every fabric periodically and on demand, one pass per fabric at a time across all
//! replicas (a lease per fabric), and keeps each fabric's latest report for the API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use super::engine::{FabricReport, ReconcileOptions};
use crate::config::FabricConfig;
use crate::lease::Lease;

/// Runs one reconcile pass of a fabric (the engine wired to NetBox and the fabric's target).
#[async_trait]
pub trait FabricRunner: Send + Sync {
    async fn reconcile(&self, fabric: &FabricConfig, options: ReconcileOptions) -> FabricReport;
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("no fabric named `{0}` is configured")]
    UnknownFabric(String),
    #[error("fabric `{0}` is being reconciled by another replica; try again shortly")]
    Busy(String),
    #[error("{0}")]
    Lease(#[from] crate::lease::LeaseError),
}

pub struct Scheduler {
    fabrics: Vec<FabricConfig>,
    runner: Arc<dyn FabricRunner>,
    lease: Arc<dyn Lease>,
    /// This replica's identity in leases.
    holder: String,
    interval: Duration,
    lease_ttl: Duration,
    reports: RwLock<BTreeMap<String, FabricReport>>,
    /// Serialises passes of one fabric inside this process (the lease does across replicas).
    running: BTreeMap<String, Mutex<()>>,
}

impl Scheduler {
    pub fn new(
        fabrics: Vec<FabricConfig>,
        runner: Arc<dyn FabricRunner>,
        lease: Arc<dyn Lease>,
        interval: Duration,
        lease_ttl: Duration,
    ) -> Self {
        let running = fabrics
            .iter()
            .map(|f| (f.name.clone(), Mutex::new(())))
            .collect();
        Self {
            fabrics,
            runner,
            lease,
            holder: format!("{}-{}", hostname(), uuid::Uuid::new_v4()),
            interval,
            lease_ttl,
            reports: RwLock::new(BTreeMap::new()),
            running,
        }
    }

    pub fn fabrics(&self) -> &[FabricConfig] {
        &self.fabrics
    }

    /// The latest report of each fabric reconciled by this replica.
    pub async fn reports(&self) -> BTreeMap<String, FabricReport> {
        self.reports.read().await.clone()
    }

    pub async fn report(&self, fabric: &str) -> Option<FabricReport> {
        self.reports.read().await.get(fabric).cloned()
    }

    /// Reconciles `fabric` now. Waits for a pass already running in this process; fails with
    /// `Busy` when another replica holds the fabric's lease.
    pub async fn reconcile_now(
        &self,
        fabric: &str,
        options: ReconcileOptions,
    ) -> Result<FabricReport, ScheduleError> {
        let config = self
            .fabrics
            .iter()
            .find(|f| f.name == fabric)
            .ok_or_else(|| ScheduleError::UnknownFabric(fabric.to_owned()))?;
        let _local = self.running[fabric].lock().await;
        let lease_name = format!("reconcile:{fabric}");
        if !self
            .lease
            .acquire(&lease_name, &self.holder, self.lease_ttl)
            .await?
        {
            return Err(ScheduleError::Busy(fabric.to_owned()));
        }
        let report = {
            let pass = self.runner.reconcile(config, options);
            tokio::pin!(pass);
            // Renew the lease while a long pass runs so no other replica starts one.
            let mut renew = tokio::time::interval(self.lease_ttl / 3);
            renew.tick().await;
            loop {
                tokio::select! {
                    report = &mut pass => break report,
                    _ = renew.tick() => {
                        if let Err(e) = self.lease.acquire(&lease_name, &self.holder, self.lease_ttl).await {
                            tracing::warn!(fabric, error = %e, "cannot renew the reconcile lease");
                        }
                    }
                }
            }
        };
        if let Err(e) = self.lease.release(&lease_name, &self.holder).await {
            tracing::warn!(fabric, error = %e, "cannot release the reconcile lease");
        }
        if !options.dry_run {
            self.reports
                .write()
                .await
                .insert(fabric.to_owned(), report.clone());
        }
        super::metrics::record(&report);
        Ok(report)
    }

    /// Reconciles every fabric each interval until `shutdown` is cancelled.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            for fabric in &self.fabrics {
                if shutdown.is_cancelled() {
                    return;
                }
                match self
                    .reconcile_now(&fabric.name, ReconcileOptions::default())
                    .await
                {
                    Ok(report) => tracing::info!(
                        fabric = %fabric.name, sync = ?report.sync, health = ?report.health,
                        duration_ms = report.duration_ms, errors = report.errors.len(),
                        "reconciled"
                    ),
                    Err(ScheduleError::Busy(_)) => {
                        tracing::debug!(fabric = %fabric.name, "another replica is reconciling")
                    }
                    Err(e) => {
                        tracing::warn!(fabric = %fabric.name, error = %e, "reconcile skipped")
                    }
                }
            }
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "sidecar".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LocalLease;
    use crate::reconcile::health::{Health, SyncStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts passes and how many ran at once.
    #[derive(Default)]
    struct SlowRunner {
        passes: AtomicUsize,
        concurrent: AtomicUsize,
        max_concurrent: AtomicUsize,
    }

    #[async_trait]
    impl FabricRunner for SlowRunner {
        async fn reconcile(
            &self,
            fabric: &FabricConfig,
            options: ReconcileOptions,
        ) -> FabricReport {
            let now = self.concurrent.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_concurrent.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.concurrent.fetch_sub(1, Ordering::SeqCst);
            self.passes.fetch_add(1, Ordering::SeqCst);
            let mut report = FabricReport::new(&fabric.name, "apply", options.dry_run);
            report.sync = SyncStatus::Synced;
            report.health = Health::Healthy;
            report
        }
    }

    fn fabric(name: &str) -> FabricConfig {
        serde_json::from_value(serde_json::json!({"name": name})).unwrap()
    }

    #[tokio::test]
    async fn one_pass_per_fabric_at_a_time_even_across_replicas() {
        let runner = Arc::new(SlowRunner::default());
        let lease: Arc<dyn Lease> = Arc::new(LocalLease::default());
        let make = || {
            Arc::new(Scheduler::new(
                vec![fabric("lab")],
                runner.clone(),
                lease.clone(),
                Duration::from_secs(300),
                Duration::from_secs(10),
            ))
        };
        let (one, two) = (make(), make());
        let same_replica = tokio::join!(
            one.reconcile_now("lab", ReconcileOptions::default()),
            one.reconcile_now("lab", ReconcileOptions::default()),
        );
        assert!(
            same_replica.0.is_ok() && same_replica.1.is_ok(),
            "the second waits for the first"
        );
        assert_eq!(runner.max_concurrent.load(Ordering::SeqCst), 1);

        let replicas = tokio::join!(
            one.reconcile_now("lab", ReconcileOptions::default()),
            two.reconcile_now("lab", ReconcileOptions::default()),
        );
        let busy = [&replicas.0, &replicas.1]
            .iter()
            .filter(|r| matches!(r, Err(ScheduleError::Busy(_))))
            .count();
        assert_eq!(busy, 1, "exactly one replica runs: {replicas:?}");
        assert_eq!(runner.max_concurrent.load(Ordering::SeqCst), 1);
        assert!(one.report("lab").await.is_some() || two.report("lab").await.is_some());

        let unknown = one.reconcile_now("nope", ReconcileOptions::default()).await;
        assert!(matches!(unknown, Err(ScheduleError::UnknownFabric(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_reconciles_each_interval_and_stops_on_shutdown() {
        let runner = Arc::new(SlowRunner::default());
        let scheduler = Arc::new(Scheduler::new(
            vec![fabric("lab"), fabric("prod")],
            runner.clone(),
            Arc::new(LocalLease::default()),
            Duration::from_secs(300),
            Duration::from_secs(60),
        ));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(scheduler.clone().run(shutdown.clone()));
        tokio::time::sleep(Duration::from_secs(301)).await;
        assert_eq!(
            runner.passes.load(Ordering::SeqCst),
            4,
            "two ticks, two fabrics each"
        );
        shutdown.cancel();
        task.await.unwrap();
        assert_eq!(scheduler.reports().await.len(), 2);
    }
}
