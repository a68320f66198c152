//! One reconcile pass of one fabric: render NetBox, read the target, compare, heal, write back.
//!
//! Each step's failure is contained: NetBox unreadable or the target unreadable gives `Unknown`
//! (never `Synced`), a failed heal or write-back is reported in `errors` and the pass still
//! returns its comparison.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{ObjectReport, ObjectState, compare};
use super::fabric_status::fabric_outcome;
use super::health::{Health, SwitchHealth, SyncStatus, fabric_health, switch_health, sync_status};
use super::isolation::preserved;
use super::sources::{SourceMap, SourceRef, custom_fields_index};
use super::writeback::{
    Heal, JournalEntry, JournalKind, NetBoxStatus, Outcome, WritebackPlan, merge,
    outcomes_from_reports, plan, plan_switch_health, plan_unmapped,
};
use crate::config::{FabricConfig, FabricMode};
use crate::model::{Kind, Manifest, ObjectKey};
use crate::netbox::{FabricSnapshot, NetBoxError};
use crate::targets::{Cause, PublishReport, Target};

/// A rendering problem attributed to the NetBox objects that cause it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub objects: Vec<SourceRef>,
    pub message: String,
}

/// NetBox's side of a fabric: the snapshot and what it renders to.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub snapshot: FabricSnapshot,
    pub manifests: Vec<Manifest>,
    pub sources: SourceMap,
    /// Switch name → its NetBox device, for agent health.
    pub switch_devices: std::collections::BTreeMap<String, SourceRef>,
    /// Validation problems, on the NetBox objects to change.
    pub problems: Vec<Problem>,
    /// Rendered objects not in `manifests` because of `problems`, and why.
    pub held_back: super::isolation::HeldBack,
}

/// How a publish's desired state was read, so its snapshot can be kept for the next one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Basis {
    /// Brought up to date from a kept snapshot; else read in full.
    pub incremental: bool,
    /// The kept snapshots' generation when reading started (see
    /// [`crate::netbox::incremental::SnapshotCache`]); `None` from a source that keeps none.
    pub generation: Option<u64>,
}

/// Loads and renders a fabric from NetBox.
#[async_trait]
pub trait DesiredSource: Send + Sync {
    async fn desired(&self, fabric: &FabricConfig) -> Result<Desired, SourceError>;

    /// The desired state after allocating what the fabric lacks, for a fabric with
    /// `allocate = true` (see [`crate::allocation`]); a source that cannot allocate renders
    /// what it has.
    async fn desired_allocated(&self, fabric: &FabricConfig) -> Result<Desired, SourceError> {
        self.desired(fabric).await
    }

    /// The logged deletions of `objects`, for attribution when their webhooks have not arrived
    /// yet (see [`crate::netbox::changelog`]). Best effort: a source that keeps no change log,
    /// or cannot read it, names none.
    async fn deletions(&self, _objects: &[SourceRef]) -> Vec<crate::attribution::NetBoxChange> {
        Vec::new()
    }

    /// The desired state after `changes`, for a publish: from the fabric's snapshot kept at
    /// the shared `version`, brought up to date, when it can be; else read in full as
    /// [`DesiredSource::desired_allocated`] does.
    async fn desired_after(
        &self,
        fabric: &FabricConfig,
        _changes: &[crate::netbox::incremental::ObjectChange],
        _version: Option<u64>,
    ) -> Result<(Desired, Basis), SourceError> {
        Ok((self.desired_allocated(fabric).await?, Basis::default()))
    }

    /// The snapshots this source keeps between publishes; `None` when it keeps none.
    fn kept(&self) -> Option<&crate::netbox::incremental::SnapshotCache> {
        None
    }
}

/// Why the desired state of a fabric could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read NetBox: {0}")]
    NetBox(#[source] NetBoxError),
    #[error("{0}")]
    FabricEnv(#[source] crate::fabric_env::FabricEnvError),
    /// Allocation could not run now (NetBox or the allocator lease unavailable, or another
    /// allocator of the fabric busy the whole wait).
    #[error("{0}")]
    Allocation(#[source] crate::allocation::AllocationError),
}

impl SourceError {
    /// Whether reading again later may succeed (NetBox unreachable or overloaded), as opposed
    /// to a refusal a retry cannot change (token, permission, configuration).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::NetBox(error) => error.is_retryable(),
            Self::FabricEnv(error) => error.is_retryable(),
            Self::Allocation(error) => error.is_retryable(),
        }
    }
}

/// Applies a write-back plan to NetBox (bulk custom-field PATCHes, journal entries).
#[async_trait]
pub trait StatusWriter: Send + Sync {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), WriteBackError>;

    /// Writes a fabric-wide outcome onto the fabric's own record (only what changed).
    /// Returns whether anything was written.
    async fn write_fabric(
        &self,
        _fabric: &FabricConfig,
        _outcome: &Outcome,
    ) -> Result<bool, WriteBackError> {
        Ok(false)
    }

    /// Adds a journal entry to the fabric's own record, for what no NetBox object stands for
    /// any more (objects pruned from the target).
    async fn journal_fabric(
        &self,
        _fabric: &FabricConfig,
        _comments: &str,
    ) -> Result<(), WriteBackError> {
        Ok(())
    }
}

/// The journal text for objects a publish removed from the target.
pub(crate) fn pruned_comment(deleted: &[ObjectKey], target: &str, cause: &str) -> String {
    let names: Vec<String> = deleted.iter().map(ToString::to_string).collect();
    format!(
        "Pruned from the {target}, no longer rendered from NetBox: {} ({cause})",
        names.join(", ")
    )
}

/// A write-back NetBox did not take, classified by what a retry may do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteBackError {
    /// NetBox was unreachable or overloaded and wrote nothing a second write would
    /// duplicate: writing the same plan again is safe.
    #[error(transparent)]
    Unavailable(WriteFailure),
    /// The connection failed after journal entries were sent, so NetBox may have created
    /// them: the same plan must not be written again (a later pass may write what is still
    /// needed).
    #[error(transparent)]
    Uncertain(WriteFailure),
    /// NetBox refused the write (token, permission, invalid value): retrying cannot help.
    #[error(transparent)]
    Refused(WriteFailure),
}

/// What NetBox did not take, and NetBox's error (shared: the error is handed to every retry).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what}: {source}")]
pub struct WriteFailure {
    pub what: String,
    #[source]
    pub source: std::sync::Arc<NetBoxError>,
}

impl WriteFailure {
    pub fn new(what: impl Into<String>, source: NetBoxError) -> Self {
        Self {
            what: what.into(),
            source: std::sync::Arc::new(source),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReconcileOptions {
    /// Compare and report only: no heal, no write-back.
    pub dry_run: bool,
}

/// The result of one pass, served by the API and printed by the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FabricReport {
    pub fabric: String,
    pub mode: String,
    pub sync: SyncStatus,
    pub health: Health,
    pub objects: Vec<ObjectReport>,
    pub switches: Vec<SwitchHealth>,
    pub problems: Vec<Problem>,
    pub errors: Vec<String>,
    pub healed: Option<PublishReport>,
    pub netbox_updates: usize,
    pub journal_entries: usize,
    pub started_at: DateTime<Utc>,
    /// When the last pass that read everything and hit no error started (this one's, or an
    /// earlier one's).
    #[serde(default)]
    pub last_success: Option<DateTime<Utc>>,
    /// When a job's publish last brought this report up to date.
    #[serde(default)]
    pub last_publish: Option<DateTime<Utc>>,
    pub duration_ms: u64,
    pub dry_run: bool,
}

impl FabricReport {
    /// A report with nothing known yet: `Unknown` until a comparison succeeds.
    pub fn new(fabric: &str, mode: &str, dry_run: bool) -> Self {
        FabricReport {
            fabric: fabric.to_owned(),
            mode: mode.to_owned(),
            sync: SyncStatus::Unknown,
            health: Health::Unknown,
            objects: vec![],
            switches: vec![],
            problems: vec![],
            errors: vec![],
            healed: None,
            netbox_updates: 0,
            journal_entries: 0,
            started_at: Utc::now(),
            last_success: None,
            last_publish: None,
            duration_ms: 0,
            dry_run,
        }
    }

    /// Whether the pass read NetBox and the target and hit no error.
    pub fn succeeded(&self) -> bool {
        self.sync != SyncStatus::Unknown && self.errors.is_empty()
    }

    pub fn count(&self, state: ObjectState) -> usize {
        self.objects.iter().filter(|o| o.state == state).count()
    }

    /// Whether the pass's self-heal applied or pruned `key`: its state is what the pass found
    /// before the heal repaired it.
    pub fn healed(&self, key: &ObjectKey) -> bool {
        self.healed.as_ref().is_some_and(|h| {
            h.created
                .iter()
                .chain(&h.updated)
                .chain(&h.deleted)
                .any(|k| k == key)
        })
    }
}

pub struct Reconciler<'a> {
    pub fabric: &'a FabricConfig,
    pub source: &'a dyn DesiredSource,
    pub target: &'a dyn Target,
    pub writer: &'a dyn StatusWriter,
    /// Age after which an agent's heartbeat counts as stale.
    pub heartbeat_stale: chrono::Duration,
    /// How often an unchanged heartbeat is refreshed in NetBox.
    pub heartbeat_refresh: chrono::Duration,
}

impl Reconciler<'_> {
    pub async fn run(&self, options: ReconcileOptions) -> FabricReport {
        let mut report = self.pass(options).await;
        self.record_fabric(&mut report, options).await;
        report
    }

    async fn pass(&self, options: ReconcileOptions) -> FabricReport {
        let started = Instant::now();
        let mut report = FabricReport::new(
            &self.fabric.name,
            self.fabric.mode.as_str(),
            options.dry_run,
        );
        let (desired, actual) =
            tokio::join!(self.source.desired(self.fabric), self.target.actual());
        let desired = match desired {
            Ok(desired) => desired,
            Err(e) => {
                report.errors.push(e.to_string());
                return finish(report, started);
            }
        };
        report.problems = desired.problems.clone();
        let target_name = self.target.kind();
        let actual = match actual {
            Ok(actual) => actual,
            Err(e) => {
                report
                    .errors
                    .push(format!("cannot read the {target_name}: {e}"));
                // Only the objects' own problems are written; the unreadable target is a
                // fabric-wide condition for the fabric's record.
                self.write_back(&desired, &[], &[], &Heal::NotTried, &mut report, options)
                    .await;
                return finish(report, started);
            }
        };

        report.objects = compare(
            &desired.manifests,
            &actual,
            &self.fabric.name,
            &self.fabric.mapping.label_domain,
        );
        mark_held_back(&mut report.objects, &desired.held_back);
        if self.fabric.mode == FabricMode::Apply {
            let switches: Vec<String> = desired
                .manifests
                .iter()
                .filter(|m| m.kind() == Some(Kind::Switch))
                .map(|m| m.metadata.name.clone())
                .collect();
            let agents: Vec<Value> = actual
                .iter()
                .filter(|o| o.get("kind").and_then(Value::as_str) == Some(Kind::Agent.as_str()))
                .cloned()
                .collect();
            report.switches = switch_health(&switches, &agents, Utc::now(), self.heartbeat_stale);
        }
        report.sync = if desired.problems.is_empty() {
            sync_status(&report.objects)
        } else {
            SyncStatus::OutOfSync
        };
        report.health = fabric_health(&report.objects, &report.switches);

        let heal = self.heal(&desired, &actual, &mut report, options).await;
        if !options.dry_run && matches!(heal, Heal::NotTried) {
            self.target.record_drift(&drifted(&report.objects)).await;
        }
        let objects = report.objects.clone();
        let switches = report.switches.clone();
        self.write_back(&desired, &objects, &switches, &heal, &mut report, options)
            .await;
        finish(report, started)
    }

    /// Writes the pass's fabric-wide outcome onto the fabric's own record.
    async fn record_fabric(&self, report: &mut FabricReport, options: ReconcileOptions) {
        if options.dry_run {
            return;
        }
        let outcome = fabric_outcome(report, self.target.kind());
        match self.writer.write_fabric(self.fabric, &outcome).await {
            Ok(true) => report.netbox_updates += 1,
            Ok(false) => {}
            Err(e) => report
                .errors
                .push(format!("cannot write the fabric's status to NetBox: {e}")),
        }
    }

    /// Re-applies drifted and missing objects (and prunes managed orphans) when allowed.
    async fn heal(
        &self,
        desired: &Desired,
        actual: &[Value],
        report: &mut FabricReport,
        options: ReconcileOptions,
    ) -> Heal {
        let options_allow = !options.dry_run
            && self.fabric.mode == FabricMode::Apply
            && self.fabric.cluster.self_heal;
        let needed = report.objects.iter().any(|o| match o.state {
            ObjectState::Drifted | ObjectState::Missing => true,
            ObjectState::Orphan => o.managed,
            ObjectState::InSync | ObjectState::HeldBack => false,
        });
        if !(options_allow && needed) {
            return Heal::NotTried;
        }
        // Held-back objects stay as the target holds them: not updated, not pruned.
        let mut publish = desired.manifests.clone();
        publish.extend(preserved(actual, &desired.held_back));
        let cause = Cause {
            reason: "reconcile: self-heal".into(),
            ..Cause::default()
        };
        let healed = self.target.publish(&publish, &cause, false).await;
        crate::pipeline::metrics::record_publish(&self.fabric.name, &healed);
        match healed {
            Ok(published) => {
                tracing::info!(fabric = %self.fabric.name, created = published.created.len(),
                    updated = published.updated.len(), deleted = published.deleted.len(),
                    refused = published.failures.len(), "self-healed");
                let refused: BTreeMap<ObjectKey, String> = published
                    .failures
                    .iter()
                    .map(|f| (f.key.clone(), f.message.clone()))
                    .collect();
                for (key, message) in &refused {
                    report.errors.push(format!("re-applying {key}: {message}"));
                }
                if refused.is_empty() && desired.held_back.is_empty() {
                    report.sync = SyncStatus::Synced;
                }
                if !published.deleted.is_empty() {
                    let comment = pruned_comment(
                        &published.deleted,
                        self.target.kind(),
                        "reconcile: self-heal",
                    );
                    if let Err(e) = self.writer.journal_fabric(self.fabric, &comment).await {
                        report.errors.push(format!("journalling the prune: {e}"));
                    }
                }
                report.healed = Some(published);
                Heal::Applied(refused)
            }
            Err(e) => {
                report.errors.push(format!("self-heal failed: {e}"));
                Heal::Failed
            }
        }
    }

    async fn write_back(
        &self,
        desired: &Desired,
        objects: &[ObjectReport],
        switches: &[SwitchHealth],
        heal: &Heal,
        report: &mut FabricReport,
        options: ReconcileOptions,
    ) {
        if options.dry_run {
            return;
        }
        let target = self.target.kind();
        let mut outcomes = outcomes_from_reports(objects, &desired.sources, heal, target);
        held_back_outcomes(&mut outcomes, desired);
        let current = custom_fields_index(&desired.snapshot);
        let names = &self.fabric.mapping.custom_fields;
        let mut writeback = plan(&outcomes, &current, names, Utc::now(), "reconcile");
        // Only a pass that compared everything knows which objects no longer map.
        if !objects.is_empty() && *heal != Heal::Failed {
            let unmapped = plan_unmapped(&outcomes, &current, names, "reconcile");
            writeback.updates.extend(unmapped.updates);
            writeback.journal.extend(unmapped.journal);
        }
        writeback.updates.extend(plan_switch_health(
            switches,
            &desired.switch_devices,
            &current,
            names,
            self.heartbeat_refresh,
        ));
        if let Heal::Applied(refused) = heal {
            // Drift repaired in the same pass leaves the object without a status, so the
            // status journals nothing: record the drift and its repair explicitly.
            writeback.journal.extend(healed_drift_journal(
                objects,
                refused,
                &desired.sources,
                target,
            ));
        }
        report.netbox_updates = writeback.updates.len();
        report.journal_entries = writeback.journal.len();
        if writeback.is_empty() {
            return;
        }
        if let Err(e) = self.writer.write(&writeback).await {
            report
                .errors
                .push(format!("cannot write status back to NetBox: {e}"));
        }
    }
}

/// The drifted objects and the paths where they differ.
fn drifted(objects: &[ObjectReport]) -> Vec<(ObjectKey, Vec<String>)> {
    objects
        .iter()
        .filter(|o| o.state == ObjectState::Drifted)
        .map(|o| {
            (
                o.key.clone(),
                o.diffs.iter().map(|d| d.path.clone()).collect(),
            )
        })
        .collect()
}

fn healed_drift_journal(
    objects: &[ObjectReport],
    refused: &BTreeMap<ObjectKey, String>,
    sources: &crate::reconcile::SourceMap,
    target: &str,
) -> Vec<JournalEntry> {
    let mut entries = Vec::new();
    let repaired = objects
        .iter()
        .filter(|o| o.state == ObjectState::Drifted && !refused.contains_key(&o.key));
    for object in repaired {
        let fields: Vec<String> = object
            .diffs
            .iter()
            .map(|d| format!("{} (NetBox {}, {target} {})", d.path, d.desired, d.actual))
            .collect();
        for source in sources.get(&object.key).into_iter().flatten() {
            entries.push(JournalEntry {
                assigned_object_type: source.object_type.clone(),
                assigned_object_id: source.id,
                kind: JournalKind::Warning,
                comments: format!(
                    "Drift detected on {} in the {target} and repaired by re-applying NetBox's values: {} (reconcile)",
                    object.key,
                    fields.join("; ")
                ),
            });
        }
    }
    entries
}

/// Held-back objects appear in the comparison as what they are, not as orphans (when the
/// target has them) or not at all (when it does not).
fn mark_held_back(objects: &mut Vec<ObjectReport>, held: &super::isolation::HeldBack) {
    for object in objects.iter_mut() {
        if held.contains_key(&object.key) {
            object.state = ObjectState::HeldBack;
            object.managed = true;
            object.diffs.clear();
        }
    }
    for key in held.keys() {
        if !objects.iter().any(|o| &o.key == key) {
            objects.push(ObjectReport {
                key: key.clone(),
                state: ObjectState::HeldBack,
                diffs: vec![],
                managed: true,
            });
        }
    }
}

/// What isolation tells the owners of the NetBox objects concerned: invalid objects read
/// `invalid` with the rule they break, and the objects they hold back read `pending`, naming
/// the object and why.
pub(crate) fn held_back_outcomes(outcomes: &mut BTreeMap<SourceRef, Outcome>, desired: &Desired) {
    for problem in &desired.problems {
        let outcome = Outcome {
            status: NetBoxStatus::Invalid,
            message: problem.message.clone(),
        };
        merge(outcomes, &problem.objects, outcome);
    }
    for (key, reason) in &desired.held_back {
        let refs = desired.sources.get(key).map_or(&[][..], Vec::as_slice);
        let outcome = Outcome {
            status: NetBoxStatus::Pending,
            message: format!("{key} is held back ({reason}); its change waits"),
        };
        merge(outcomes, refs, outcome);
    }
}

fn finish(mut report: FabricReport, started: Instant) -> FabricReport {
    report.duration_ms = started.elapsed().as_millis() as u64;
    if !report.errors.is_empty() && report.objects.is_empty() {
        report.sync = SyncStatus::Unknown;
        report.health = Health::Unknown;
    }
    report
}
