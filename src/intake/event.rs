//! NetBox webhook bodies (4.7 format) and what the sidecar does with each.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::queue::NewJob;
use crate::queue::job::EventData;

/// Object types whose changes can affect a fabric.
pub const HANDLED_OBJECT_TYPES: &[&str] = &[
    "dcim.device",
    "dcim.interface",
    "dcim.cable",
    "dcim.macaddress",
    "ipam.ipaddress",
    "ipam.prefix",
    "ipam.iprange",
    "ipam.vlan",
    "ipam.vlangroup",
    "ipam.vrf",
    "ipam.routetarget",
];

pub const HANDLED_EVENTS: &[&str] = &["created", "updated", "deleted"];

/// A body that is not a NetBox event; the message says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("body is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("not a NetBox event: {0}")]
    NotAnEvent(#[source] serde_json::Error),
    #[error("not a NetBox event: data is not an object: {0}")]
    DataNotAnObject(#[source] serde_json::Error),
    #[error("not a NetBox event: data.id is missing or not an integer")]
    NoObjectId,
}

impl EventError {
    /// The reason label of the rejection (metrics and the answer's `error`).
    pub fn label(&self) -> &'static str {
        match self {
            EventError::NotJson(_) => "not_json",
            _ => "not_an_event",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Body {
    event: String,
    timestamp: String,
    object_type: String,
    /// Kept as text: intake reads only `id` and the fabric (see `DataFields`).
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    request: Option<RequestInfo>,
    /// Kept as text: only read for updates, to recognise the sidecar's own write-backs.
    #[serde(default)]
    snapshots: Option<Snapshots>,
}

#[derive(Debug, Deserialize)]
struct Snapshots {
    #[serde(default)]
    prechange: Option<Box<RawValue>>,
    #[serde(default)]
    postchange: Option<Box<RawValue>>,
}

/// The only parts of `data` intake needs; everything else is skipped, not parsed into values.
#[derive(Deserialize)]
struct DataFields<'a> {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default, borrow)]
    custom_fields: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CustomFields {
    #[serde(default)]
    hedgehog_fabric: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RequestInfo {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

/// What to do with a verified delivery.
#[derive(Debug)]
pub enum Decision {
    Queue(Box<NewJob>),
    /// Accepted but not queued; the reason is a metric label.
    Skip(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    UnhandledEvent,
    UnhandledObjectType,
    /// Made by the sidecar's own NetBox user (a write-back): queuing it would loop.
    OwnUser,
    /// Changed only the fields the sidecar writes back (its status fields), whoever made it:
    /// nothing the fabric is rendered from changed.
    OwnFields,
}

impl SkipReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::UnhandledEvent => "unhandled_event",
            Self::UnhandledObjectType => "unhandled_object_type",
            Self::OwnUser => "own_user",
            Self::OwnFields => "own_fields",
        }
    }
}

/// What intake recognises as the sidecar's own doing, whichever NetBox token made it.
#[derive(Debug, Clone, Default)]
pub struct OwnWrites {
    /// NetBox users whose events are skipped (`webhook.ignore_users`).
    pub users: Vec<String>,
    /// The custom fields only the sidecar writes (status, message, agent health): an update
    /// that changed these and nothing else is a write-back.
    pub fields: BTreeSet<String>,
}

/// Parses a verified body and decides whether it becomes a job.
pub fn decide(body: &[u8], own: &OwnWrites) -> Result<Decision, EventError> {
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            EventError::NotAnEvent(e)
        } else {
            EventError::NotJson(e)
        }
    })?;
    let (request_id, user) = match body.request {
        Some(r) => (r.id, r.user),
        None => (None, None),
    };
    if user.as_ref().is_some_and(|u| own.users.contains(u)) {
        return Ok(Decision::Skip(SkipReason::OwnUser));
    }
    if body.event == "updated" && only_own_fields_changed(body.snapshots.as_ref(), &own.fields) {
        return Ok(Decision::Skip(SkipReason::OwnFields));
    }
    if !HANDLED_EVENTS.contains(&body.event.as_str()) {
        return Ok(Decision::Skip(SkipReason::UnhandledEvent));
    }
    if !HANDLED_OBJECT_TYPES.contains(&body.object_type.as_str()) {
        return Ok(Decision::Skip(SkipReason::UnhandledObjectType));
    }
    let no_id = || EventError::NoObjectId;
    let data = body.data.ok_or_else(no_id)?;
    let fields: DataFields =
        serde_json::from_str(data.get()).map_err(EventError::DataNotAnObject)?;
    let object_id = fields
        .id
        .as_ref()
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(no_id)?;
    let fabric = fields.custom_fields.and_then(fabric_of);
    let dedupe_key = dedupe_key(
        request_id.as_deref(),
        &body.object_type,
        object_id,
        &body.event,
        &body.timestamp,
    );
    Ok(Decision::Queue(Box::new(NewJob {
        key: format!("{}:{object_id}", body.object_type),
        object_type: body.object_type,
        object_id,
        event: body.event,
        request_id,
        user,
        timestamp: body.timestamp,
        data: EventData::from_raw(data),
        fabric,
        dedupe_key,
    })))
}

/// Whether the snapshots show a change, and one to `own` custom fields only. Anything else
/// (no snapshots, unreadable ones, no difference at all) is treated as a real change.
fn only_own_fields_changed(snapshots: Option<&Snapshots>, own: &BTreeSet<String>) -> bool {
    type Fields = serde_json::Map<String, serde_json::Value>;
    let Some(Snapshots {
        prechange: Some(before),
        postchange: Some(after),
    }) = snapshots
    else {
        return false;
    };
    let parse = |raw: &RawValue| serde_json::from_str::<Fields>(raw.get()).ok();
    let (Some(mut before), Some(mut after)) = (parse(before), parse(after)) else {
        return false;
    };
    let custom = |fields: &mut Fields| match fields.remove("custom_fields") {
        Some(serde_json::Value::Object(map)) => map,
        _ => Fields::new(),
    };
    let (custom_before, custom_after) = (custom(&mut before), custom(&mut after));
    for fields in [&mut before, &mut after] {
        fields.remove("last_updated");
    }
    if before != after {
        return false;
    }
    let names: BTreeSet<&String> = custom_before.keys().chain(custom_after.keys()).collect();
    let changed: Vec<&String> = names
        .into_iter()
        .filter(|name| custom_before.get(*name) != custom_after.get(*name))
        .collect();
    !changed.is_empty() && changed.iter().all(|name| own.contains(*name))
}

/// `data.custom_fields.hedgehog_fabric`: a plain string, or `{value, label}` for a select field.
/// Custom fields that are not an object simply name no fabric.
fn fabric_of(custom_fields: &RawValue) -> Option<String> {
    let fields: CustomFields = serde_json::from_str(custom_fields.get()).ok()?;
    let field = fields.hedgehog_fabric?;
    let name = field.as_str().or_else(|| field.get("value")?.as_str())?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Identical redeliveries share request id, object, event and timestamp (NetBox sends no
/// delivery id). Hashed so the key has a fixed size.
fn dedupe_key(
    request_id: Option<&str>,
    object_type: &str,
    object_id: i64,
    event: &str,
    timestamp: &str,
) -> String {
    let mut hash = Sha256::new();
    for part in [request_id.unwrap_or(""), object_type, event, timestamp] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(object_id.to_le_bytes());
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> OwnWrites {
        OwnWrites::default()
    }

    /// An update whose snapshots differ in `before` and `after`'s custom fields (and in
    /// `description` when `described`).
    fn update(before: serde_json::Value, after: serde_json::Value, described: bool) -> Vec<u8> {
        let description = if described { "new" } else { "old" };
        serde_json::json!({
            "event": "updated", "timestamp": "2026-11-22T02:58:17.049736+00:00",
            "object_type": "dcim.device", "data": {"id": 7, "custom_fields": {}},
            "request": {"id": "r-2", "user": "admin"},
            "snapshots": {
                "prechange": {"name": "leaf-01", "description": "old", "custom_fields": before,
                              "last_updated": "2026-11-22T02:58:16Z"},
                "postchange": {"name": "leaf-01", "description": description, "custom_fields": after,
                               "last_updated": "2026-11-22T02:58:17Z"}
            }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_change_to_the_sidecars_own_fields_only_is_skipped_whoever_made_it() {
        let own = OwnWrites {
            users: vec![],
            fields: [
                "hedgehog_status".to_string(),
                "hedgehog_message".to_string(),
            ]
            .into(),
        };
        let queued = |b: Vec<u8>| matches!(decide(&b, &own).unwrap(), Decision::Queue(_));
        let status = serde_json::json!({"hedgehog_fabric": "lab", "hedgehog_status": "drifted", "hedgehog_message": "x"});
        let plain = serde_json::json!({"hedgehog_fabric": "lab", "hedgehog_status": null, "hedgehog_message": null});
        assert!(
            !queued(update(plain.clone(), status.clone(), false)),
            "a status write-back, even with an admin's token"
        );
        assert!(
            queued(update(plain.clone(), status.clone(), true)),
            "a status written with another change"
        );
        let moved = serde_json::json!({"hedgehog_fabric": "prod", "hedgehog_status": "drifted", "hedgehog_message": "x"});
        assert!(
            queued(update(plain.clone(), moved, false)),
            "a field the fabric is rendered from"
        );
        assert!(
            queued(update(plain.clone(), plain, false)),
            "no difference at all: not known to be the sidecar's"
        );
        let mut without_snapshots: serde_json::Value =
            serde_json::from_slice(&update(serde_json::json!({}), status, false)).unwrap();
        without_snapshots
            .as_object_mut()
            .unwrap()
            .remove("snapshots");
        assert!(queued(without_snapshots.to_string().into_bytes()));
    }

    fn body(event: &str, object_type: &str, user: &str) -> Vec<u8> {
        serde_json::json!({
            "event": event, "timestamp": "2026-11-22T02:58:17.049736+00:00",
            "object_type": object_type,
            "data": {"id": 7, "custom_fields": {"hedgehog_fabric": {"value": "lab", "label": "Lab"}}},
            "request": {"id": "r-1", "user": user}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn queues_handled_changes_with_key_fabric_and_dedupe() {
        let Decision::Queue(job) =
            decide(&body("updated", "dcim.device", "admin"), &none()).unwrap()
        else {
            panic!("not queued")
        };
        assert_eq!(job.key, "dcim.device:7");
        assert_eq!(job.fabric.as_deref(), Some("lab"));
        assert_eq!(job.request_id.as_deref(), Some("r-1"));
        let Decision::Queue(again) = decide(&body("updated", "dcim.device", "x"), &none()).unwrap()
        else {
            panic!("not queued")
        };
        assert_eq!(job.dedupe_key, again.dedupe_key);
        let Decision::Queue(other) = decide(&body("deleted", "dcim.device", "x"), &none()).unwrap()
        else {
            panic!("not queued")
        };
        assert_ne!(job.dedupe_key, other.dedupe_key);
    }

    #[test]
    fn skips_what_the_product_does_not_handle() {
        let own = OwnWrites {
            users: vec!["hedgehog-sidecar".into()],
            fields: BTreeSet::new(),
        };
        let skip = |b: Vec<u8>| match decide(&b, &own).unwrap() {
            Decision::Skip(reason) => Some(reason),
            Decision::Queue(_) => None,
        };
        assert_eq!(
            skip(body("updated", "dcim.site", "a")),
            Some(SkipReason::UnhandledObjectType)
        );
        assert_eq!(
            skip(body("job_ended", "dcim.device", "a")),
            Some(SkipReason::UnhandledEvent)
        );
        assert_eq!(
            skip(body("updated", "dcim.device", "hedgehog-sidecar")),
            Some(SkipReason::OwnUser)
        );
    }

    #[test]
    fn explains_bad_bodies() {
        let err = decide(b"{nope", &none()).unwrap_err().to_string();
        assert!(err.starts_with("body is not JSON"), "{err}");
        let err = decide(br#"{"event": "created"}"#, &none())
            .unwrap_err()
            .to_string();
        assert!(err.contains("timestamp"), "{err}");
        let err = decide(
            br#"{"event": "created", "timestamp": "t", "object_type": "dcim.device", "data": {}}"#,
            &none(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("data.id"), "{err}");
        let err = decide(
            br#"{"event": "created", "timestamp": "t", "object_type": "dcim.device", "data": "x"}"#,
            &none(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("data is not an object"), "{err}");
    }
}
