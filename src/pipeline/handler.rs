//! The worker's job handler: which fabrics a change concerns, and publishing each of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::publisher::{FabricPublisher, PublishError};
use super::recent::RecentPublishes;
use super::rounds::FabricRounds;
use crate::netbox::incremental::ObjectChange;
use crate::queue::{Job, JobError, JobHandler};
use crate::targets::{Cause, info_publish_counts};

/// A fabric's failed publish, as its job's error.
#[derive(Debug, thiserror::Error)]
#[error("fabric {fabric}: {source}")]
pub struct FabricPublishFailed {
    pub fabric: String,
    #[source]
    pub source: PublishError,
}

pub struct FabricJobHandler {
    fabrics: BTreeMap<String, Arc<FabricRounds>>,
}

impl FabricJobHandler {
    pub fn new(publishers: Vec<FabricPublisher>) -> Self {
        let recent: Arc<RecentPublishes> = Arc::default();
        let fabrics = publishers
            .into_iter()
            .map(|p| (p.fabric.name.clone(), FabricRounds::new(p, recent.clone())))
            .collect();
        Self { fabrics }
    }

    /// Runs the rounds of publishes as tasks of `tasks`, which shutdown waits for; before any
    /// job runs.
    pub fn with_rounds_owned_by(mut self, tasks: tokio_util::task::TaskTracker) -> Self {
        for rounds in self.fabrics.values_mut() {
            match Arc::get_mut(rounds) {
                Some(rounds) => rounds.set_tasks(tasks.clone()),
                None => tracing::warn!("a fabric's publishes already run; not owned by shutdown"),
            }
        }
        self
    }

    /// Keeps the publishes in `recent` (the one the web UI shows); before any job runs.
    pub fn with_recent(mut self, recent: Arc<RecentPublishes>) -> Self {
        for rounds in self.fabrics.values_mut() {
            match Arc::get_mut(rounds) {
                Some(rounds) => rounds.set_recent(recent.clone()),
                None => tracing::warn!("a fabric's publishes already run; not recorded for the UI"),
            }
        }
        self
    }

    /// The fabrics a job concerns, and the others: the one its object names, else every
    /// fabric (an interface, cable or address does not name its fabric; rendering decides).
    fn fabrics_of(&self, job: &Job) -> (Vec<&Arc<FabricRounds>>, Vec<&Arc<FabricRounds>>) {
        self.fabrics
            .iter()
            .map(|(name, rounds)| (job.fabric.as_deref().is_none_or(|f| f == name), rounds))
            .fold(
                (vec![], vec![]),
                |(mut concerned, mut others), (is, rounds)| {
                    if is {
                        concerned.push(rounds)
                    } else {
                        others.push(rounds)
                    }
                    (concerned, others)
                },
            )
    }
}

impl FabricJobHandler {
    /// Records the job's change for attribution, as intake does (a second record of the same
    /// change is one): a change whose webhook intake could not record is still credited.
    async fn record_change(&self, job: &Job) {
        let Some(rounds) = self.fabrics.values().next() else {
            return;
        };
        let change = job.netbox_change();
        crate::state::record_change_or_warn(rounds.publisher().shared.as_ref(), change).await;
    }
}

#[async_trait]
impl JobHandler for FabricJobHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        // The worker's `job` span (id, key, request id, attempt) is already entered: a second
        // span here would print every field twice on each line.
        async {
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
            let (concerned, others) = self.fabrics_of(job);
            for rounds in others {
                let id = u64::try_from(job.object_id).unwrap_or_default();
                rounds
                    .publisher()
                    .changed_elsewhere(&job.object_type, id)
                    .await;
            }
            if concerned.is_empty() {
                tracing::debug!(
                    fabric = job.fabric.as_deref().unwrap_or("-"),
                    "no configured fabric concerned"
                );
            }
            let change = ObjectChange {
                object_type: job.object_type.clone(),
                event: job.event.clone(),
                data: job.data.parse(),
            };
            for rounds in concerned {
                rounds.publish(cause.clone(), change.clone()).await?;
            }
            Ok(())
        }
        .await
    }
}

impl FabricPublisher {
    /// Publishes for a round of jobs, logging the outcome; a failure becomes the jobs' error.
    pub(super) async fn publish_for_jobs(
        &self,
        cause: &Cause,
        changes: &[ObjectChange],
        recent: &RecentPublishes,
    ) -> Result<(), JobError> {
        let fabric = &self.fabric.name;
        match self.publish(cause, changes).await {
            Ok(outcome) => {
                if let Some(report) = &outcome.report {
                    recent.record(fabric, self.target.kind(), &outcome.cause, report);
                }
                match &outcome.report {
                    Some(report) => info_publish_counts!(
                        report,
                        "published",
                        fabric,
                        commit = report.commit.as_deref().unwrap_or("-"),
                        netbox_updates = outcome.netbox_updates
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
                self.report_failure(&error.to_string()).await;
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
}
