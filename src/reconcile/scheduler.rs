//! Reconciles every fabric periodically and on demand. One replica leads (a lease held and
//! renewed for as long as it lives) and runs the periodic passes; any replica may run a pass on
//! demand, one pass per fabric at a time across all replicas (a lease per fabric). Every
//! replica serves the same reports: they live in the shared state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::engine::{FabricReport, ReconcileOptions};
use super::object_view::{ObjectReadError, ObjectView};
use crate::config::{FabricConfig, ReconcileSettings};
use crate::lease::{HeldLease, LeaseStore};
use crate::model::ObjectKey;
use crate::state::SharedState;

/// The lease of the replica that runs the periodic reconciles.
pub(crate) const LEADER_LEASE: &str = "reconcile-leader";
/// How often every replica refreshes its fabric metrics from the shared reports.
const METRICS_EVERY: Duration = Duration::from_secs(5);

/// Runs one reconcile pass of a fabric (the engine wired to NetBox and the fabric's target).
#[async_trait]
pub trait FabricRunner: Send + Sync {
    async fn reconcile(&self, fabric: &FabricConfig, options: ReconcileOptions) -> FabricReport;

    /// One object as NetBox renders it and as the target holds it now (the web UI's object
    /// page); the error says why it cannot be read.
    async fn object(
        &self,
        _fabric: &FabricConfig,
        _key: &ObjectKey,
    ) -> Result<ObjectView, ObjectReadError> {
        Err(ObjectReadError::Unsupported)
    }
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

/// How often each fabric is reconciled, how soon a failed pass is tried again, and how long a
/// lease lasts unless renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub interval: Duration,
    /// The first pause before a failed pass is tried again; it doubles up to `interval`.
    pub retry_after: Duration,
    pub lease_ttl: Duration,
}

impl Cadence {
    /// Passes every `interval`; a failed pass waits a whole interval too.
    pub fn new(interval: Duration, lease_ttl: Duration) -> Self {
        Self {
            interval,
            retry_after: interval,
            lease_ttl,
        }
    }

    /// The cadence the settings' `[reconcile]` section asks for.
    pub fn from_settings(reconcile: &ReconcileSettings) -> Self {
        Self::new(
            Duration::from_secs(reconcile.interval_secs),
            Duration::from_secs(reconcile.lease_secs),
        )
        .with_retry_after(Duration::from_secs(reconcile.retry_initial_secs))
    }

    /// Retries a failed pass after `first` (doubling up to the interval) instead of waiting a
    /// whole interval.
    pub fn with_retry_after(self, first: Duration) -> Self {
        Self {
            retry_after: first.min(self.interval),
            ..self
        }
    }
}

pub struct Scheduler {
    fabrics: Vec<FabricConfig>,
    runner: Arc<dyn FabricRunner>,
    lease: Arc<dyn LeaseStore>,
    /// Where the reports live, for every replica.
    shared: Arc<dyn SharedState>,
    /// This replica's identity in leases.
    holder: String,
    cadence: Cadence,
    /// Serialises passes of one fabric inside this process (the lease does across replicas).
    running: BTreeMap<String, Mutex<()>>,
}

impl Scheduler {
    pub fn new(
        fabrics: Vec<FabricConfig>,
        runner: Arc<dyn FabricRunner>,
        lease: Arc<dyn LeaseStore>,
        shared: Arc<dyn SharedState>,
        cadence: Cadence,
    ) -> Self {
        let running = fabrics
            .iter()
            .map(|f| (f.name.clone(), Mutex::new(())))
            .collect();
        Self {
            fabrics,
            runner,
            lease,
            shared,
            holder: crate::lease::new_holder(),
            cadence,
            running,
        }
    }

    pub fn fabrics(&self) -> &[FabricConfig] {
        &self.fabrics
    }

    /// One object of `fabric` as NetBox renders it and as the target holds it now.
    pub async fn object(
        &self,
        fabric: &str,
        key: &ObjectKey,
    ) -> Result<ObjectView, ObjectReadError> {
        let config = self
            .fabrics
            .iter()
            .find(|f| f.name == fabric)
            .ok_or_else(|| ObjectReadError::UnknownFabric(fabric.to_owned()))?;
        self.runner.object(config, key).await
    }

    /// What `fabric` rendered from which NetBox objects at its last publish (empty when it
    /// cannot be read).
    pub async fn published_sources(&self, fabric: &str) -> super::SourceMap {
        self.shared
            .published_sources(fabric)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(fabric, %error, "cannot read what the fabric last published");
                super::SourceMap::new()
            })
    }

    /// The latest report of each fabric that has one, whichever replica wrote it.
    pub async fn reports(&self) -> BTreeMap<String, FabricReport> {
        let mut reports = BTreeMap::new();
        for fabric in &self.fabrics {
            if let Some(report) = self.report(&fabric.name).await {
                reports.insert(fabric.name.clone(), report);
            }
        }
        reports
    }

    /// The latest report of `fabric`; none until its first reconcile ended (or while the
    /// shared state cannot be read: the fabric's state is then unknown).
    pub async fn report(&self, fabric: &str) -> Option<FabricReport> {
        match self.shared.report(fabric).await {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(fabric, %error, "cannot read the fabric's last report");
                None
            }
        }
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
        // The lease renews itself while a long pass runs, so no other replica starts one.
        let Some(held) = HeldLease::acquire(
            self.lease.clone(),
            &lease_name,
            &self.holder,
            self.cadence.lease_ttl,
        )
        .await?
        else {
            return Err(ScheduleError::Busy(fabric.to_owned()));
        };
        let mut report = self.runner.reconcile(config, options).await;
        if let Err(e) = held.release().await {
            tracing::warn!(fabric, error = %e, "cannot release the reconcile lease");
        }
        super::metrics::record(&report);
        if !options.dry_run {
            let previous = self.report(fabric).await;
            report.last_success = if report.succeeded() {
                Some(report.started_at)
            } else {
                previous.and_then(|p| p.last_success)
            };
            if let Err(error) = self.shared.set_report(fabric, &report).await {
                tracing::warn!(fabric, %error, "cannot store the fabric's report");
            }
            super::metrics::record_state(&report);
        }
        Ok(report)
    }

    /// Until `shutdown`: waits to lead (holding [`LEADER_LEASE`] for as long as it runs), and
    /// while leading reconciles every fabric each interval, a failed pass tried again with
    /// backoff. Every replica keeps its fabric metrics fresh from the shared reports. A pass
    /// running when `shutdown` comes finishes and releases its lease first.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let metrics = tokio::spawn(self.clone().refresh_metrics(shutdown.clone()));
        while !shutdown.is_cancelled() {
            let Some(held) = self.wait_to_lead(&shutdown).await else {
                break;
            };
            tracing::info!(holder = %self.holder, "leading the periodic reconcile");
            tokio::select! {
                _ = self.lead(&shutdown) => {}
                _ = held.lost() => tracing::warn!("lost the reconcile leadership"),
            }
            if let Err(error) = held.release().await {
                tracing::warn!(%error, "cannot release the reconcile leadership");
            }
        }
        let _ = metrics.await;
    }

    /// Takes the leader lease once it is free; `None` at shutdown.
    async fn wait_to_lead(&self, shutdown: &CancellationToken) -> Option<HeldLease> {
        loop {
            match HeldLease::acquire(
                self.lease.clone(),
                LEADER_LEASE,
                &self.holder,
                self.cadence.lease_ttl,
            )
            .await
            {
                Ok(Some(held)) => return Some(held),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "cannot ask for the reconcile leadership"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = tokio::time::sleep(self.cadence.lease_ttl / 3) => {}
            }
        }
    }

    /// The periodic passes, until shutdown (or until the caller stops leading).
    async fn lead(&self, shutdown: &CancellationToken) {
        let start = tokio::time::Instant::now();
        let mut due: BTreeMap<String, Due> = self
            .fabrics
            .iter()
            .map(|f| (f.name.clone(), Due::at(start)))
            .collect();
        loop {
            let next = due
                .values()
                .map(|d| d.at)
                .min()
                .unwrap_or(start + self.cadence.interval);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(next) => {}
            }
            for fabric in &self.fabrics {
                let entry = due
                    .get_mut(&fabric.name)
                    .expect("every fabric is scheduled");
                if shutdown.is_cancelled() {
                    return;
                }
                if entry.at > tokio::time::Instant::now() {
                    continue;
                }
                let failed = self.scheduled_pass(&fabric.name).await;
                entry.after_pass(failed, self.cadence.retry_after, self.cadence.interval);
            }
        }
    }

    /// Sets every fabric's state gauges from the shared reports (`Unknown` before the first
    /// reconcile), so each replica's metrics say what its API says.
    async fn refresh_metrics(self: Arc<Self>, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(METRICS_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            for fabric in &self.fabrics {
                let report = self.report(&fabric.name).await.unwrap_or_else(|| {
                    FabricReport::new(&fabric.name, fabric.mode.as_str(), false)
                });
                super::metrics::record_state(&report);
            }
        }
    }

    /// One scheduled pass of `fabric`, logged; whether it failed (and should be retried soon).
    async fn scheduled_pass(&self, fabric: &str) -> bool {
        match self
            .reconcile_now(fabric, ReconcileOptions::default())
            .await
        {
            Ok(report) => {
                super::pass_log::log_pass(&report);
                !report.succeeded()
            }
            Err(ScheduleError::Busy(_)) => {
                tracing::debug!(fabric, "another replica is reconciling");
                false
            }
            Err(e) => {
                tracing::warn!(fabric, error = %e, "reconcile skipped");
                true
            }
        }
    }
}

/// When a fabric's next scheduled pass is due, and the backoff of its failed passes.
struct Due {
    at: tokio::time::Instant,
    backoff: Option<backon::ExponentialBackoff>,
}

impl Due {
    fn at(at: tokio::time::Instant) -> Self {
        Self { at, backoff: None }
    }

    fn after_pass(&mut self, failed: bool, retry_after: Duration, interval: Duration) {
        let now = tokio::time::Instant::now();
        if !failed {
            *self = Self::at(now + interval);
            return;
        }
        let backoff = self.backoff.get_or_insert_with(|| {
            use backon::BackoffBuilder;
            backon::ExponentialBuilder::default()
                .with_min_delay(retry_after)
                .with_max_delay(interval)
                .without_max_times()
                .build()
        });
        self.at = now + backoff.next().unwrap_or(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LocalLease;
    use crate::reconcile::health::{Health, SyncStatus};
    use crate::state::MemoryState;
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

    /// Fails (cannot read the fabric) for its first `failures` passes, then succeeds.
    struct FlakyRunner {
        failures: usize,
        passes: AtomicUsize,
    }

    #[async_trait]
    impl FabricRunner for FlakyRunner {
        async fn reconcile(
            &self,
            fabric: &FabricConfig,
            options: ReconcileOptions,
        ) -> FabricReport {
            let pass = self.passes.fetch_add(1, Ordering::SeqCst);
            let mut report = FabricReport::new(&fabric.name, "apply", options.dry_run);
            if pass >= self.failures {
                report.sync = SyncStatus::Synced;
            }
            report
        }
    }

    fn fabric(name: &str) -> FabricConfig {
        serde_json::from_value(serde_json::json!({"name": name})).unwrap()
    }

    /// Makes replicas of one scheduler of fabric `lab`: one runner, lease store and shared
    /// state behind them all.
    fn replicas(runner: &Arc<SlowRunner>, lease_ttl: Duration) -> impl Fn() -> Arc<Scheduler> {
        let runner = runner.clone();
        let lease: Arc<dyn LeaseStore> = Arc::new(LocalLease::default());
        let shared: Arc<dyn SharedState> = Arc::new(MemoryState::default());
        move || {
            Arc::new(Scheduler::new(
                vec![fabric("lab")],
                runner.clone(),
                lease.clone(),
                shared.clone(),
                Cadence::new(Duration::from_secs(300), lease_ttl),
            ))
        }
    }

    #[tokio::test]
    async fn one_pass_per_fabric_at_a_time_even_across_replicas() {
        let runner = Arc::new(SlowRunner::default());
        let make = replicas(&runner, Duration::from_secs(10));
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
        assert!(one.report("lab").await.is_some());
        assert_eq!(
            serde_json::to_value(one.report("lab").await).unwrap(),
            serde_json::to_value(two.report("lab").await).unwrap(),
            "every replica serves the same report"
        );

        let unknown = one.reconcile_now("nope", ReconcileOptions::default()).await;
        assert!(matches!(unknown, Err(ScheduleError::UnknownFabric(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_pass_is_retried_with_backoff_not_after_the_interval() {
        let runner = Arc::new(FlakyRunner {
            failures: 2,
            passes: AtomicUsize::new(0),
        });
        let scheduler = Arc::new(Scheduler::new(
            vec![fabric("lab")],
            runner.clone(),
            Arc::new(LocalLease::default()),
            Arc::new(MemoryState::default()),
            Cadence::new(Duration::from_secs(300), Duration::from_secs(60))
                .with_retry_after(Duration::from_secs(10)),
        ));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(scheduler.clone().run(shutdown.clone()));
        let passes = || runner.passes.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(passes(), 1, "the first pass runs at once and fails");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(passes(), 2, "retried after 10 s, fails again");
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(passes(), 3, "retried after 20 s more, succeeds");
        tokio::time::sleep(Duration::from_secs(250)).await;
        assert_eq!(
            passes(),
            3,
            "after a success, the next pass waits the interval"
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(passes(), 4);
        shutdown.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_reconciles_each_interval_and_stops_on_shutdown() {
        let runner = Arc::new(SlowRunner::default());
        let scheduler = Arc::new(Scheduler::new(
            vec![fabric("lab"), fabric("prod")],
            runner.clone(),
            Arc::new(LocalLease::default()),
            Arc::new(MemoryState::default()),
            Cadence::new(Duration::from_secs(300), Duration::from_secs(60)),
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

    #[tokio::test(start_paused = true)]
    async fn one_leader_runs_the_periodic_passes_and_another_takes_over_when_it_stops() {
        let runner = Arc::new(SlowRunner::default());
        let replica = replicas(&runner, Duration::from_secs(30));
        let (one, two) = (replica(), replica());
        assert!(
            one.report("lab").await.is_none(),
            "no report before the first reconcile: the API says Unknown"
        );
        let stop_one = CancellationToken::new();
        let stop_two = CancellationToken::new();
        let first = tokio::spawn(one.clone().run(stop_one.clone()));
        let second = tokio::spawn(two.clone().run(stop_two.clone()));
        tokio::time::sleep(Duration::from_secs(901)).await;
        assert_eq!(
            runner.passes.load(Ordering::SeqCst),
            4,
            "one pass per interval in all, not one per replica"
        );
        let report = two.report("lab").await.expect("the leader's report");
        assert_eq!(report.sync, SyncStatus::Synced);
        assert!(report.last_success.is_some());

        stop_one.cancel();
        first.await.unwrap();
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert_eq!(
            runner.passes.load(Ordering::SeqCst),
            5,
            "the other replica took over once the leader stopped"
        );
        stop_two.cancel();
        second.await.unwrap();
    }
}
