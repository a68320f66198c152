//! Publishing one fabric: render from NetBox, publish to the target, write the result back.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;

use super::credits::{History, change_journal, prune_journal};
use super::timings::Timings;
use crate::attribution::found_by;
use crate::config::FabricConfig;
use crate::freeing::drop_in_background;
use crate::model::Manifest;
use crate::model::ObjectKey;
use crate::netbox::incremental::ObjectChange;
use crate::netbox::types::CustomFields;
use crate::reconcile::after_publish::{record_publish_failure, refresh_after_publish};
use crate::reconcile::engine::Desired;
use crate::reconcile::engine::held_back_outcomes;
use crate::reconcile::isolation::preserved;
use crate::reconcile::sources::custom_fields_index;
use crate::reconcile::writeback::{NetBoxStatus, Outcome, merge, plan, plan_unmapped};
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
    /// Another replica published the fabric while this publish rendered from its kept
    /// snapshot, which may lack that replica's changes: the jobs run again from a full read.
    #[error("another replica published the fabric meanwhile; publishing again from a full read")]
    Superseded,
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
            PublishError::Superseded => true,
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
    /// The publish's cause, with the recorded NetBox changes it credited to each object.
    pub cause: Cause,
}

pub struct FabricPublisher {
    pub fabric: FabricConfig,
    pub source: Arc<dyn DesiredSource>,
    pub target: Arc<dyn Target>,
    pub writer: Arc<dyn StatusWriter>,
    /// Recorded changes to credit, what the last publish rendered from what, the report.
    pub shared: Arc<dyn SharedState>,
}

impl FabricPublisher {
    /// Renders the fabric from NetBox's state after `changes` and publishes it.
    pub async fn publish(
        &self,
        cause: &Cause,
        changes: &[ObjectChange],
    ) -> Result<PublishOutcome, PublishError> {
        let render_started = Utc::now();
        let mut timings = Timings::start();
        let (mut desired, reading) = self.read_desired(changes).await?;
        timings.mark("render");
        let now = Utc::now();
        let cause_text = describe(cause);
        let mut outcomes = BTreeMap::new();
        // Invalid objects, and what depends on them, are held back; the rest is published.
        // Their owners learn why on the objects they must change.
        held_back_outcomes(&mut outcomes, &desired);
        let manifests = self.manifests_to_publish(&desired).await?;
        let current = custom_fields_index(&desired.snapshot);
        let (history, cause) = self.attributed(cause, &desired, &current).await;
        timings.mark("attribute");
        let published = self.target.publish_change(&manifests, &cause).await;
        timings.mark("target");
        super::metrics::record_publish(&self.fabric.name, &published);
        let report = published.map_err(PublishError::Target)?;
        self.published_outcomes(&mut outcomes, &desired, &report);
        let names = &self.fabric.mapping.custom_fields;
        let mut writeback = plan(&outcomes, &current, names, now, &cause_text);
        let unmapped = plan_unmapped(&outcomes, &current, names, &cause_text);
        writeback.updates.extend(unmapped.updates);
        writeback.journal.extend(unmapped.journal);
        let found = found_by(&cause.reason);
        let (mode, target) = (self.fabric.mode, self.target.kind());
        let (changed, unexplained) =
            change_journal(&report, &desired.sources, mode, &cause.credits, &found);
        writeback.journal.extend(changed);
        let (pruned, gone) = prune_journal(
            &report,
            &history.sources,
            &current,
            target,
            &cause.credits,
            &found,
        );
        writeback.journal.extend(pruned);
        let updates = writeback.updates.len();
        // What the target now holds is remembered even if the write-back fails: the next
        // publish must know what it prunes, and from which NetBox objects.
        history
            .remember(
                self.shared.as_ref(),
                &self.fabric.name,
                &desired,
                render_started,
            )
            .await;
        // Kept before the write-back, which the kept snapshot then takes; nothing after this
        // reads the NetBox snapshot, so it is kept without a copy.
        self.keep_snapshot(std::mem::take(&mut desired.snapshot), &reading);
        timings.mark("plan_writeback");
        self.write(&writeback).await?;
        timings.mark("writeback");
        self.confirm_snapshot(&reading).await?;
        self.journal_on_record(unexplained).await;
        self.journal_on_record(gone).await;
        self.update_report(|last| refresh_after_publish(last, &desired, &report, Utc::now()))
            .await;
        timings.mark("record");
        tracing::debug!(fabric = %self.fabric.name, timings = %timings, "publish timings");
        let problems = desired.problems.len();
        drop_in_background((desired, history));
        Ok(PublishOutcome {
            report: Some(report),
            problems,
            netbox_updates: updates,
            cause,
        })
    }

    /// The recorded changes and what the last publish rendered from what, with `cause`
    /// crediting each object of `desired` with its changes (NetBox's change log names those
    /// of deletions no webhook told of).
    async fn attributed(
        &self,
        cause: &Cause,
        desired: &Desired,
        current: &BTreeMap<(&'static str, u64), &CustomFields>,
    ) -> (History, Cause) {
        let mut history = History::read(self.shared.as_ref(), &self.fabric.name).await;
        let unexplained = history.unexplained_deletions(desired, current);
        if !unexplained.is_empty() {
            history
                .changes
                .extend(self.source.deletions(&unexplained).await);
        }
        let cause = history.credited(cause, desired);
        (history, cause)
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

    /// The valid manifests, plus what the target holds of the objects held back (so a
    /// problem never deletes what already runs).
    async fn manifests_to_publish<'a>(
        &self,
        desired: &'a Desired,
    ) -> Result<Cow<'a, [Manifest]>, PublishError> {
        if desired.held_back.is_empty() {
            return Ok(Cow::Borrowed(&desired.manifests));
        }
        tracing::warn!(fabric = %self.fabric.name, problems = desired.problems.len(),
            held_back = desired.held_back.len(), "objects held back: they break admission rules");
        let actual = self
            .target
            .actual()
            .await
            .map_err(PublishError::ReadTarget)?;
        let mut manifests = desired.manifests.clone();
        manifests.extend(preserved(&actual, &desired.held_back));
        Ok(Cow::Owned(manifests))
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

    /// What no NetBox object stands for (changes no recorded change is credited with, pruned
    /// objects whose NetBox objects are all gone) is journalled on the fabric's record.
    async fn journal_on_record(&self, comment: Option<String>) {
        let Some(comment) = comment else { return };
        if let Err(error) = self.writer.journal_fabric(&self.fabric, &comment).await {
            tracing::warn!(fabric = %self.fabric.name, %error, "journalling on the fabric's record failed");
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
