//! The worker's job handler: which fabrics a change concerns, and publishing each of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::publisher::{FabricPublisher, PublishError};
use super::recent::RecentPublishes;
use crate::queue::{Job, JobError, JobHandler};
use crate::targets::Cause;

/// A publish that started this long after a change's NetBox timestamp has read that change.
/// The margin absorbs clock differences between NetBox and the sidecar.
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::seconds(2);

/// A fabric's failed publish, as its job's error.
#[derive(Debug, thiserror::Error)]
#[error("fabric {fabric}: {source}")]
pub struct FabricPublishFailed {
    pub fabric: String,
    #[source]
    pub source: PublishError,
}

pub struct FabricJobHandler {
    fabrics: BTreeMap<String, FabricSlot>,
    /// Where each publish that changed a target is kept for the web UI's journal.
    recent: Arc<RecentPublishes>,
}

/// One fabric: its publisher, serialised, and when its last successful publish started.
struct FabricSlot {
    publisher: FabricPublisher,
    last_started: Mutex<Option<DateTime<Utc>>>,
}

impl FabricJobHandler {
    pub fn new(publishers: Vec<FabricPublisher>) -> Self {
        let fabrics = publishers
            .into_iter()
            .map(|p| {
                (
                    p.fabric.name.clone(),
                    FabricSlot {
                        publisher: p,
                        last_started: Mutex::new(None),
                    },
                )
            })
            .collect();
        Self {
            fabrics,
            recent: Arc::default(),
        }
    }

    /// Keeps the publishes in `recent` (the one the web UI shows).
    pub fn with_recent(mut self, recent: Arc<RecentPublishes>) -> Self {
        self.recent = recent;
        self
    }

    /// The fabrics a job concerns: the one its object names, else every fabric (an
    /// interface, cable or address does not name its fabric; re-reading decides).
    fn fabrics_of(&self, job: &Job) -> Vec<&FabricSlot> {
        match job.fabric.as_deref() {
            Some(name) => self.fabrics.get(name).into_iter().collect(),
            None => self.fabrics.values().collect(),
        }
    }
}

impl FabricJobHandler {
    /// Records the job's change for attribution, as intake does (a second record of the same
    /// change is one): a change whose webhook intake could not record is still credited.
    async fn record_change(&self, job: &Job) {
        let Some(slot) = self.fabrics.values().next() else {
            return;
        };
        let change = job.netbox_change();
        crate::state::record_change_or_warn(slot.publisher.shared.as_ref(), change).await;
    }
}

#[async_trait]
impl JobHandler for FabricJobHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        // The worker's `job` span (id, key, request id, attempt) is already entered: a second
        // span here would print every field twice on each line.
        async {
            let changed_at = DateTime::parse_from_rfc3339(&job.timestamp)
                .ok()
                .map(|t| t.with_timezone(&Utc));
            let cause = Cause {
                request_id: job.request_id.clone(),
                user: job.user.clone(),
                reason: format!(
                    "webhook {} {} {}",
                    job.object_type, job.object_id, job.event
                ),
                credits: vec![],
            };
            self.record_change(job).await;
            let slots = self.fabrics_of(job);
            if slots.is_empty() {
                tracing::debug!(
                    fabric = job.fabric.as_deref().unwrap_or("-"),
                    "no configured fabric concerned"
                );
            }
            for slot in slots {
                publish_one(slot, &cause, changed_at, &self.recent).await?;
            }
            Ok(())
        }
        .await
    }
}

async fn publish_one(
    slot: &FabricSlot,
    cause: &Cause,
    changed_at: Option<DateTime<Utc>>,
    recent: &RecentPublishes,
) -> Result<(), JobError> {
    let fabric = &slot.publisher.fabric.name;
    // One publish per fabric at a time; a burst of changes queues here and most of them find
    // that the publish before them already read their change.
    let mut last_started = slot.last_started.lock().await;
    if let (Some(changed), Some(started)) = (changed_at, *last_started)
        && started > changed + CLOCK_MARGIN
    {
        tracing::debug!(fabric, "already published after this change");
        return Ok(());
    }
    let started = Utc::now();
    match slot.publisher.publish(cause).await {
        Ok(outcome) => {
            *last_started = Some(started);
            if let Some(report) = &outcome.report {
                let target = slot.publisher.target.kind();
                recent.record(fabric, target, &outcome.cause, report);
            }
            match &outcome.report {
                Some(report) => tracing::info!(
                    fabric,
                    created = report.created.len(),
                    updated = report.updated.len(),
                    deleted = report.deleted.len(),
                    unchanged = report.unchanged,
                    failures = report.failures.len(),
                    commit = report.commit.as_deref().unwrap_or("-"),
                    netbox_updates = outcome.netbox_updates,
                    "published"
                ),
                None => tracing::warn!(
                    fabric,
                    problems = outcome.problems,
                    "not published: validation problems reported in NetBox"
                ),
            }
            Ok(())
        }
        Err(error) => {
            let retryable = error.is_retryable();
            if retryable {
                tracing::warn!(fabric, %error, "publish failed; will retry");
            } else {
                tracing::error!(fabric, %error, "publish failed");
            }
            slot.publisher.report_failure(&error.to_string()).await;
            let failed = Arc::new(FabricPublishFailed {
                fabric: fabric.clone(),
                source: error,
            });
            Err(if retryable {
                JobError::Retryable(failed)
            } else {
                JobError::Permanent(failed)
            })
        }
    }
}
