//! One publish: optional server-side dry-run of everything, server-side apply in apply
//! order (`Kind`'s `Ord`), then pruning of managed objects no longer desired, in reverse order.
//! Objects the cluster refuses become [`ObjectFailure`]s quoting the cluster's message.

use std::collections::BTreeMap;

use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;

use super::errors::{Failure, classify};
use super::{ClusterTarget, FIELD_MANAGER};
use crate::model::diff_managed;
use crate::model::{Kind, Manifest, ObjectKey};
use crate::targets::{Cause, ObjectFailure, PublishReport, TargetError};

fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

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
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["managedFields", "resourceVersion", "generation"] {
            metadata.remove(field);
        }
    }
    copy
}

pub async fn publish(
    target: &ClusterTarget,
    desired: &[Manifest],
    cause: &Cause,
    dry_run: bool,
) -> Result<PublishReport, TargetError> {
    let mut report = PublishReport::default();
    let mut objects: BTreeMap<ObjectKey, Value> = BTreeMap::new();
    for manifest in desired {
        let mut object = manifest.to_value();
        target.labels.stamp(&mut object);
        if let Some(metadata) = object.get_mut("metadata") {
            metadata["namespace"] = Value::String(target.options.namespace.clone());
        }
        match manifest.key() {
            Some(key) if Kind::RENDERED.contains(&key.kind) => {
                objects.insert(key, object);
            }
            _ => {
                return Err(TargetError::Other {
                    target: "cluster".into(),
                    message: format!(
                        "{} {:?} is not a kind the sidecar applies",
                        manifest.kind, manifest.metadata.name
                    ),
                });
            }
        }
    }

    // What is there now: every object of the rendered kinds, by key.
    let selector = target.labels.selector();
    let mut live: BTreeMap<ObjectKey, Value> = BTreeMap::new();
    for kind in Kind::RENDERED {
        for object in target.list(kind, None).await? {
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            live.insert(ObjectKey { kind, name }, object);
        }
    }
    let prunable: Vec<ObjectKey> = if target.options.prune {
        live.iter()
            .filter(|(key, object)| !objects.contains_key(key) && has_labels(object, &selector))
            .map(|(key, _)| key.clone())
            .rev()
            .collect()
    } else {
        Vec::new()
    };

    let passes: &[bool] = match (dry_run, target.options.dry_run_first) {
        (true, _) => &[true],
        (false, true) => &[true, false],
        (false, false) => &[false],
    };
    for &pass_is_dry in passes {
        report = PublishReport::default();
        // BTreeMap order is ObjectKey order: Kind's apply order, then name.
        for (key, object) in &objects {
            // Only objects whose rendering differs from the cluster's copy are sent: a
            // publish after a one-object change costs one apply, not one per object.
            let current = live.get(key);
            if current.is_some_and(|live| diff_managed(object, live).is_empty()) {
                report.unchanged += 1;
                continue;
            }
            match target.apply_one(key, object, current, pass_is_dry).await? {
                Ok(Outcome::Created) => report.created.push(key.clone()),
                Ok(Outcome::Updated) => report.updated.push(key.clone()),
                Ok(Outcome::Unchanged) => report.unchanged += 1,
                Err(message) => report.failures.push(ObjectFailure {
                    key: key.clone(),
                    message,
                }),
            }
        }
        if pass_is_dry && !dry_run && !report.failures.is_empty() {
            // The dry-run found problems: apply nothing, report them.
            report.created.clear();
            report.updated.clear();
            report.unchanged = 0;
            log_report(target, cause, &report, true);
            return Ok(report);
        }
    }

    let params = DeleteParams {
        dry_run,
        ..Default::default()
    };
    for key in prunable {
        match target.api(key.kind).delete(&key.name, &params).await {
            Ok(_) => report.deleted.push(key),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => match classify(error) {
                Failure::Object(message) => report.failures.push(ObjectFailure { key, message }),
                Failure::Abort(error) => return Err(error),
            },
        }
    }
    log_report(target, cause, &report, dry_run);
    Ok(report)
}

fn log_report(target: &ClusterTarget, cause: &Cause, report: &PublishReport, dry_run: bool) {
    tracing::info!(
        fabric = %target.fabric,
        request_id = cause.request_id.as_deref().unwrap_or(""),
        reason = %cause.reason,
        dry_run,
        created = report.created.len(),
        updated = report.updated.len(),
        deleted = report.deleted.len(),
        unchanged = report.unchanged,
        failures = report.failures.len(),
        "cluster publish"
    );
}
