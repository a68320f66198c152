//! What to write back into NetBox after a reconcile: status custom fields on the mapped objects
//! that are not in sync, and journal entries for new drift, errors and repairs.
//!
//! Every write to a NetBox object is an update event that NetBox's single webhook worker has to
//! deliver before any user's next change, so only exceptions are written: "in sync" is the
//! absence of a status. Only values that differ from what NetBox already holds are planned, so
//! reconciling a steady fabric writes nothing. `hedgehog_synced_at` is the time an object's
//! problem ended, and a switch's heartbeat is only refreshed when its health changes or the
//! stored value is older than `heartbeat_refresh`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::compare::{ObjectReport, ObjectState};
use super::health::SwitchHealth;
use super::sources::{SourceMap, SourceRef};
use crate::config::CustomFieldNames;
use crate::model::ObjectKey;
use crate::netbox::types::CustomFields;
pub use crate::netbox::writeback::{JournalEntry, JournalKind};

/// The `hedgehog_status` values (the custom field's choice set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetBoxStatus {
    // Ordered from best to worst: an object feeding several rendered objects shows the worst.
    Synced,
    Pending,
    Drifted,
    Unknown,
    /// The target (the cluster or its admission webhook) refused the object.
    Refused,
    /// The object breaks an admission rule.
    Invalid,
    /// It could not be applied or written for another reason.
    Error,
}

impl NetBoxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NetBoxStatus::Synced => "synced",
            NetBoxStatus::Pending => "pending",
            NetBoxStatus::Drifted => "drifted",
            NetBoxStatus::Unknown => "unknown",
            NetBoxStatus::Refused => "refused",
            NetBoxStatus::Invalid => "invalid",
            NetBoxStatus::Error => "error",
        }
    }
}

/// The outcome for one NetBox object, before comparing with NetBox's current values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: NetBoxStatus,
    pub message: String,
}

/// A PATCH of custom fields on one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldUpdate {
    pub object: SourceRef,
    pub custom_fields: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WritebackPlan {
    pub updates: Vec<FieldUpdate>,
    pub journal: Vec<JournalEntry>,
}

impl WritebackPlan {
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.journal.is_empty()
    }
}

/// What the pass's self-heal did, which decides how drifted and missing objects read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Heal {
    /// Not attempted (dry run, self-heal off, commit mode, nothing to heal): objects read as
    /// they were found.
    #[default]
    NotTried,
    /// The target took the fabric; these objects it refused, with its message.
    Applied(BTreeMap<ObjectKey, String>),
    /// The re-apply as a whole failed: a fabric-wide condition, reported on the fabric's
    /// record, so no object's status changes.
    Failed,
}

/// Outcomes per NetBox object from the comparison: each source object gets the worst state of
/// the rendered objects it feeds.
pub(crate) fn outcomes_from_reports(
    reports: &[ObjectReport],
    sources: &SourceMap,
    heal: &Heal,
    target: &str,
) -> BTreeMap<SourceRef, Outcome> {
    let mut outcomes: BTreeMap<SourceRef, Outcome> = BTreeMap::new();
    for report in reports {
        let Some(refs) = sources.get(&report.key) else {
            continue;
        };
        let in_sync = Outcome {
            status: NetBoxStatus::Synced,
            message: format!("{} is in sync with the {target}", report.key),
        };
        let outcome = match (report.state, heal) {
            (ObjectState::InSync, _) => in_sync,
            // Held-back objects get their outcome from why they are held back.
            (ObjectState::Orphan | ObjectState::HeldBack, _) | (_, Heal::Failed) => continue,
            (_, Heal::Applied(refused)) => match refused.get(&report.key) {
                Some(message) => Outcome {
                    status: NetBoxStatus::Refused,
                    message: format!("the {target} refused {}: {message}", report.key),
                },
                // A healed object reads like any synced one, so the pass after the heal finds
                // nothing to write; the heal itself is journalled by the engine.
                None => in_sync,
            },
            (ObjectState::Drifted, Heal::NotTried) => Outcome {
                status: NetBoxStatus::Drifted,
                message: drift_message(report, target),
            },
            (ObjectState::Missing, Heal::NotTried) => Outcome {
                status: NetBoxStatus::Pending,
                message: format!("{} is not in the {target} yet", report.key),
            },
        };
        merge(&mut outcomes, refs, outcome);
    }
    outcomes
}

/// Adds `outcome` to every object in `refs`, keeping the worst per object.
pub fn merge(outcomes: &mut BTreeMap<SourceRef, Outcome>, refs: &[SourceRef], outcome: Outcome) {
    for r in refs {
        match outcomes.get(r) {
            Some(existing) if existing.status >= outcome.status => {}
            _ => {
                outcomes.insert(r.clone(), outcome.clone());
            }
        }
    }
}

fn drift_message(report: &ObjectReport, target: &str) -> String {
    let fields: Vec<String> = report
        .diffs
        .iter()
        .take(5)
        .map(|d| format!("{} (NetBox: {}, {target}: {})", d.path, d.desired, d.actual))
        .collect();
    let more = report.diffs.len().saturating_sub(5);
    let suffix = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} drifted in the {target}: {}{suffix}",
        report.key,
        fields.join("; ")
    )
}

/// Compares outcomes with NetBox's current values and plans only the changes.
///
/// Only exceptions are written: an object in sync carries no status at all, so a first
/// reconcile of a healthy fabric writes nothing and NetBox's webhook worker gets nothing to
/// send. A status left from an earlier problem (or an old `synced` confirmation) is cleared
/// once; `hedgehog_synced_at` is set in that same write when a problem ends, never on a steady
/// object.
pub fn plan(
    outcomes: &BTreeMap<SourceRef, Outcome>,
    current: &BTreeMap<(&'static str, u64), &CustomFields>,
    names: &CustomFieldNames,
    now: DateTime<Utc>,
    cause: &str,
) -> WritebackPlan {
    let empty = CustomFields::default();
    let mut result = WritebackPlan::default();
    for (object, outcome) in outcomes {
        let fields = current
            .get(&(object.object_type.as_str(), object.id))
            .copied()
            .unwrap_or(&empty);
        let stored = Stored {
            status: fields.string(&names.status),
            message: fields.string(&names.message).unwrap_or_default(),
        };
        let (changes, journal_kind) = if outcome.status == NetBoxStatus::Synced {
            clear(&stored, names, now)
        } else {
            raise(&stored, outcome, names)
        };
        if changes.is_empty() {
            continue;
        }
        if let Some(kind) = journal_kind {
            result.journal.push(JournalEntry {
                assigned_object_type: object.object_type.clone(),
                assigned_object_id: object.id,
                kind,
                comments: format!("{} ({cause})", outcome.message),
            });
        }
        result.updates.push(FieldUpdate {
            object: object.clone(),
            custom_fields: changes,
        });
    }
    result
}

/// Objects that still carry a Hedgehog status but no longer map to any Hedgehog object (a
/// server whose cable was deleted): their fields are cleared once, with a journal entry.
/// Only for a pass that knows every object's outcome.
pub(crate) fn plan_unmapped(
    outcomes: &BTreeMap<SourceRef, Outcome>,
    current: &BTreeMap<(&'static str, u64), &CustomFields>,
    names: &CustomFieldNames,
    cause: &str,
) -> WritebackPlan {
    let mapped: std::collections::BTreeSet<(&str, u64)> = outcomes
        .keys()
        .map(|r| (r.object_type.as_str(), r.id))
        .collect();
    let mut result = WritebackPlan::default();
    for (&(object_type, id), fields) in current {
        let marked =
            fields.string(&names.status).is_some() || fields.string(&names.message).is_some();
        if !marked || mapped.contains(&(object_type, id)) {
            continue;
        }
        result.updates.push(FieldUpdate {
            object: SourceRef {
                object_type: object_type.to_owned(),
                id,
                name: format!("#{id}"),
            },
            custom_fields: [
                (names.status.clone(), Value::Null),
                (names.message.clone(), Value::Null),
            ]
            .into(),
        });
        result.journal.push(JournalEntry {
            assigned_object_type: object_type.to_owned(),
            assigned_object_id: id,
            kind: JournalKind::Info,
            comments: format!(
                "No longer maps to any Hedgehog object: its Hedgehog status was cleared ({cause})"
            ),
        });
    }
    result
}

/// What NetBox holds for one object.
struct Stored {
    status: Option<String>,
    message: String,
}

impl Stored {
    fn is(&self, status: NetBoxStatus) -> bool {
        self.status.as_deref() == Some(status.as_str())
    }
}

/// Custom field values to write, and the kind of journal entry the change deserves.
pub(crate) type Changes = (BTreeMap<String, Value>, Option<JournalKind>);

/// An object in sync: remove whatever status it still carries.
fn clear(stored: &Stored, names: &CustomFieldNames, now: DateTime<Utc>) -> Changes {
    let mut changes = BTreeMap::new();
    if stored.status.is_none() && stored.message.is_empty() {
        return (changes, None);
    }
    changes.insert(names.status.clone(), Value::Null);
    changes.insert(names.message.clone(), Value::Null);
    // An old confirmation is only removed; a problem that ended is the object becoming synced.
    let problem_ended = stored.status.is_some() && !stored.is(NetBoxStatus::Synced);
    if problem_ended {
        changes.insert(names.synced_at.clone(), json!(now.to_rfc3339()));
    }
    (changes, problem_ended.then_some(JournalKind::Success))
}

/// An object with a problem: write its status and message where they differ.
fn raise(stored: &Stored, outcome: &Outcome, names: &CustomFieldNames) -> Changes {
    let mut changes = BTreeMap::new();
    if !stored.is(outcome.status) {
        changes.insert(names.status.clone(), json!(outcome.status.as_str()));
    }
    if stored.message != outcome.message {
        changes.insert(names.message.clone(), json!(outcome.message));
    }
    let kind = match outcome.status {
        _ if changes.is_empty() => None,
        NetBoxStatus::Drifted if !stored.is(NetBoxStatus::Drifted) => Some(JournalKind::Warning),
        NetBoxStatus::Error | NetBoxStatus::Invalid | NetBoxStatus::Refused => {
            Some(JournalKind::Danger)
        }
        _ => None,
    };
    (changes, kind)
}

/// The changes to a fabric's own record: its status written explicitly (one object, so a
/// confirmation costs nothing), `hedgehog_synced_at` when the fabric becomes synced, and a
/// journal entry for each transition.
pub(crate) fn plan_fabric_record(
    fields: &CustomFields,
    outcome: &Outcome,
    names: &CustomFieldNames,
    now: DateTime<Utc>,
) -> Changes {
    let stored = Stored {
        status: fields.string(&names.status),
        message: fields.string(&names.message).unwrap_or_default(),
    };
    let (mut changes, _) = raise(&stored, outcome, names);
    let transition = !stored.is(outcome.status);
    let kind = match outcome.status {
        _ if !transition => None,
        NetBoxStatus::Synced => {
            changes.insert(names.synced_at.clone(), json!(now.to_rfc3339()));
            stored.status.is_some().then_some(JournalKind::Success)
        }
        NetBoxStatus::Error
        | NetBoxStatus::Unknown
        | NetBoxStatus::Invalid
        | NetBoxStatus::Refused => Some(JournalKind::Danger),
        NetBoxStatus::Drifted | NetBoxStatus::Pending => Some(JournalKind::Warning),
    };
    (changes, kind)
}

/// Agent health fields for each switch's device, only where they changed. `devices` maps a
/// switch name to its NetBox device.
pub(crate) fn plan_switch_health(
    switches: &[SwitchHealth],
    devices: &BTreeMap<String, SourceRef>,
    current: &BTreeMap<(&'static str, u64), &CustomFields>,
    names: &CustomFieldNames,
    heartbeat_refresh: chrono::Duration,
) -> Vec<FieldUpdate> {
    let empty = CustomFields::default();
    let mut updates = Vec::new();
    for health in switches {
        let Some(device) = devices.get(&health.switch) else {
            continue;
        };
        let fields = current
            .get(&("dcim.device", device.id))
            .copied()
            .unwrap_or(&empty);
        let generation = match (health.applied_generation, health.desired_generation) {
            (Some(applied), Some(desired)) => format!("{applied}/{desired}"),
            (None, Some(desired)) => format!("none/{desired}"),
            _ => String::new(),
        };
        let mut changes = BTreeMap::new();
        if fields.string(&names.agent_generation).unwrap_or_default() != generation {
            changes.insert(names.agent_generation.clone(), json!(generation));
        }
        let nos = health.nos_version.clone().unwrap_or_default();
        if fields.string(&names.nos_version).unwrap_or_default() != nos {
            changes.insert(names.nos_version.clone(), json!(nos));
        }
        if let Some(beat) = health.last_heartbeat {
            let stored = fields
                .string(&names.agent_heartbeat)
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
            let stale = stored.is_none_or(|s| beat - s > heartbeat_refresh);
            if stale || !changes.is_empty() {
                changes.insert(names.agent_heartbeat.clone(), json!(beat.to_rfc3339()));
            }
        }
        if !changes.is_empty() {
            updates.push(FieldUpdate {
                object: device.clone(),
                custom_fields: changes,
            });
        }
    }
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldDiff;
    use crate::model::Kind;

    fn device(id: u64) -> SourceRef {
        SourceRef {
            object_type: "dcim.device".into(),
            id,
            name: format!("leaf-{id:02}"),
        }
    }

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    fn report(name: &str, state: ObjectState) -> ObjectReport {
        let diffs = if state == ObjectState::Drifted {
            vec![FieldDiff {
                path: "spec.asn".into(),
                desired: json!(65101),
                actual: json!(65199),
            }]
        } else {
            vec![]
        };
        ObjectReport {
            key: key(name),
            state,
            diffs,
            managed: true,
        }
    }

    /// Custom field values as NetBox holds them after `plan` was written.
    fn stored(plan: &WritebackPlan) -> Vec<CustomFields> {
        plan.updates
            .iter()
            .map(|u| CustomFields(u.custom_fields.clone().into_iter().collect()))
            .collect()
    }

    #[test]
    fn only_problems_are_written_and_a_steady_fabric_plans_nothing() {
        let names = CustomFieldNames::default();
        let sources: SourceMap = [
            (key("leaf-01"), vec![device(1)]),
            (key("leaf-02"), vec![device(2)]),
        ]
        .into_iter()
        .collect();
        let reports = vec![
            report("leaf-01", ObjectState::InSync),
            report("leaf-02", ObjectState::Drifted),
        ];
        let outcomes = outcomes_from_reports(&reports, &sources, &Heal::NotTried, "cluster");
        let now = Utc::now();

        let first = plan(&outcomes, &BTreeMap::new(), &names, now, "reconcile");
        assert_eq!(
            first.updates.len(),
            1,
            "the object in sync gets no write: {:?}",
            first.updates
        );
        assert_eq!(first.updates[0].object, device(2));
        assert_eq!(
            first.updates[0].custom_fields["hedgehog_status"],
            json!("drifted")
        );
        assert!(
            first.updates[0].custom_fields["hedgehog_message"]
                .as_str()
                .unwrap()
                .contains("spec.asn")
        );
        assert_eq!(first.journal.len(), 1, "{:?}", first.journal);
        assert_eq!(first.journal[0].kind, JournalKind::Warning);

        // NetBox now holds what was written: the next pass plans nothing.
        let held = stored(&first);
        let current: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 2), &held[0])].into_iter().collect();
        assert!(plan(&outcomes, &current, &names, now, "reconcile").is_empty());

        // Healing the drift clears leaf-02's status once, records when it became synced and
        // journals the repair; after that nothing is written again.
        let healed = outcomes_from_reports(
            &reports,
            &sources,
            &Heal::Applied(BTreeMap::new()),
            "cluster",
        );
        let third = plan(&healed, &current, &names, now, "reconcile");
        assert_eq!(third.updates.len(), 1);
        let fields = &third.updates[0].custom_fields;
        assert_eq!(fields["hedgehog_status"], Value::Null);
        assert_eq!(fields["hedgehog_message"], Value::Null);
        assert_eq!(fields["hedgehog_synced_at"], json!(now.to_rfc3339()));
        assert_eq!(third.journal[0].kind, JournalKind::Success);
        let cleared = CustomFields(fields.clone().into_iter().collect());
        let current: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 2), &cleared)].into_iter().collect();
        let later = now + chrono::Duration::hours(1);
        assert!(
            plan(&healed, &current, &names, later, "reconcile").is_empty(),
            "hedgehog_synced_at is not refreshed on a steady object"
        );
    }

    #[test]
    fn an_object_that_no_longer_maps_is_cleared_once_with_a_journal_entry() {
        let names = CustomFieldNames::default();
        let old = CustomFields(
            [("hedgehog_status".to_string(), json!({"value": "synced"}))]
                .into_iter()
                .collect(),
        );
        let current: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 1), &old), (("dcim.device", 2), &old)].into();
        let outcomes: BTreeMap<SourceRef, Outcome> = [(
            device(2),
            Outcome {
                status: NetBoxStatus::Synced,
                message: String::new(),
            },
        )]
        .into();
        let cleared = plan_unmapped(&outcomes, &current, &names, "reconcile");
        assert_eq!(cleared.updates.len(), 1);
        assert_eq!(cleared.updates[0].object.id, 1);
        assert_eq!(
            cleared.updates[0].custom_fields["hedgehog_status"],
            Value::Null
        );
        assert!(cleared.journal[0].comments.contains("No longer maps"));
        let empty = CustomFields::default();
        let after: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 1), &empty)].into();
        assert!(plan_unmapped(&outcomes, &after, &names, "reconcile").is_empty());
    }

    #[test]
    fn an_old_synced_confirmation_is_cleared_once_without_a_new_sync_time() {
        let names = CustomFieldNames::default();
        let sources: SourceMap = [(key("leaf-01"), vec![device(1)])].into_iter().collect();
        let outcomes = outcomes_from_reports(
            &[report("leaf-01", ObjectState::InSync)],
            &sources,
            &Heal::NotTried,
            "cluster",
        );
        let old = CustomFields(
            [
                (
                    "hedgehog_status".to_string(),
                    json!({"value": "synced", "label": "Synced"}),
                ),
                (
                    "hedgehog_message".to_string(),
                    json!("Switch/leaf-01 is in sync"),
                ),
                (
                    "hedgehog_synced_at".to_string(),
                    json!("2026-11-22T04:00:00Z"),
                ),
            ]
            .into_iter()
            .collect(),
        );
        let current: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 1), &old)].into_iter().collect();
        let cleared = plan(&outcomes, &current, &names, Utc::now(), "reconcile");
        assert_eq!(cleared.updates.len(), 1);
        let fields = &cleared.updates[0].custom_fields;
        assert_eq!(fields["hedgehog_status"], Value::Null);
        assert!(!fields.contains_key("hedgehog_synced_at"), "{fields:?}");
        assert!(cleared.journal.is_empty(), "nothing happened to the object");
    }

    #[test]
    fn the_worst_state_of_several_rendered_objects_wins() {
        let sources: SourceMap = [(key("a"), vec![device(1)]), (key("b"), vec![device(1)])]
            .into_iter()
            .collect();
        let reports = vec![
            report("a", ObjectState::Drifted),
            report("b", ObjectState::InSync),
        ];
        let outcomes = outcomes_from_reports(&reports, &sources, &Heal::NotTried, "cluster");
        assert_eq!(outcomes[&device(1)].status, NetBoxStatus::Drifted);
    }

    #[test]
    fn heartbeats_refresh_only_when_stale_or_health_changed() {
        let names = CustomFieldNames::default();
        let beat = Utc::now();
        let health = vec![SwitchHealth {
            switch: "leaf-01".into(),
            health: crate::reconcile::Health::Healthy,
            desired_generation: Some(3),
            applied_generation: Some(3),
            last_heartbeat: Some(beat),
            nos_version: Some("4.5".into()),
            message: String::new(),
        }];
        let devices: BTreeMap<String, SourceRef> = [("leaf-01".to_string(), device(1))].into();
        let refresh = chrono::Duration::hours(1);
        let first = plan_switch_health(&health, &devices, &BTreeMap::new(), &names, refresh);
        assert_eq!(first.len(), 1);
        let held = CustomFields(first[0].custom_fields.clone().into_iter().collect());
        let current: BTreeMap<(&'static str, u64), &CustomFields> =
            [(("dcim.device", 1), &held)].into();
        let mut later = health.clone();
        later[0].last_heartbeat = Some(beat + chrono::Duration::minutes(5));
        assert!(plan_switch_health(&later, &devices, &current, &names, refresh).is_empty());
        later[0].last_heartbeat = Some(beat + chrono::Duration::hours(2));
        assert_eq!(
            plan_switch_health(&later, &devices, &current, &names, refresh).len(),
            1
        );
    }
}
