//! Publishing one fabric: render from NetBox, publish to the target, write the result back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;

use crate::attribution::{Credit, NetBoxChange, credit, describe_credit, found_by};
use crate::config::{FabricConfig, FabricMode};
use crate::model::Manifest;
use crate::model::ObjectKey;
use crate::reconcile::after_publish::{record_publish_failure, refresh_after_publish};
use crate::reconcile::engine::Desired;
use crate::reconcile::engine::{held_back_outcomes, pruned_comment};
use crate::reconcile::isolation::preserved;
use crate::reconcile::sources::custom_fields_index;
use crate::reconcile::writeback::{
    JournalEntry, JournalKind, NetBoxStatus, Outcome, merge, plan, plan_unmapped,
};
use crate::reconcile::{DesiredSource, SourceError, SourceRef, StatusWriter, WriteBackError};
use crate::state::SharedState;
use crate::targets::{Cause, PublishReport, Target, TargetError};

/// Write-back attempts after a publish, on top of the NetBox client's own per-request retries.
const WRITEBACK_RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(500))
    .with_max_times(3);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The fabric cannot be rendered from NetBox.
    #[error(transparent)]
    Source(SourceError),
    /// What the target holds of the held-back objects cannot be read.
    #[error("reading what the target holds: {0}")]
    ReadTarget(#[source] TargetError),
    /// The target refused or failed the publish.
    #[error(transparent)]
    Target(TargetError),
    /// The target holds the change, but its statuses cannot be written back to NetBox.
    #[error("cannot write status back to NetBox: {0}")]
    WriteBack(#[source] WriteBackError),
}

impl PublishError {
    /// NetBox or the target is unreachable, so the job is worth retrying later; otherwise
    /// retrying cannot help (misconfiguration, refused credentials, refused writes).
    pub fn is_retryable(&self) -> bool {
        match self {
            PublishError::Source(e) => e.is_retryable(),
            PublishError::ReadTarget(_) => true,
            PublishError::Target(e) => e.is_retryable(),
            // The job runs again later; its publish then finds the change already in the
            // target and journals nothing twice.
            PublishError::WriteBack(e) => !matches!(e, WriteBackError::Refused(_)),
        }
    }
}

/// What one publish did, for the job's log line.
#[derive(Debug, Clone, Default)]
pub struct PublishOutcome {
    pub report: Option<PublishReport>,
    /// Validation problems, whose objects were held back (reported on the NetBox objects).
    pub problems: usize,
    pub netbox_updates: usize,
}

pub struct FabricPublisher {
    pub fabric: FabricConfig,
    pub source: Arc<dyn DesiredSource>,
    pub target: Arc<dyn Target>,
    pub writer: Arc<dyn StatusWriter>,
    /// Recorded changes to credit, and what the last publish rendered from what.
    pub shared: Arc<dyn SharedState>,
}

/// What a publish reads from the shared state before publishing.
struct History {
    changes: Vec<NetBoxChange>,
    sources: crate::reconcile::SourceMap,
}

impl FabricPublisher {
    /// Renders the fabric from NetBox's current state and publishes it.
    pub async fn publish(&self, cause: &Cause) -> Result<PublishOutcome, PublishError> {
        let render_started = Utc::now();
        let desired = self
            .source
            .desired(&self.fabric)
            .await
            .map_err(PublishError::Source)?;
        let now = Utc::now();
        let cause_text = describe(cause);
        let mut outcomes = BTreeMap::new();
        // Invalid objects, and what depends on them, are held back; the rest is published.
        // Their owners learn why on the objects they must change.
        held_back_outcomes(&mut outcomes, &desired);
        let manifests = self.manifests_to_publish(&desired).await?;
        let history = self.history().await;
        let cause = credited(cause, &desired, &history);
        let report = self
            .target
            .publish(&manifests, &cause, false)
            .await
            .map_err(PublishError::Target)?;
        self.published_outcomes(&mut outcomes, &desired, &report);
        let names = &self.fabric.mapping.custom_fields;
        let current = custom_fields_index(&desired.snapshot);
        let mut writeback = plan(&outcomes, &current, names, now, &cause_text);
        let unmapped = plan_unmapped(&outcomes, &current, names, &cause_text);
        writeback.updates.extend(unmapped.updates);
        writeback.journal.extend(unmapped.journal);
        let found = found_by(&cause.reason);
        writeback.journal.extend(change_journal(
            &report,
            &desired.sources,
            self.fabric.mode,
            &cause.credits,
            &found,
        ));
        let (pruned_here, pruned_gone) = prune_journal(
            &report,
            &history.sources,
            &current,
            self.target.kind(),
            &cause.credits,
            &found,
        );
        writeback.journal.extend(pruned_here);
        let updates = writeback.updates.len();
        self.write(&writeback).await?;
        self.journal_prune_on_fabric(pruned_gone).await;
        self.remember(&desired, &history, render_started).await;
        self.update_report(|last| refresh_after_publish(last, &desired, &report, Utc::now()))
            .await;
        Ok(PublishOutcome {
            report: Some(report),
            problems: desired.problems.len(),
            netbox_updates: updates,
        })
    }

    /// The valid manifests, plus what the target holds of the objects held back (so a
    /// problem never deletes what already runs).
    async fn manifests_to_publish(&self, desired: &Desired) -> Result<Vec<Manifest>, PublishError> {
        let mut manifests = desired.manifests.clone();
        if !desired.held_back.is_empty() {
            tracing::warn!(fabric = %self.fabric.name, problems = desired.problems.len(),
                held_back = desired.held_back.len(), "objects held back: they break admission rules");
            let actual = self
                .target
                .actual()
                .await
                .map_err(PublishError::ReadTarget)?;
            manifests.extend(preserved(&actual, &desired.held_back));
        }
        Ok(manifests)
    }

    /// Each published object's NetBox sources are synced, or refused with the target's reason.
    fn published_outcomes(
        &self,
        outcomes: &mut BTreeMap<SourceRef, Outcome>,
        desired: &Desired,
        report: &PublishReport,
    ) {
        let target = self.target.kind();
        let failed: BTreeMap<&ObjectKey, &str> = report
            .failures
            .iter()
            .map(|f| (&f.key, f.message.as_str()))
            .collect();
        for manifest in &desired.manifests {
            let Some(key) = manifest.key() else { continue };
            let sources = desired.sources.get(&key).map_or(&[][..], Vec::as_slice);
            let outcome = match failed.get(&key) {
                Some(message) => Outcome {
                    status: NetBoxStatus::Refused,
                    message: format!("the {target} refused {key}: {message}"),
                },
                None => Outcome {
                    status: NetBoxStatus::Synced,
                    message: format!("{key} is in sync with the {target}"),
                },
            };
            merge(outcomes, sources, outcome);
        }
    }

    /// The objects that caused a prune are gone from NetBox: the fabric's record keeps the
    /// entry.
    async fn journal_prune_on_fabric(&self, comment: Option<String>) {
        let Some(comment) = comment else { return };
        if let Err(error) = self.writer.journal_fabric(&self.fabric, &comment).await {
            tracing::warn!(fabric = %self.fabric.name, %error, "journalling a prune failed");
        }
    }

    /// Records a failed publish on the fabric's last report (it reads `error` until a later
    /// publish or reconcile succeeds).
    pub async fn report_failure(&self, message: &str) {
        self.update_report(|last| record_publish_failure(last, message, Utc::now()))
            .await;
    }

    /// Applies `update` to the fabric's shared report, once a reconcile has written one
    /// (until then the fabric's state stays unknown).
    async fn update_report(&self, update: impl FnOnce(&mut crate::reconcile::FabricReport)) {
        let fabric = &self.fabric.name;
        let result = match self.shared.report(fabric).await {
            Ok(Some(mut last)) => {
                update(&mut last);
                self.shared.set_report(fabric, &last).await
            }
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            tracing::warn!(fabric, %error, "cannot update the fabric's report");
        }
    }

    /// The recorded changes not credited yet and what the last publish rendered from what.
    /// Attribution is best effort: unreadable shared state credits nothing.
    async fn history(&self) -> History {
        let changes = self.shared.changes().await;
        let sources = self.shared.published_sources(&self.fabric.name).await;
        if let Err(error) = changes
            .as_ref()
            .map(|_| ())
            .and(sources.as_ref().map(|_| ()))
        {
            tracing::warn!(fabric = %self.fabric.name, %error, "cannot read the changes to credit");
        }
        History {
            changes: changes.unwrap_or_default(),
            sources: sources.unwrap_or_default(),
        }
    }

    /// After a publish: what it rendered from what, and the recorded changes it has read,
    /// forgotten, except those of held-back objects, which are credited when they go out.
    async fn remember(
        &self,
        desired: &crate::reconcile::Desired,
        history: &History,
        render_started: chrono::DateTime<Utc>,
    ) {
        let fabric = &self.fabric.name;
        let objects = |map: &crate::reconcile::SourceMap| -> BTreeSet<(String, u64)> {
            map.values()
                .flatten()
                .map(|r| (r.object_type.clone(), r.id))
                .collect()
        };
        let mut concerned = objects(&desired.sources);
        concerned.extend(objects(&history.sources));
        let held: BTreeSet<(String, u64)> = desired
            .held_back
            .keys()
            .filter_map(|k| desired.sources.get(k))
            .flatten()
            .chain(desired.problems.iter().flat_map(|p| &p.objects))
            .map(|r| (r.object_type.clone(), r.id))
            .collect();
        let read: Vec<NetBoxChange> = history
            .changes
            .iter()
            .filter(|c| c.at < render_started)
            .filter(|c| {
                let object = (c.object_type.clone(), c.object_id);
                concerned.contains(&object) && !held.contains(&object)
            })
            .cloned()
            .collect();
        let forgotten = self.shared.forget_changes(&read).await;
        let stored = self
            .shared
            .set_published_sources(fabric, &desired.sources)
            .await;
        if let Err(error) = forgotten.and(stored) {
            tracing::warn!(fabric, %error, "cannot record what was published");
        }
    }

    async fn write(
        &self,
        writeback: &crate::reconcile::writeback::WritebackPlan,
    ) -> Result<(), PublishError> {
        if writeback.is_empty() {
            return Ok(());
        }
        // The target already holds the change. Failing the job would publish again (harmless:
        // publishing is idempotent) and write the statuses, but that second publish changes
        // nothing, so it would not journal this change: the write-back is retried here first,
        // when retrying can help and cannot duplicate a journal entry.
        let write = || self.writer.write(writeback);
        write
            .retry(WRITEBACK_RETRY)
            .sleep(tokio::time::sleep)
            .when(|error| matches!(error, WriteBackError::Unavailable(_)))
            .notify(|error, delay| {
                tracing::warn!(fabric = %self.fabric.name, %error, ?delay,
                    "status write-back to NetBox failed; retrying");
            })
            .await
            .map_err(PublishError::WriteBack)
    }
}

/// One journal entry per NetBox object whose rendered objects changed in the target, naming
/// for each the NetBox changes credited with it.
fn change_journal(
    report: &PublishReport,
    sources: &BTreeMap<ObjectKey, Vec<SourceRef>>,
    mode: FabricMode,
    credits: &[Credit],
    found: &str,
) -> Vec<JournalEntry> {
    let verb = match mode {
        FabricMode::Apply => "Applied",
        FabricMode::Commit => "Committed",
    };
    let commit = report
        .commit
        .as_deref()
        .map(|c| format!(" in commit {c}"))
        .unwrap_or_default();
    let mut by_object: BTreeMap<&SourceRef, Vec<String>> = BTreeMap::new();
    let changes = [("created", &report.created), ("updated", &report.updated)];
    for (what, keys) in changes {
        for key in keys {
            let by = describe_credit(credits, key, found);
            for source in sources.get(key).into_iter().flatten() {
                by_object
                    .entry(source)
                    .or_default()
                    .push(format!("{key} ({what}; {by})"));
            }
        }
    }
    by_object
        .into_iter()
        .map(|(source, changes)| JournalEntry {
            assigned_object_type: source.object_type.clone(),
            assigned_object_id: source.id,
            kind: JournalKind::Success,
            comments: format!("{verb} {}{commit}", changes.join(", ")),
        })
        .collect()
}

/// Objects a publish removed from the target, journalled on the NetBox objects they were
/// rendered from that still exist (a server whose cable was deleted); the text for the
/// fabric's record lists those whose objects are all gone.
/// The cause, crediting each object it publishes with the recorded NetBox changes to it (and
/// to what the last publish rendered it from).
fn credited(cause: &Cause, desired: &Desired, history: &History) -> Cause {
    let published_keys: Vec<ObjectKey> = desired
        .manifests
        .iter()
        .filter_map(|m| m.key())
        .chain(history.sources.keys().cloned())
        .collect();
    let mut cause = cause.clone();
    cause.credits = credit(
        &published_keys,
        &[&desired.sources, &history.sources],
        &history.changes,
    );
    cause.credits.retain(|c| !c.changes.is_empty());
    cause
}

fn prune_journal(
    report: &PublishReport,
    published: &crate::reconcile::SourceMap,
    current: &BTreeMap<(&'static str, u64), &crate::netbox::types::CustomFields>,
    target: &str,
    credits: &[Credit],
    found: &str,
) -> (Vec<JournalEntry>, Option<String>) {
    let mut by_object: BTreeMap<&SourceRef, Vec<&ObjectKey>> = BTreeMap::new();
    let mut orphaned = Vec::new();
    for key in &report.deleted {
        let alive: Vec<&SourceRef> = published
            .get(key)
            .into_iter()
            .flatten()
            .filter(|s| current.contains_key(&(s.object_type.as_str(), s.id)))
            .collect();
        if alive.is_empty() {
            orphaned.push(key.clone());
        }
        for source in alive {
            by_object.entry(source).or_default().push(key);
        }
    }
    let entries = by_object
        .into_iter()
        .map(|(source, keys)| {
            let names: Vec<String> = keys
                .iter()
                .map(|k| format!("{k} ({})", describe_credit(credits, k, found)))
                .collect();
            JournalEntry {
                assigned_object_type: source.object_type.clone(),
                assigned_object_id: source.id,
                kind: JournalKind::Info,
                comments: format!(
                    "Pruned from the {target}, no longer rendered from NetBox: {}",
                    names.join(", ")
                ),
            }
        })
        .collect();
    let gone = (!orphaned.is_empty()).then(|| {
        let by = orphaned
            .iter()
            .flat_map(|k| {
                describe_credit(credits, k, found)
                    .split("; ")
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join("; ");
        pruned_comment(&orphaned, target, &by)
    });
    (entries, gone)
}

/// `request 4e77… by admin: webhook dcim.device 12 updated`.
pub fn describe(cause: &Cause) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &cause.request_id {
        parts.push(format!("request {id}"));
    }
    if let Some(user) = &cause.user {
        parts.push(format!("by {user}"));
    }
    let who = parts.join(" ");
    if who.is_empty() {
        cause.reason.clone()
    } else {
        format!("{who}: {}", cause.reason)
    }
}
