//! The recent publishes of this replica (each job's apply or commit and each self-heal), kept
//! in a bounded ring in memory for the web UI's journal. NetBox's journal entries stay the
//! durable record; this one is lost at a restart and never grows past its bound.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::attribution::Credit;
use crate::reconcile::FabricReport;
use crate::targets::{Cause, PublishReport};

/// How many publishes are kept; the oldest go first.
pub const RECENT_PUBLISHES: usize = 200;

/// One publish that changed the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishRecord {
    pub at: DateTime<Utc>,
    pub fabric: String,
    /// `cluster` or `git`.
    pub target: &'static str,
    /// Who and what caused it: `request 4e77… by admin: webhook dcim.device 12 updated`.
    pub cause: String,
    /// The NetBox users whose recorded changes it published, each once.
    pub users: Vec<String>,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    /// Objects the target refused, with its words.
    pub refused: Vec<String>,
    /// The commit made (Git target).
    pub commit: Option<String>,
}

#[derive(Debug, Default)]
pub struct RecentPublishes {
    records: Mutex<VecDeque<PublishRecord>>,
}

impl RecentPublishes {
    /// Keeps a publish that changed or refused something (an unchanged target is not news).
    pub fn record(
        &self,
        fabric: &str,
        target: &'static str,
        cause: &Cause,
        report: &PublishReport,
    ) {
        if !report.changed() && report.failures.is_empty() {
            return;
        }
        let names =
            |keys: &[crate::model::ObjectKey]| keys.iter().map(ToString::to_string).collect();
        let record = PublishRecord {
            at: Utc::now(),
            fabric: fabric.to_owned(),
            target,
            cause: super::describe(cause),
            users: users(cause.user.as_deref(), &cause.credits),
            created: names(&report.created),
            updated: names(&report.updated),
            deleted: names(&report.deleted),
            refused: report
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.key, f.message))
                .collect(),
            commit: report.commit.clone(),
        };
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == RECENT_PUBLISHES {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Keeps what a reconcile's self-heal applied or pruned, if anything.
    pub fn record_heal(&self, target: &'static str, report: &FabricReport) {
        if let Some(healed) = &report.healed {
            let cause = Cause {
                reason: "reconcile: self-heal".into(),
                ..Cause::default()
            };
            self.record(&report.fabric, target, &cause, healed);
        }
    }

    /// The kept publishes, newest first.
    pub fn newest_first(&self) -> Vec<PublishRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.iter().rev().cloned().collect()
    }
}

/// The cause's user and the users of its credited changes, sorted, each once.
fn users(user: Option<&str>, credits: &[Credit]) -> Vec<String> {
    let mut users: Vec<String> = credits
        .iter()
        .flat_map(|c| &c.changes)
        .filter_map(|change| change.user.clone())
        .chain(user.map(str::to_owned))
        .collect();
    users.sort();
    users.dedup();
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, ObjectKey};

    fn report(created: &str) -> PublishReport {
        PublishReport {
            created: vec![ObjectKey {
                kind: Kind::Switch,
                name: created.into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_newest_publishes_up_to_its_bound() {
        let recent = RecentPublishes::default();
        let cause = Cause {
            user: Some("alice".into()),
            reason: "webhook dcim.device 1 updated".into(),
            ..Default::default()
        };
        for n in 0..RECENT_PUBLISHES + 5 {
            recent.record("lab", "cluster", &cause, &report(&format!("leaf-{n}")));
        }
        let kept = recent.newest_first();
        assert_eq!(kept.len(), RECENT_PUBLISHES);
        let newest = format!("Switch/leaf-{}", RECENT_PUBLISHES + 4);
        assert_eq!(kept[0].created, vec![newest]);
        assert_eq!(kept[0].users, vec!["alice".to_owned()]);
        assert_eq!(
            kept.last().unwrap().created,
            vec!["Switch/leaf-5".to_owned()]
        );
    }

    #[test]
    fn a_self_heal_is_kept_as_the_reconciles() {
        let recent = RecentPublishes::default();
        let mut pass = FabricReport::new("lab", "apply", false);
        recent.record_heal("cluster", &pass);
        assert!(recent.newest_first().is_empty(), "nothing healed");
        pass.healed = Some(report("leaf-01"));
        recent.record_heal("cluster", &pass);
        let kept = recent.newest_first();
        assert_eq!(kept[0].cause, "reconcile: self-heal");
        assert_eq!(kept[0].created, vec!["Switch/leaf-01".to_owned()]);
        assert!(kept[0].users.is_empty());
    }

    #[test]
    fn an_unchanged_publish_is_not_kept() {
        let recent = RecentPublishes::default();
        recent.record(
            "lab",
            "cluster",
            &Cause::default(),
            &PublishReport::default(),
        );
        assert!(recent.newest_first().is_empty());
    }
}
