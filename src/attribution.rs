//! Which NetBox changes a rendered object's change comes from.
//!
//! Intake records every NetBox change it queues (request id, user, time, object). A publish
//! credits each rendered object it changes with the recorded changes of the NetBox objects that
//! object is rendered from, so journal entries and commit messages name exactly the requests
//! that changed it, even when one publish carries several users' changes. A change whose
//! objects are held back stays recorded until they are published, and is credited then.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ObjectKey;
use crate::reconcile::SourceMap;

/// One NetBox change, as its webhook told it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NetBoxChange {
    /// When NetBox made the change (the webhook's `timestamp`).
    pub at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub user: Option<String>,
    /// The changed object: `dcim.device`, `ipam.prefix`, ...
    pub object_type: String,
    pub object_id: u64,
}

impl NetBoxChange {
    /// The change a webhook (or the job made of it) tells of; `None` for an object id NetBox
    /// never uses (negative). An unreadable timestamp counts as now.
    pub fn new(
        object_type: &str,
        object_id: i64,
        request_id: Option<&str>,
        user: Option<&str>,
        timestamp: &str,
    ) -> Option<Self> {
        Some(Self {
            at: DateTime::parse_from_rfc3339(timestamp)
                .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc)),
            request_id: request_id.map(str::to_owned),
            user: user.map(str::to_owned),
            object_type: object_type.to_owned(),
            object_id: u64::try_from(object_id).ok()?,
        })
    }

    /// `request 4e77… by alice at 2026-11-22T02:30:10Z`.
    pub fn describe(&self) -> String {
        let mut text = match &self.request_id {
            Some(id) => format!("request {id}"),
            None => format!("a change of {} {}", self.object_type, self.object_id),
        };
        if let Some(user) = &self.user {
            text.push_str(&format!(" by {user}"));
        }
        text.push_str(&format!(
            " at {}",
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        text
    }

    /// A stable identity, so the same change recorded twice (a redelivery) is kept once.
    pub fn id(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.object_type,
            self.object_id,
            self.request_id.as_deref().unwrap_or("-"),
            self.at.timestamp_micros()
        )
    }

    fn concerns(&self, sources: &[&SourceMap], key: &ObjectKey) -> bool {
        sources.iter().any(|map| {
            map.get(key).is_some_and(|refs| {
                refs.iter()
                    .any(|r| r.object_type == self.object_type && r.id == self.object_id)
            })
        })
    }
}

/// The NetBox changes credited with one rendered object's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credit {
    pub key: ObjectKey,
    pub changes: Vec<NetBoxChange>,
}

/// For each of `keys`, the recorded changes of the NetBox objects it is rendered from
/// (`sources`: the current render's, and the last published one's for objects that are gone).
pub fn credit<'a>(
    keys: impl IntoIterator<Item = &'a ObjectKey>,
    sources: &[&SourceMap],
    changes: &[NetBoxChange],
) -> Vec<Credit> {
    keys.into_iter()
        .map(|key| Credit {
            key: key.clone(),
            changes: changes
                .iter()
                .filter(|c| c.concerns(sources, key))
                .cloned()
                .collect(),
        })
        .collect()
}

/// Whether a recorded NetBox change is credited with `key`.
pub(crate) fn is_credited(credits: &[Credit], key: &ObjectKey) -> bool {
    credits
        .iter()
        .any(|c| &c.key == key && !c.changes.is_empty())
}

/// The changes credited to `key`, described; `found` says where an uncredited change came
/// from ("reconcile: self-heal", or that no NetBox change was recorded for it).
pub(crate) fn describe_credit(credits: &[Credit], key: &ObjectKey, found: &str) -> String {
    let changes: BTreeSet<&NetBoxChange> = credits
        .iter()
        .filter(|c| &c.key == key)
        .flat_map(|c| &c.changes)
        .collect();
    if changes.is_empty() {
        return found.to_owned();
    }
    changes
        .iter()
        .map(|c| c.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What an uncredited change of a publish caused by `reason` is put down to.
pub(crate) fn found_by(reason: &str) -> String {
    if reason.starts_with("reconcile") {
        format!("found by the reconcile ({reason})")
    } else {
        format!("no NetBox change was recorded for it ({reason})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::SourceRef;
    use crate::model::Kind;

    fn change(id: u64, request: &str) -> NetBoxChange {
        NetBoxChange {
            at: "2026-11-22T02:30:10Z".parse().unwrap(),
            request_id: Some(request.into()),
            user: Some("alice".into()),
            object_type: "dcim.device".into(),
            object_id: id,
        }
    }

    fn switch(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    #[test]
    fn each_object_is_credited_with_the_changes_of_its_own_sources() {
        let device = |id| SourceRef {
            object_type: "dcim.device".into(),
            id,
            name: format!("d{id}"),
        };
        let current: SourceMap = [
            (switch("leaf-01"), vec![device(1)]),
            (switch("leaf-03"), vec![device(3)]),
        ]
        .into();
        let before: SourceMap = [(switch("gone"), vec![device(9)])].into();
        let changes = [change(1, "r1"), change(3, "r3"), change(9, "r9")];
        let keys = [switch("leaf-01"), switch("leaf-03"), switch("gone")];
        let credits = credit(&keys, &[&current, &before], &changes);
        let requests: Vec<Vec<&str>> = credits
            .iter()
            .map(|c| {
                c.changes
                    .iter()
                    .filter_map(|c| c.request_id.as_deref())
                    .collect()
            })
            .collect();
        assert_eq!(requests, [vec!["r1"], vec!["r3"], vec!["r9"]]);
        assert_eq!(
            describe_credit(&credits, &switch("leaf-01"), "-"),
            "request r1 by alice at 2026-11-22T02:30:10Z"
        );
        let none = credit(&[switch("leaf-01")], &[&current], &[]);
        assert_eq!(
            describe_credit(&none, &switch("leaf-01"), &found_by("reconcile: self-heal")),
            "found by the reconcile (reconcile: self-heal)"
        );
    }
}
