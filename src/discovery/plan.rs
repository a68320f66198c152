//! The plan of a discovery run: per NetBox object, the fields to write (with their old and new
//! values), the hand-typed values left alone, the devices to tag stale or un-tag, the objects
//! and interfaces to create ([`create`](super::create)), and what was seen but is not in NetBox
//! and no source creates.
//!
//! A field is written when NetBox's value is empty, or still what discovery last wrote there
//! (the discovery record remembers it); any other value was typed by hand and is kept.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::cabling::{CablingFinding, CablingState};
use super::create::{Create, Creation};
use super::kind::ObjectKind;
use super::known::{KnownDevice, KnownInterface};
use super::merge::Merged;
use super::observation::{Field, ObservedInterface};
use crate::config::{CreateDefaults, CustomFieldNames};

/// What the plan needs besides the observations.
#[derive(Debug, Clone)]
pub struct PlanContext<'a> {
    pub names: &'a CustomFieldNames,
    /// The sources of this run: only their devices can become stale.
    pub sources: Vec<String>,
    pub now: DateTime<Utc>,
    pub stale_after: Duration,
    pub stale_tag: &'a str,
    /// Source name → creation defaults, for the sources that create what NetBox lacks.
    pub creation: BTreeMap<String, CreateDefaults>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// One NetBox object to PATCH: `body` is the bulk-PATCH item, `changes` the human diff. `kind`
/// is the object's kind, or for an interface its parent's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub kind: ObjectKind,
    pub object: String,
    pub id: u64,
    pub changes: Vec<FieldChange>,
    #[serde(skip)]
    pub body: Map<String, Value>,
}

/// A value NetBox holds that differs from what a source observed, kept because a user set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    pub object: String,
    pub field: String,
    pub netbox: Value,
    pub observed: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub devices: Vec<Update>,
    pub interfaces: Vec<Update>,
    pub creates: Vec<Create>,
    pub kept: Vec<Kept>,
    /// Owned devices no source reported for longer than the stale time: tagged, never deleted.
    pub stale: Vec<String>,
    /// Observed devices with no NetBox object that no source creates (sources' identities).
    pub not_in_netbox: Vec<String>,
    pub cabling: Vec<CablingFinding>,
    /// Cables LLDP proves, as `(interface id, interface id)`, when cable creation is on.
    pub cables: Vec<(u64, u64)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
            && self.interfaces.is_empty()
            && self.creates.is_empty()
            && self.cables.is_empty()
    }
}

/// The plan for `merged` (with each entry's cabling findings) against `known`.
pub fn plan(
    merged: &[Merged],
    cabling: Vec<CablingFinding>,
    known: &[KnownDevice],
    context: &PlanContext<'_>,
) -> Plan {
    let mut plan = Plan::default();
    let creation = Creation {
        defaults: &context.creation,
        names: context.names,
        now: context.now,
    };
    for entry in merged {
        let Some(device) = entry.known.map(|i| &known[i]) else {
            match creation.new_object(entry) {
                Some(create) => plan.creates.push(create),
                None => plan.not_in_netbox.push(entry.device.identity.clone()),
            }
            continue;
        };
        plan.creates.extend(creation.new_interfaces(entry, device));
        let owner = &entry.sources[0];
        if let Some(update) = device_update(device, entry, owner, context, &mut plan.kept) {
            plan.devices.push(update);
        }
        for observed in &entry.device.interfaces {
            let Some(interface) = device.interfaces.iter().find(|i| i.name == observed.name) else {
                continue;
            };
            let finding = cabling.iter().find(|f| f.interface_id == interface.id);
            let object = format!("{}/{}", device.name, interface.name);
            let facts = interface_facts(observed, finding, context.names);
            let mut writer = Writer::new(&interface.custom_fields, context.names, owner);
            writer.write_all(
                &object,
                &facts,
                |f| interface_value(interface, f),
                &mut plan.kept,
            );
            if let Some(update) = writer.finish(device.kind, object, interface.id) {
                plan.interfaces.push(update);
            }
        }
    }
    plan.stale = stale(merged, known, context, &mut plan.devices);
    plan.cabling = cabling;
    plan
}

fn device_update(
    device: &KnownDevice,
    entry: &Merged,
    owner: &str,
    context: &PlanContext<'_>,
    kept: &mut Vec<Kept>,
) -> Option<Update> {
    let mut writer = Writer::new(&device.custom_fields, context.names, owner);
    writer.write_all(
        &device.name,
        &entry.device.facts,
        |f| device_value(device, f),
        kept,
    );
    let seen = last_seen(&device.custom_fields, context.names);
    // Refreshed seldom, so a steady fabric costs no writes: a tenth of the stale time.
    let refresh = seen.is_none_or(|s| context.now - s > context.stale_after / 10);
    let tagged = device.tags.iter().any(|t| t == context.stale_tag);
    if refresh || tagged || writer.changed() {
        writer.record_seen(context.now);
    }
    let mut update = writer.finish(device.kind, device.name.clone(), device.id)?;
    if tagged {
        update
            .body
            .insert("remove_tags".into(), json!([{"slug": context.stale_tag}]));
        update.changes.push(tag_change(context.stale_tag, true));
    }
    Some(update)
}

/// Owned devices of this run's sources that none of them reported for the stale time, and
/// are not tagged yet; their tag goes into `devices`.
fn stale(
    merged: &[Merged],
    known: &[KnownDevice],
    context: &PlanContext<'_>,
    devices: &mut Vec<Update>,
) -> Vec<String> {
    let mut names = Vec::new();
    for (index, device) in known.iter().enumerate() {
        let owner = device.custom_fields.get(&context.names.discovered_by);
        let owned = owner
            .and_then(Value::as_str)
            .is_some_and(|o| context.sources.iter().any(|s| s == o));
        let seen_now = merged.iter().any(|m| m.known == Some(index));
        let tagged = device.tags.iter().any(|t| t == context.stale_tag);
        let expired = last_seen(&device.custom_fields, context.names)
            .is_none_or(|s| context.now - s > context.stale_after);
        if owned && !seen_now && !tagged && expired {
            let mut body = Map::new();
            body.insert("id".into(), json!(device.id));
            body.insert("add_tags".into(), json!([{"slug": context.stale_tag}]));
            devices.push(Update {
                kind: device.kind,
                object: device.name.clone(),
                id: device.id,
                changes: vec![tag_change(context.stale_tag, false)],
                body,
            });
            names.push(device.name.clone());
        }
    }
    names
}

fn tag_change(tag: &str, removed: bool) -> FieldChange {
    let (from, to) = if removed {
        (json!(tag), Value::Null)
    } else {
        (Value::Null, json!(tag))
    };
    FieldChange {
        field: "tags".into(),
        from,
        to,
    }
}

fn last_seen(
    custom_fields: &Map<String, Value>,
    names: &CustomFieldNames,
) -> Option<DateTime<Utc>> {
    let record = custom_fields.get(&names.discovery)?;
    record["last_seen"].as_str()?.parse().ok()
}

/// An interface's observed facts plus its cabling message.
fn interface_facts(
    observed: &ObservedInterface,
    finding: Option<&CablingFinding>,
    names: &CustomFieldNames,
) -> std::collections::BTreeMap<Field, Value> {
    let mut facts = observed.facts.clone();
    if let Some(finding) = finding {
        facts.insert(
            Field::Custom(names.cabling.clone()),
            json!(finding.message()),
        );
    }
    facts
}

fn device_value(device: &KnownDevice, field: &Field) -> Value {
    match field {
        Field::Native("serial") => json!(device.serial),
        Field::Native(_) => Value::Null,
        Field::Custom(name) => device.custom_fields.get(name).cloned().unwrap_or_default(),
    }
}

fn interface_value(interface: &KnownInterface, field: &Field) -> Value {
    match field {
        Field::Native("speed") => json!(interface.speed),
        Field::Native(_) => Value::Null,
        Field::Custom(name) => interface
            .custom_fields
            .get(name)
            .cloned()
            .unwrap_or_default(),
    }
}

/// Whether a cabling finding is a problem (worth a journal entry).
pub fn is_mismatch(finding: &CablingFinding) -> bool {
    finding.state != CablingState::Ok
}

/// Collects the writes to one object under the ownership rule, and its discovery record.
struct Writer<'a> {
    current_fields: &'a Map<String, Value>,
    names: &'a CustomFieldNames,
    owner: &'a str,
    record: Map<String, Value>,
    written: Map<String, Value>,
    body: Map<String, Value>,
    custom: Map<String, Value>,
    changes: Vec<FieldChange>,
}

impl<'a> Writer<'a> {
    fn new(
        current_fields: &'a Map<String, Value>,
        names: &'a CustomFieldNames,
        owner: &'a str,
    ) -> Self {
        let record = current_fields
            .get(&names.discovery)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let written = record
            .get("written")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Writer {
            current_fields,
            names,
            owner,
            record,
            written,
            body: Map::new(),
            custom: Map::new(),
            changes: Vec::new(),
        }
    }

    fn write_all(
        &mut self,
        object: &str,
        facts: &std::collections::BTreeMap<Field, Value>,
        current: impl Fn(&Field) -> Value,
        kept: &mut Vec<Kept>,
    ) {
        for (field, observed) in facts {
            let now = current(field);
            if &now == observed {
                continue;
            }
            let ours = self.written.get(&field.key()) == Some(&now);
            if !is_empty(&now) && !ours {
                kept.push(Kept {
                    object: object.to_owned(),
                    field: field.key(),
                    netbox: now,
                    observed: observed.clone(),
                });
                continue;
            }
            self.set(field, now, observed.clone());
            self.written.insert(field.key(), observed.clone());
        }
    }

    fn set(&mut self, field: &Field, from: Value, to: Value) {
        self.changes.push(FieldChange {
            field: field.key(),
            from,
            to: to.clone(),
        });
        match field {
            Field::Native(name) => self.body.insert((*name).to_owned(), to),
            Field::Custom(name) => self.custom.insert(name.clone(), to),
        };
    }

    fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    fn record_seen(&mut self, now: DateTime<Utc>) {
        self.record
            .insert("last_seen".into(), json!(now.to_rfc3339()));
    }

    /// The update, with the owner and the record when anything changed; `None` otherwise.
    fn finish(mut self, kind: ObjectKind, object: String, id: u64) -> Option<Update> {
        let seen_changed = self.record.get("last_seen")
            != self
                .current_fields
                .get(&self.names.discovery)
                .and_then(|r| r.get("last_seen"));
        if self.changes.is_empty() && !seen_changed {
            return None;
        }
        let owner = self.current_fields.get(&self.names.discovered_by);
        if owner.is_none_or(is_empty) {
            let field = Field::Custom(self.names.discovered_by.clone());
            self.set(&field, Value::Null, json!(self.owner));
        }
        self.record
            .insert("written".into(), Value::Object(self.written));
        self.custom
            .insert(self.names.discovery.clone(), Value::Object(self.record));
        self.body.insert("id".into(), json!(id));
        self.body
            .insert("custom_fields".into(), Value::Object(self.custom));
        Some(Update {
            kind,
            object,
            id,
            changes: self.changes,
            body: self.body,
        })
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
