//! Publishing one fabric: render from NetBox, publish to the target, write the result back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;

use crate::config::{FabricConfig, FabricMode};
use crate::model::ObjectKey;
use crate::reconcile::engine::{held_back_outcomes, pruned_comment};
use crate::reconcile::isolation::preserved;
use crate::reconcile::sources::custom_fields_index;
use crate::reconcile::writeback::{
    JournalEntry, JournalKind, NetBoxStatus, Outcome, merge, plan, plan_unmapped,
};
use crate::reconcile::{DesiredSource, SourceRef, StatusWriter, WriteBackError};
use crate::targets::{Cause, PublishReport, Target};

/// Write-back attempts after a publish, on top of the NetBox client's own per-request retries.
const WRITEBACK_RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(500))
    .with_max_times(3);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// NetBox or the target is unreachable: the job is retried later.
    #[error("{0}")]
    Unavailable(String),
    /// Retrying cannot help (misconfiguration, refused credentials).
    #[error("{0}")]
    Failed(String),
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
}

impl FabricPublisher {
    /// Renders the fabric from NetBox's current state and publishes it.
    pub async fn publish(&self, cause: &Cause) -> Result<PublishOutcome, PublishError> {
        let desired =
            self.source
                .desired(&self.fabric)
                .await
                .map_err(|e| match e.is_retryable() {
                    true => PublishError::Unavailable(e.to_string()),
                    false => PublishError::Failed(e.to_string()),
                })?;
        let now = Utc::now();
        let names = &self.fabric.mapping.custom_fields;
        let current = custom_fields_index(&desired.snapshot);
        let cause_text = describe(cause);
        let mut outcomes = BTreeMap::new();
        // Invalid objects, and what depends on them, are held back; the rest is published.
        // Their owners learn why on the objects they must change.
        held_back_outcomes(&mut outcomes, &desired);
        let mut manifests = desired.manifests.clone();
        if !desired.held_back.is_empty() {
            tracing::warn!(fabric = %self.fabric.name, problems = desired.problems.len(),
                held_back = desired.held_back.len(), "objects held back: they break admission rules");
            let actual = self.target.actual().await.map_err(|e| {
                PublishError::Unavailable(format!("reading what the target holds: {e}"))
            })?;
            manifests.extend(preserved(&actual, &desired.held_back));
        }

        let report = self
            .target
            .publish(&manifests, cause, false)
            .await
            .map_err(|e| {
                if e.is_retryable() {
                    PublishError::Unavailable(e.to_string())
                } else {
                    PublishError::Failed(e.to_string())
                }
            })?;

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
            merge(&mut outcomes, sources, outcome);
        }
        let mut writeback = plan(&outcomes, &current, names, now, &cause_text);
        let unmapped = plan_unmapped(&outcomes, &current, names, &cause_text);
        writeback.updates.extend(unmapped.updates);
        writeback.journal.extend(unmapped.journal);
        writeback.journal.extend(change_journal(
            &report,
            &desired.sources,
            self.fabric.mode,
            &cause_text,
        ));
        let updates = writeback.updates.len();
        self.write(&writeback).await?;
        if !report.deleted.is_empty() {
            // The objects that caused the prune are gone from NetBox: the fabric's record
            // keeps the entry.
            let comment = pruned_comment(&report.deleted, target, &cause_text);
            if let Err(error) = self.writer.journal_fabric(&self.fabric, &comment).await {
                tracing::warn!(fabric = %self.fabric.name, %error, "journalling a prune failed");
            }
        }
        Ok(PublishOutcome {
            report: Some(report),
            problems: desired.problems.len(),
            netbox_updates: updates,
        })
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
            .map_err(|e| {
                let message = format!("cannot write status back to NetBox: {e}");
                match e {
                    // The job runs again later; its publish then finds the change already in
                    // the target and journals nothing twice.
                    WriteBackError::Unavailable(_) | WriteBackError::Uncertain(_) => {
                        PublishError::Unavailable(message)
                    }
                    WriteBackError::Refused(_) => PublishError::Failed(message),
                }
            })
    }
}

/// One journal entry per NetBox object whose rendered objects changed in the target.
fn change_journal(
    report: &PublishReport,
    sources: &BTreeMap<ObjectKey, Vec<SourceRef>>,
    mode: FabricMode,
    cause: &str,
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
            for source in sources.get(key).into_iter().flatten() {
                by_object
                    .entry(source)
                    .or_default()
                    .push(format!("{key} ({what})"));
            }
        }
    }
    by_object
        .into_iter()
        .map(|(source, changes)| JournalEntry {
            assigned_object_type: source.object_type.clone(),
            assigned_object_id: source.id,
            kind: JournalKind::Success,
            comments: format!("{verb} {}{commit} ({cause})", changes.join(", ")),
        })
        .collect()
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
