//! One publish: optional server-side dry-run of everything, then the [`Plan`]'s server-side
//! applies and deletes, in rounds until the cluster takes them all or a round changes nothing.
//! Objects the cluster still refuses become [`ObjectFailure`]s quoting the cluster's message.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;

use super::errors::{Failure, classify};
use super::live::resource_version;
use super::parking;
use super::plan::Plan;
use super::reuse::InStep;
use super::{ClusterTarget, FIELD_MANAGER, Objects};
use crate::freeing::drop_in_background;
use crate::model::{Kind, Manifest, ObjectKey, without_metadata};
use crate::targets::{Cause, ObjectFailure, PublishReport, TargetError, info_publish_counts};

fn has_labels(object: &Value, selector: &str) -> bool {
    selector.split(',').all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            == Some(value)
    })
}

/// What one apply did to one object.
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl ClusterTarget {
    async fn apply_one(
        &self,
        key: &ObjectKey,
        object: &Value,
        live: Option<&Value>,
        dry_run: bool,
    ) -> Result<Result<Outcome, String>, TargetError> {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        if self.options.force_conflicts {
            params = params.force();
        }
        if dry_run {
            params = params.dry_run();
        }
        match self
            .api(key.kind)
            .patch(&key.name, &params, &Patch::Apply(object))
            .await
        {
            Ok(applied) => {
                let applied = serde_json::to_value(applied).unwrap_or_default();
                if !dry_run {
                    self.wrote(key, Some(&applied));
                }
                Ok(Ok(match live {
                    None => Outcome::Created,
                    // A dry-run keeps the resourceVersion: compare what was sent back.
                    Some(live) if dry_run => {
                        if comparable(live) == comparable(&applied) {
                            Outcome::Unchanged
                        } else {
                            Outcome::Updated
                        }
                    }
                    Some(live) if resource_version(live) == resource_version(&applied) => {
                        Outcome::Unchanged
                    }
                    Some(_) => Outcome::Updated,
                }))
            }
            Err(error) => match classify(error) {
                Failure::Object(message) => Ok(Err(message)),
                Failure::Abort(error) => Err(error),
            },
        }
    }
}

/// An object without the fields every write changes.
fn comparable(object: &Value) -> Value {
    without_metadata(object, &["managedFields", "resourceVersion", "generation"])
}

/// The most rounds of applies and deletes one publish makes; each round must have done
/// something for the next to run.
const MAX_ROUNDS: usize = 8;

/// What a publish plans against.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Planning {
    /// Every object of the rendered kinds, listed now.
    Listed,
    /// The watched view (see `live`), or a list while it cannot be trusted.
    Watched,
}

pub(super) async fn publish(
    target: &ClusterTarget,
    desired: &[Manifest],
    cause: &Cause,
    dry_run: bool,
    planning: Planning,
) -> Result<PublishReport, TargetError> {
    let objects = stamped(target, desired)?;
    let watched = match planning {
        Planning::Watched => target.live().objects(),
        Planning::Listed => None,
    };
    let live = match watched {
        Some(watched) => watched,
        None => listed(target).await?,
    };
    let selector = target.labels.selector();
    let prune = target.options.prune;
    let plan = Plan::new(&objects, &live, &target.reuse.in_step(), |object| {
        prune && has_labels(object, &selector)
    });
    // A listed view shares no object with the next publish's watched one.
    if planning == Planning::Watched {
        let in_step = InStep::of(&objects, &live, &plan.applies);
        target.reuse.found_in_step(in_step);
    }

    if !dry_run && target.options.dry_run_first {
        let check = execute(target, &objects, &live, &plan, true).await?;
        // Only a desired object's own refusal counts: a dry-run cannot see the objects other
        // steps create or delete first (an attachment's connection, a VPC's attachments).
        let refused: Vec<ObjectFailure> = check
            .failures
            .into_iter()
            .filter(|failure| {
                objects
                    .get(&failure.key)
                    .is_some_and(|object| !plan.waits_on_another_step(&failure.key, object))
            })
            .collect();
        if !refused.is_empty() {
            // The dry-run found problems: apply nothing, report them. Objects no longer
            // desired are still removed: a refusal never blocks the prunes of the others.
            let pruned = execute(target, &objects, &live, &plan.prunes_only(), false).await?;
            let mut report = PublishReport {
                deleted: pruned.deleted,
                failures: refused,
                ..PublishReport::default()
            };
            report.failures.extend(pruned.failures);
            log_report(target, cause, &report, false);
            return Ok(report);
        }
    }
    let report = execute(target, &objects, &live, &plan, dry_run).await?;
    log_report(target, cause, &report, dry_run);
    drop_in_background((objects, live));
    Ok(report)
}

/// Every object of the rendered kinds, listed, by key.
async fn listed(target: &ClusterTarget) -> Result<Objects, TargetError> {
    let mut live = BTreeMap::new();
    for kind in Kind::RENDERED {
        for object in target.list(kind, None).await? {
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            live.insert(ObjectKey { kind, name }, Arc::new(object));
        }
    }
    Ok(live)
}

/// The desired objects, labelled and in the fabric's namespace, by key; those of unchanged
/// manifests are the last publish's.
fn stamped(target: &ClusterTarget, desired: &[Manifest]) -> Result<Objects, TargetError> {
    let key_of = |manifest: &Manifest| match manifest.key() {
        Some(key) if Kind::RENDERED.contains(&key.kind) => Ok(key),
        _ => Err(TargetError::NotApplied {
            kind: manifest.kind.clone(),
            name: manifest.metadata.name.clone(),
        }),
    };
    let stamp = |manifest: &Manifest| {
        let mut object = manifest.to_value();
        target.labels.stamp(&mut object);
        if let Some(metadata) = object.get_mut("metadata") {
            metadata["namespace"] = Value::String(target.options.namespace.clone());
        }
        object
    };
    target.reuse.stamped(desired, key_of, stamp)
}

/// The steps of `plan` still to make, and what they did.
struct Run<'a> {
    target: &'a ClusterTarget,
    objects: &'a Objects,
    /// Copied only when a step changes it (a delete, a parked object): most publishes of a
    /// large fabric change a few objects and delete none.
    live: Cow<'a, Objects>,
    recreated: &'a std::collections::BTreeSet<ObjectKey>,
    applies: Vec<ObjectKey>,
    deletes: Vec<ObjectKey>,
    failures: BTreeMap<ObjectKey, String>,
    report: PublishReport,
    dry_run: bool,
}

/// Runs `plan` in rounds: applies in apply order, then deletes in delete order; steps the
/// cluster refused are tried again in the next round as long as the last one did something
/// (a delete frees a name, an ASN or a port another object then takes). A dry-run makes one
/// round: it changes nothing a second one could build on.
async fn execute<'a>(
    target: &'a ClusterTarget,
    objects: &'a Objects,
    live: &'a Objects,
    plan: &Plan,
    dry_run: bool,
) -> Result<PublishReport, TargetError> {
    let mut run = Run {
        target,
        objects,
        live: Cow::Borrowed(live),
        recreated: &plan.recreated,
        applies: plan.applies.clone(),
        deletes: plan.deletes.clone(),
        failures: BTreeMap::new(),
        report: PublishReport {
            unchanged: objects.len().saturating_sub(plan.applies.len()),
            ..PublishReport::default()
        },
        dry_run,
    };
    for _ in 0..MAX_ROUNDS {
        let mut progressed = run.apply_round().await?;
        progressed |= run.delete_round().await?;
        if (run.applies.is_empty() && run.deletes.is_empty()) || dry_run {
            break;
        }
        if !progressed && !run.park().await? {
            break;
        }
    }
    let mut report = run.report;
    report.failures = run
        .failures
        .into_iter()
        .map(|(key, message)| ObjectFailure { key, message })
        .collect();
    Ok(report)
}

impl Run<'_> {
    /// Applies what is pending, except objects still waiting to be deleted first.
    async fn apply_round(&mut self) -> Result<bool, TargetError> {
        let mut progressed = false;
        for key in std::mem::take(&mut self.applies) {
            let Some(object) = self.objects.get(&key) else {
                continue;
            };
            if self.deletes.contains(&key) {
                self.applies.push(key);
                continue;
            }
            let current = self.live.get(&key).map(Arc::as_ref);
            match self
                .target
                .apply_one(&key, object, current, self.dry_run)
                .await?
            {
                Ok(outcome) => {
                    progressed = true;
                    self.failures.remove(&key);
                    match outcome {
                        Outcome::Created if self.recreated.contains(&key) => {
                            self.report.updated.push(key);
                        }
                        Outcome::Created => self.report.created.push(key),
                        Outcome::Updated => self.report.updated.push(key),
                        Outcome::Unchanged => self.report.unchanged += 1,
                    }
                }
                Err(message) => {
                    self.failures.insert(key.clone(), message);
                    self.applies.push(key);
                }
            }
        }
        Ok(progressed)
    }

    async fn delete_round(&mut self) -> Result<bool, TargetError> {
        let params = DeleteParams {
            dry_run: self.dry_run,
            ..Default::default()
        };
        let mut progressed = false;
        for key in std::mem::take(&mut self.deletes) {
            match self.target.api(key.kind).delete(&key.name, &params).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => match classify(error) {
                    Failure::Object(message) => {
                        self.failures.insert(key.clone(), message);
                        self.deletes.push(key);
                        continue;
                    }
                    Failure::Abort(error) => return Err(error),
                },
            }
            progressed = true;
            if !self.dry_run {
                self.target.wrote(&key, None);
            }
            self.failures.remove(&key);
            if self.live.contains_key(&key) {
                self.live.to_mut().remove(&key);
            }
            if !self.recreated.contains(&key) {
                self.report.deleted.push(key);
            } else if self.dry_run {
                self.report.updated.push(key);
            }
        }
        Ok(progressed)
    }

    /// When nothing else moves: parks one object waiting for another's unique value (a
    /// switch's ASN or IPs, a VPC's VLAN) on a free one, so the other can take its old one.
    /// Whether one was parked.
    async fn park(&mut self) -> Result<bool, TargetError> {
        for key in self.applies.clone() {
            let parked = parking::parked(&key, self.objects, &self.live, &self.target.settings);
            let Some(parked) = parked else { continue };
            let current = self.live.get(&key).map(Arc::as_ref);
            if self
                .target
                .apply_one(&key, &parked, current, false)
                .await?
                .is_ok()
            {
                self.live.to_mut().insert(key, Arc::new(parked));
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn log_report(target: &ClusterTarget, cause: &Cause, report: &PublishReport, dry_run: bool) {
    info_publish_counts!(
        report,
        "cluster publish",
        fabric = %target.fabric,
        request_id = cause.request_id.as_deref().unwrap_or(""),
        reason = %cause.reason,
        dry_run
    );
}
