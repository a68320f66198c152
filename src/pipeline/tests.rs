//! The job handler with the real mapping (the docs sample's NetBox snapshot) and in-memory
//! target and NetBox writer.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::config::FabricConfig;
use crate::model::ObjectKey;
use crate::netbox::FabricSnapshot;
use crate::netbox::writeback::JournalKind;
use crate::queue::job::NewJob;
use crate::queue::{Job, JobError, JobHandler};
use crate::reconcile::netbox_io::desired_from_snapshot;
use crate::reconcile::testing::{FixedSource, MemoryTarget, RecordingWriter};
use crate::reconcile::{Problem, SourceRef};

pub(super) fn fabric() -> FabricConfig {
    serde_json::from_value(json!({"name": "docs", "validation": "wiring"})).unwrap()
}

pub(super) fn snapshot() -> FabricSnapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/docs-wiring.snapshot.json");
    FabricSnapshot::load(&path).unwrap()
}

fn job(timestamp: &str) -> Job {
    let new = NewJob {
        key: "dcim.device:2".into(),
        object_type: "dcim.device".into(),
        object_id: 2,
        event: "updated".into(),
        request_id: Some("4e77df11-e59b-4ef5-83c9-d67826627b71".into()),
        user: Some("alice".into()),
        timestamp: timestamp.into(),
        data: json!({"id": 2}).into(),
        fabric: Some("docs".into()),
        dedupe_key: timestamp.into(),
    };
    Job::from_parts("1".into(), new, 1, None)
}

struct Setup {
    handler: FabricJobHandler,
    target: Arc<MemoryTarget>,
    writer: Arc<RecordingWriter>,
}

fn setup(desired: crate::reconcile::Desired, target: MemoryTarget) -> Setup {
    let target = Arc::new(target);
    let writer = Arc::new(RecordingWriter::default());
    let publisher = FabricPublisher {
        fabric: fabric(),
        source: Arc::new(FixedSource(Mutex::new(Some(desired)))),
        target: target.clone(),
        writer: writer.clone(),
        shared: Arc::new(crate::state::MemoryState::default()),
    };
    Setup {
        handler: FabricJobHandler::new(vec![publisher]),
        target,
        writer,
    }
}

#[tokio::test]
async fn a_change_is_published_and_reported_on_its_netbox_objects() {
    let desired = desired_from_snapshot(&fabric(), snapshot());
    assert!(desired.problems.is_empty(), "{:?}", desired.problems);
    let manifests = desired.manifests.len();
    let s = setup(desired, MemoryTarget::new(vec![]));

    s.handler
        .handle(&job("2026-11-22T02:58:17.049736+00:00"))
        .await
        .unwrap();
    assert_eq!(s.target.objects.lock().unwrap().len(), manifests);
    let plans = s.writer.0.lock().unwrap().clone();
    assert_eq!(plans.len(), 1);
    assert!(
        plans[0].updates.is_empty(),
        "objects in sync get no status write: {:?}",
        plans[0].updates
    );
    // The job's change (device 2, leaf-02) is credited to leaf-02's objects only.
    let entry = plans[0]
        .journal
        .iter()
        .find(|j| j.comments.contains("Switch/leaf-02 (created;"))
        .expect("a journal entry names the applied object");
    assert_eq!(entry.kind, JournalKind::Success);
    assert!(
        entry
            .comments
            .contains("request 4e77df11-e59b-4ef5-83c9-d67826627b71 by alice"),
        "{}",
        entry.comments
    );
    // What no recorded change explains is one entry on the fabric's record, not one per object.
    assert!(
        !plans[0]
            .journal
            .iter()
            .any(|j| j.comments.contains("Switch/spine-01")),
        "an uncredited object gets no entry of its own: {:?}",
        plans[0].journal
    );
    let on_record = s.writer.2.lock().unwrap().clone();
    assert_eq!(on_record.len(), 1, "{on_record:?}");
    assert!(
        on_record[0].contains("Switch/spine-01 (created)")
            && on_record[0].contains("no NetBox change was recorded"),
        "{}",
        on_record[0]
    );
}

/// A publish into a cluster far behind NetBox names at most a bounded number of objects on the
/// fabric's record, with a count of the rest.
#[test]
fn uncredited_changes_are_counted_on_the_fabrics_record_with_a_bounded_list() {
    let report = crate::targets::PublishReport {
        created: (0..120)
            .map(|i| ObjectKey {
                kind: crate::model::Kind::Switch,
                name: format!("leaf-{i:03}"),
            })
            .collect(),
        ..Default::default()
    };
    let (entries, on_record) = super::credits::change_journal(
        &report,
        &crate::reconcile::SourceMap::default(),
        crate::config::FabricMode::Apply,
        &[],
        "no NetBox change was recorded for it (reconcile)",
    );
    assert!(entries.is_empty(), "{entries:?}");
    let on_record = on_record.expect("an entry on the fabric's record");
    assert!(
        on_record.starts_with("Applied 120 objects, no NetBox change"),
        "{on_record}"
    );
    assert!(
        on_record.contains("Switch/leaf-049 (created)"),
        "{on_record}"
    );
    assert!(!on_record.contains("leaf-050"), "{on_record}");
    assert!(on_record.ends_with("and 70 more"), "{on_record}");
}

/// The web UI's journal: what a job's publish changed and whose change it was.
#[tokio::test]
async fn a_published_change_is_kept_in_the_recent_publishes_with_its_users() {
    let recent = Arc::new(RecentPublishes::default());
    let s = setup(
        desired_from_snapshot(&fabric(), snapshot()),
        MemoryTarget::new(vec![]),
    );
    let handler = s.handler.with_recent(recent.clone());
    handler
        .handle(&job("2026-11-22T02:58:17.049736+00:00"))
        .await
        .unwrap();
    let kept = recent.newest_first();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (kept[0].fabric.as_str(), kept[0].target),
        ("docs", "cluster")
    );
    assert_eq!(kept[0].users, vec!["alice".to_owned()]);
    assert!(
        kept[0].created.contains(&"Switch/leaf-02".to_owned()),
        "{kept:?}"
    );
    assert!(
        kept[0]
            .cause
            .contains("by alice: webhook dcim.device 2 updated"),
        "{}",
        kept[0].cause
    );

    // A change made after that publish started publishes again, and finds nothing to change.
    handler
        .handle(&job("2099-01-01T00:00:00+00:00"))
        .await
        .unwrap();
    assert_eq!(
        recent.newest_first().len(),
        1,
        "a publish that changed nothing is not news"
    );
}

#[tokio::test]
async fn an_invalid_object_is_held_back_and_the_rest_is_published() {
    let mut desired = desired_from_snapshot(&fabric(), snapshot());
    desired.problems.push(Problem {
        objects: vec![SourceRef {
            object_type: "dcim.device".into(),
            id: 2,
            name: "spine-01".into(),
        }],
        message: "VLAN 3000 is reserved".into(),
    });
    let spine = crate::model::ObjectKey {
        kind: crate::model::Kind::Switch,
        name: "spine-01".into(),
    };
    desired.manifests.retain(|m| m.key() != Some(spine.clone()));
    desired
        .held_back
        .insert(spine.clone(), "invalid: VLAN 3000 is reserved".into());
    let others = desired.manifests.len();
    let s = setup(desired, MemoryTarget::new(vec![]));
    s.handler
        .handle(&job("2026-11-22T02:58:17+00:00"))
        .await
        .unwrap();
    assert_eq!(*s.target.publishes.lock().unwrap(), 1);
    assert_eq!(
        s.target.objects.lock().unwrap().len(),
        others,
        "everything but the invalid switch is applied"
    );
    let plan = s.writer.0.lock().unwrap()[0].clone();
    let spine_device = plan
        .updates
        .iter()
        .find(|u| u.object.id == 2 && u.object.object_type == "dcim.device")
        .expect("the invalid device gets a status");
    assert_eq!(
        spine_device.custom_fields["hedgehog_status"],
        json!("invalid")
    );
    assert!(
        plan.journal
            .iter()
            .any(|j| j.comments.contains("VLAN 3000 is reserved"))
    );
}

#[tokio::test]
async fn an_unreachable_target_makes_the_job_retryable() {
    let mut target = MemoryTarget::new(vec![]);
    target.reachable = false;
    let s = setup(desired_from_snapshot(&fabric(), snapshot()), target);
    let error = s
        .handler
        .handle(&job("2026-11-22T02:58:17+00:00"))
        .await
        .unwrap_err();
    assert!(matches!(error, JobError::Retryable(_)), "{error:?}");
    assert!(s.writer.0.lock().unwrap().is_empty());
    // The fabric's failure and the cluster's own error are kept as sources, not flattened.
    let JobError::Retryable(failure) = &error else {
        unreachable!()
    };
    let failed = failure
        .downcast_ref::<handler::FabricPublishFailed>()
        .expect("the fabric's failure");
    assert_eq!(failed.fabric, fabric().name);
    assert!(matches!(
        failed.source,
        publisher::PublishError::Target(crate::targets::TargetError::ClusterUnavailable(_))
    ));
    let mut chain = std::iter::successors(Some(failure.as_ref() as &dyn std::error::Error), |e| {
        e.source()
    });
    assert!(
        chain.any(|e| e.is::<Arc<kube::Error>>()),
        "the kube error is in the chain of {error}"
    );
}

/// Fails its first `failures` writes with `error`, then records plans.
struct FlakyWriter {
    failures: std::sync::atomic::AtomicU32,
    error: crate::reconcile::WriteBackError,
    attempts: std::sync::atomic::AtomicU32,
    written: Mutex<Vec<crate::reconcile::writeback::WritebackPlan>>,
}

impl FlakyWriter {
    fn new(failures: u32, error: crate::reconcile::WriteBackError) -> Arc<Self> {
        Arc::new(Self {
            failures: failures.into(),
            error,
            attempts: 0.into(),
            written: Mutex::default(),
        })
    }
}

#[async_trait::async_trait]
impl crate::reconcile::StatusWriter for FlakyWriter {
    async fn write(
        &self,
        plan: &crate::reconcile::writeback::WritebackPlan,
    ) -> Result<(), crate::reconcile::WriteBackError> {
        use std::sync::atomic::Ordering;
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(self.error.clone());
        }
        self.written.lock().unwrap().push(plan.clone());
        Ok(())
    }
}

/// A write-back failure whose NetBox error says `message`.
fn failure(message: &str) -> crate::reconcile::WriteFailure {
    crate::reconcile::WriteFailure::new(
        "updating dcim.device status",
        crate::netbox::NetBoxError::Unreachable {
            url: "http://netbox".into(),
            message: message.into(),
            sent: true,
        },
    )
}

/// Publishes the test snapshot (a new switch) to an empty target through `writer`.
async fn publish_with(writer: Arc<FlakyWriter>) -> Result<(), JobError> {
    let publisher = FabricPublisher {
        fabric: fabric(),
        source: Arc::new(FixedSource(Mutex::new(Some(desired_from_snapshot(
            &fabric(),
            snapshot(),
        ))))),
        target: Arc::new(MemoryTarget::new(vec![])),
        writer,
        shared: Arc::new(crate::state::MemoryState::default()),
    };
    FabricJobHandler::new(vec![publisher])
        .handle(&job("2026-11-22T02:58:17.049736+00:00"))
        .await
}

/// A write-back that fails once after a successful apply is retried with the same plan, so
/// the journal entry of the change is not lost (a job-level retry would find nothing left to
/// apply, and journal nothing).
#[tokio::test(start_paused = true)]
async fn a_failed_write_back_is_retried_and_the_change_still_journalled() {
    let unreachable = crate::reconcile::WriteBackError::Unavailable(failure("connection refused"));
    let writer = FlakyWriter::new(1, unreachable);
    publish_with(writer.clone())
        .await
        .expect("the job succeeds once the write-back went through");
    let written = writer.written.lock().unwrap();
    assert_eq!(written.len(), 1);
    assert!(
        written[0]
            .journal
            .iter()
            .any(|j| j.comments.contains("Switch/leaf-02 (created;")),
        "the change is journalled"
    );
}

/// Writing the plan again is left out when it cannot help (NetBox refused it: the job fails
/// for good) or could duplicate journal entries (the connection failed after they were sent:
/// the job is retried later, and its publish finds nothing new to journal).
#[tokio::test(start_paused = true)]
async fn a_refused_or_uncertain_write_back_is_not_written_again() {
    use crate::reconcile::WriteBackError::{Refused, Uncertain};
    use std::sync::atomic::Ordering;

    let writer = FlakyWriter::new(5, Refused(failure("HTTP 403: read-only token")));
    let error = publish_with(writer.clone()).await.unwrap_err();
    assert!(matches!(error, JobError::Permanent(_)), "{error:?}");
    assert_eq!(writer.attempts.load(Ordering::SeqCst), 1);

    let writer = FlakyWriter::new(5, Uncertain(failure("timed out after sending")));
    let error = publish_with(writer.clone()).await.unwrap_err();
    assert!(matches!(error, JobError::Retryable(_)), "{error:?}");
    assert_eq!(writer.attempts.load(Ordering::SeqCst), 1);
}

/// Refuses every read, as NetBox does a wrong token.
struct RefusingSource;

#[async_trait::async_trait]
impl crate::reconcile::DesiredSource for RefusingSource {
    async fn desired(
        &self,
        _: &FabricConfig,
    ) -> Result<crate::reconcile::Desired, crate::reconcile::SourceError> {
        Err(crate::reconcile::SourceError::NetBox(
            crate::netbox::NetBoxError::Auth {
                method: "GET".into(),
                path: "/api/dcim/devices/".into(),
                status: 403,
                detail: "Invalid token".into(),
            },
        ))
    }
}

#[tokio::test]
async fn a_netbox_read_is_retried_when_it_may_succeed_later_and_fails_when_refused() {
    let publisher = |source: Arc<dyn crate::reconcile::DesiredSource>| FabricPublisher {
        fabric: fabric(),
        source,
        target: Arc::new(MemoryTarget::new(vec![])),
        writer: Arc::new(RecordingWriter::default()),
        shared: Arc::new(crate::state::MemoryState::default()),
    };
    let cause = crate::targets::Cause::default();
    let unreachable = publisher(Arc::new(FixedSource(Mutex::new(None))))
        .publish(&cause, &[])
        .await
        .unwrap_err();
    assert!(unreachable.is_retryable(), "{unreachable:?}");
    let refused = publisher(Arc::new(RefusingSource))
        .publish(&cause, &[])
        .await
        .unwrap_err();
    assert!(!refused.is_retryable(), "{refused:?}");
    assert!(
        refused.to_string().contains("refused the token"),
        "{refused}"
    );
}

fn device_id(snapshot: &FabricSnapshot, name: &str) -> u64 {
    snapshot
        .devices
        .iter()
        .find(|d| d.name.as_deref() == Some(name))
        .unwrap()
        .id
}

fn change(device: u64, request: &str) -> crate::attribution::NetBoxChange {
    crate::attribution::NetBoxChange {
        at: chrono::Utc::now() - chrono::Duration::minutes(1),
        request_id: Some(request.into()),
        user: Some("alice".into()),
        object_type: "dcim.device".into(),
        object_id: device,
    }
}

/// A publisher of `source` into an empty in-memory cluster, and the writer it reports to.
fn publisher_to_an_empty_target(
    source: Arc<dyn crate::reconcile::DesiredSource>,
    shared: Arc<crate::state::MemoryState>,
) -> (FabricPublisher, Arc<RecordingWriter>) {
    let writer = Arc::new(RecordingWriter::default());
    let publisher = FabricPublisher {
        fabric: fabric(),
        source,
        target: Arc::new(MemoryTarget::new(vec![])),
        writer: writer.clone(),
        shared,
    };
    (publisher, writer)
}

/// The comments of the journal entries written on `device`.
fn journalled(writer: &RecordingWriter, device: u64) -> Vec<String> {
    writer
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|plan| plan.journal.clone())
        .filter(|j| j.assigned_object_type == "dcim.device" && j.assigned_object_id == device)
        .map(|j| j.comments)
        .collect()
}

#[tokio::test]
async fn each_object_is_credited_to_its_own_request_and_a_held_back_change_when_it_goes_out() {
    use crate::state::SharedState;
    let snapshot = snapshot();
    let (one, three) = (
        device_id(&snapshot, "leaf-01"),
        device_id(&snapshot, "leaf-03"),
    );
    let leaf = |name: &str| crate::model::ObjectKey {
        kind: crate::model::Kind::Switch,
        name: name.into(),
    };
    // leaf-03 breaks a rule: it waits, with its change, while leaf-01's goes out.
    let mut held = desired_from_snapshot(&fabric(), snapshot.clone());
    held.manifests.retain(|m| m.key() != Some(leaf("leaf-03")));
    held.held_back.insert(leaf("leaf-03"), "invalid".into());
    let source = Arc::new(FixedSource(Mutex::new(Some(held))));
    let shared = Arc::new(crate::state::MemoryState::default());
    let (publisher, writer) = publisher_to_an_empty_target(source.clone(), shared.clone());
    for recorded in [change(one, "r-one"), change(three, "r-three")] {
        shared.record_change(&recorded).await.unwrap();
    }
    let by_r9 = crate::targets::Cause {
        request_id: Some("r-nine".into()),
        reason: "webhook dcim.device 9 updated".into(),
        ..Default::default()
    };
    publisher.publish(&by_r9, &[]).await.unwrap();
    let first = journalled(&writer, one);
    assert!(
        first
            .iter()
            .any(|c| c.contains("Switch/leaf-01 (created; request r-one by alice")),
        "{first:?}"
    );
    assert!(
        first
            .iter()
            .all(|c| !c.contains("r-three") && !c.contains("r-nine"))
    );
    let waiting: Vec<Option<String>> = shared
        .changes()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.request_id)
        .collect();
    assert_eq!(
        waiting,
        [Some("r-three".to_owned())],
        "the held-back change waits"
    );

    // Released by another request: leaf-03's change is still credited to its own.
    *source.0.lock().unwrap() = Some(desired_from_snapshot(&fabric(), snapshot));
    publisher.publish(&by_r9, &[]).await.unwrap();
    let released = journalled(&writer, three);
    assert!(
        released
            .iter()
            .any(|c| c.contains("Switch/leaf-03 (created; request r-three by alice")),
        "{released:?}"
    );
    assert!(shared.changes().await.unwrap().is_empty());
}

/// A NetBox whose change log holds the deletions of `logged`.
struct LoggedSource {
    inner: FixedSource,
    logged: Vec<crate::attribution::NetBoxChange>,
}

#[async_trait::async_trait]
impl crate::reconcile::DesiredSource for LoggedSource {
    async fn desired(
        &self,
        fabric: &FabricConfig,
    ) -> Result<crate::reconcile::Desired, crate::reconcile::SourceError> {
        self.inner.desired(fabric).await
    }

    async fn deletions(&self, objects: &[SourceRef]) -> Vec<crate::attribution::NetBoxChange> {
        self.logged
            .iter()
            .filter(|c| {
                objects
                    .iter()
                    .any(|o| o.object_type == c.object_type && o.id == c.object_id)
            })
            .cloned()
            .collect()
    }
}

#[tokio::test]
async fn a_removal_read_before_its_webhook_arrived_is_credited_from_netboxs_change_log() {
    let snapshot = snapshot();
    let cabled = desired_from_snapshot(&fabric(), snapshot.clone());
    // Every cable of one connection is deleted, so the connection goes.
    let cables: Vec<u64> = cabled
        .sources
        .values()
        .find(|refs| refs.iter().any(|s| s.object_type == "dcim.cable"))
        .expect("a connection rendered from cables")
        .iter()
        .filter(|s| s.object_type == "dcim.cable")
        .map(|s| s.id)
        .collect();
    let mut uncabled = snapshot.clone();
    uncabled.cables.retain(|c| !cables.contains(&c.id));
    let deletions = cables
        .iter()
        .map(|&id| crate::attribution::NetBoxChange {
            object_type: "dcim.cable".into(),
            object_id: id,
            ..change(0, "r-delete")
        })
        .collect();
    let source = Arc::new(LoggedSource {
        inner: FixedSource(Mutex::new(Some(cabled))),
        logged: deletions,
    });
    let shared = Arc::new(crate::state::MemoryState::default());
    let (publisher, writer) = publisher_to_an_empty_target(source.clone(), shared);
    let cause = |reason: &str| crate::targets::Cause {
        reason: reason.into(),
        ..Default::default()
    };
    publisher
        .publish(&cause("webhook dcim.cable 1 created"), &[])
        .await
        .unwrap();

    // The cable is gone from NetBox; no webhook told of it yet.
    *source.inner.0.lock().unwrap() = Some(desired_from_snapshot(&fabric(), uncabled));
    let outcome = publisher
        .publish(&cause("webhook dcim.interface 7 updated"), &[])
        .await
        .unwrap();
    assert!(
        !outcome.report.unwrap().deleted.is_empty(),
        "the cable's connection is pruned"
    );
    // On the devices the connection joined, or the fabric's record for what is all gone.
    let on_objects: Vec<String> = writer
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|plan| plan.journal.clone())
        .map(|j| j.comments)
        .collect();
    let on_fabric = writer.2.lock().unwrap().clone();
    let pruned: Vec<String> = on_objects
        .into_iter()
        .chain(on_fabric)
        .filter(|c| c.starts_with("Pruned from the"))
        .collect();
    assert!(!pruned.is_empty(), "the prune is journalled");
    assert!(
        pruned
            .iter()
            .all(|c| c.contains("request r-delete by alice")),
        "credited to the logged deletion: {pruned:?}"
    );
}
