//! One fabric's publishes, batched: the jobs of a fabric that wait at the same time are
//! published by one render.
//!
//! The first job of a round opens it and starts a task that waits `publish_debounce_ms`, then
//! for the fabric's previous publish to end; every job of the fabric arriving meanwhile joins
//! the round. The round then publishes once and hands the outcome to each of its jobs, whose
//! workers acknowledge, retry or dead-letter them on their own. A job waiting in a round lets
//! its worker claim the next job ([`crate::queue::waiting_for_others`]), so a round is not
//! bounded by the number of workers. Attribution needs nothing from
//! the round: each job's change is recorded before it joins, and the publish credits every
//! object with the recorded changes of the NetBox objects it is rendered from.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::{Mutex, oneshot};
use tokio_util::task::TaskTracker;

use super::publisher::FabricPublisher;
use super::recent::RecentPublishes;
use crate::netbox::incremental::ObjectChange;
use crate::queue::JobError;
use crate::targets::Cause;

/// Most changes a batched publish's reason lists by name.
const LISTED_CHANGES: usize = 5;

/// The round was dropped before it could publish (its task failed): the job runs again.
#[derive(Debug, thiserror::Error)]
#[error("fabric {0}: the batched publish ended without an outcome")]
struct RoundAbandoned(String);

/// One job waiting in a round.
struct Member {
    cause: Cause,
    change: ObjectChange,
    reply: oneshot::Sender<Result<(), JobError>>,
}

/// A fabric's publisher with its open round.
pub(crate) struct FabricRounds {
    publisher: FabricPublisher,
    /// Where each publish that changed the target is kept for the web UI's journal.
    recent: Arc<RecentPublishes>,
    debounce: Duration,
    open: StdMutex<Option<Vec<Member>>>,
    /// Held while a round publishes: one publish per fabric at a time.
    publishing: Mutex<()>,
    /// The rounds' tasks: a round outlives the jobs waiting in it (a worker hands its job back
    /// when the shutdown grace ends), so its owner waits for it.
    tasks: TaskTracker,
}

impl FabricRounds {
    pub fn new(publisher: FabricPublisher, recent: Arc<RecentPublishes>) -> Arc<Self> {
        let debounce = Duration::from_millis(publisher.fabric.publish_debounce_ms);
        Arc::new(Self {
            publisher,
            recent,
            debounce,
            open: StdMutex::new(None),
            publishing: Mutex::new(()),
            tasks: TaskTracker::new(),
        })
    }

    pub fn set_tasks(&mut self, tasks: TaskTracker) {
        self.tasks = tasks;
    }

    pub fn set_recent(&mut self, recent: Arc<RecentPublishes>) {
        self.recent = recent;
    }

    pub fn publisher(&self) -> &FabricPublisher {
        &self.publisher
    }

    /// Publishes the fabric for one job's change, together with every job that joins the
    /// same round; returns that publish's outcome.
    pub async fn publish(
        self: &Arc<Self>,
        cause: Cause,
        change: ObjectChange,
    ) -> Result<(), JobError> {
        let (reply, outcome) = oneshot::channel();
        let member = Member {
            cause,
            change,
            reply,
        };
        let opens_round = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let round = open.get_or_insert_with(Vec::new);
            round.push(member);
            round.len() == 1
        };
        if opens_round {
            self.tasks.spawn(self.clone().run_round());
        }
        // The worker may claim the next job meanwhile, which can then join this round.
        crate::queue::waiting_for_others();
        outcome.await.unwrap_or_else(|_| {
            let fabric = self.publisher.fabric.name.clone();
            Err(JobError::retryable(RoundAbandoned(fabric)))
        })
    }

    /// Waits out the debounce and the previous publish, closes the round and publishes it.
    async fn run_round(self: Arc<Self>) {
        tokio::time::sleep(self.debounce).await;
        let _publishing = self.publishing.lock().await;
        let members = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let cause = round_cause(members.iter().map(|m| &m.cause));
        let changes: Vec<ObjectChange> = members.iter().map(|m| m.change.clone()).collect();
        tracing::debug!(fabric = %self.publisher.fabric.name, jobs = members.len(), "publishing a round");
        let outcome = self
            .publisher
            .publish_for_jobs(&cause, &changes, &self.recent)
            .await;
        for member in members {
            let _ = member.reply.send(outcome.clone());
        }
    }
}

/// The cause of a round's publish: its one job's, or the jobs' common request and user with a
/// reason listing the first few changes.
fn round_cause<'a>(causes: impl Iterator<Item = &'a Cause>) -> Cause {
    let causes: Vec<&Cause> = causes.collect();
    if let [only] = causes.as_slice() {
        return (*only).clone();
    }
    let common = |field: fn(&Cause) -> &Option<String>| {
        let first = field(causes[0]);
        causes
            .iter()
            .all(|c| field(c) == first)
            .then(|| first.clone())
            .flatten()
    };
    let mut listed: Vec<&str> = causes
        .iter()
        .take(LISTED_CHANGES)
        .map(|c| c.reason.trim_start_matches("webhook "))
        .collect();
    let more = causes.len().saturating_sub(LISTED_CHANGES);
    let more_text = format!("{more} more");
    if more > 0 {
        listed.push(&more_text);
    }
    Cause {
        request_id: common(|c| &c.request_id),
        user: common(|c| &c.user),
        reason: format!("webhooks ({} changes): {}", causes.len(), listed.join(", ")),
        credits: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(request: &str, user: &str, reason: &str) -> Cause {
        Cause {
            request_id: Some(request.into()),
            user: Some(user.into()),
            reason: reason.into(),
            credits: vec![],
        }
    }

    #[test]
    fn a_round_of_one_keeps_its_jobs_cause() {
        let one = cause("r1", "alice", "webhook dcim.device 1 updated");
        assert_eq!(round_cause([&one].into_iter()), one);
    }

    #[test]
    fn a_round_names_the_common_request_and_lists_its_changes() {
        let causes: Vec<Cause> = (1..=7)
            .map(|i| cause("bulk", "alice", &format!("webhook dcim.device {i} updated")))
            .collect();
        let round = round_cause(causes.iter());
        assert_eq!(round.request_id.as_deref(), Some("bulk"));
        assert_eq!(round.user.as_deref(), Some("alice"));
        assert_eq!(
            round.reason,
            "webhooks (7 changes): dcim.device 1 updated, dcim.device 2 updated, \
             dcim.device 3 updated, dcim.device 4 updated, dcim.device 5 updated, 2 more"
        );
    }

    #[test]
    fn a_round_of_different_users_names_none() {
        let a = cause("r1", "alice", "webhook dcim.device 1 updated");
        let b = cause("r2", "bob", "webhook dcim.device 2 updated");
        let round = round_cause([&a, &b].into_iter());
        assert_eq!((round.request_id, round.user), (None, None));
    }
}
