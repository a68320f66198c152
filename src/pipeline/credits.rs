//! A publish's attribution: the recorded NetBox changes credited to each object it changes,
//! the journal entries naming them, and what is remembered for the next publish.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::attribution::{Credit, NetBoxChange, credit, describe_credit, is_credited};
use crate::config::FabricMode;
use crate::model::ObjectKey;
use crate::netbox::types::CustomFields;
use crate::reconcile::engine::{Desired, pruned_comment};
use crate::reconcile::writeback::{JournalEntry, JournalKind};
use crate::reconcile::{SourceMap, SourceRef};
use crate::state::SharedState;
use crate::targets::{Cause, PublishReport};

/// Change-log reads one publish may make to credit removals (see
/// [`History::unexplained_deletions`]).
const MAX_LOGGED_DELETIONS: usize = 20;

/// What a publish reads from the shared state before publishing.
pub(crate) struct History {
    /// Recorded changes not credited yet.
    pub changes: Vec<NetBoxChange>,
    /// What the last publish rendered from which NetBox objects.
    pub sources: SourceMap,
}

impl History {
    /// Attribution is best effort: unreadable shared state credits nothing.
    pub async fn read(shared: &dyn SharedState, fabric: &str) -> Self {
        let changes = shared.changes().await;
        let sources = shared.published_sources(fabric).await;
        if let Err(error) = changes
            .as_ref()
            .map(|_| ())
            .and(sources.as_ref().map(|_| ()))
        {
            tracing::warn!(fabric, %error, "cannot read the changes to credit");
        }
        Self {
            changes: changes.unwrap_or_default(),
            sources: sources.unwrap_or_default(),
        }
    }

    /// `cause` with each object of `desired` (and of the last publish) credited with the
    /// recorded changes of the NetBox objects it is rendered from.
    pub fn credited(&self, cause: &Cause, desired: &Desired) -> Cause {
        let keys: Vec<ObjectKey> = desired
            .manifests
            .iter()
            .filter_map(|m| m.key())
            .chain(self.sources.keys().cloned())
            .collect();
        let mut cause = cause.clone();
        cause.credits = credit(&keys, &[&desired.sources, &self.sources], &self.changes);
        cause.credits.retain(|c| !c.changes.is_empty());
        cause
    }

    /// The NetBox objects, gone from NetBox, that objects this publish removes were rendered
    /// from, when no recorded change explains the removal: the job read NetBox after a
    /// deletion whose webhook has not arrived yet. Each costs a change-log read, so a mass
    /// deletion looks up only the first few.
    pub fn unexplained_deletions(
        &self,
        desired: &Desired,
        current: &BTreeMap<(&'static str, u64), &CustomFields>,
    ) -> Vec<SourceRef> {
        let removed: Vec<&ObjectKey> = self
            .sources
            .keys()
            .filter(|k| !desired.sources.contains_key(*k))
            .collect();
        let credits = credit(removed.iter().copied(), &[&self.sources], &self.changes);
        let gone: BTreeSet<&SourceRef> = credits
            .iter()
            .filter(|c| c.changes.is_empty())
            .flat_map(|c| self.sources.get(&c.key).into_iter().flatten())
            .filter(|s| !current.contains_key(&(s.object_type.as_str(), s.id)))
            .collect();
        gone.into_iter()
            .take(MAX_LOGGED_DELETIONS)
            .cloned()
            .collect()
    }

    /// After a publish: what it rendered from what, and the recorded changes it has read,
    /// forgotten, except those of held-back objects, which are credited when they go out.
    pub async fn remember(
        &self,
        shared: &dyn SharedState,
        fabric: &str,
        desired: &Desired,
        render_started: DateTime<Utc>,
    ) {
        let objects = |map: &SourceMap| -> BTreeSet<(String, u64)> {
            map.values()
                .flatten()
                .map(|r| (r.object_type.clone(), r.id))
                .collect()
        };
        let mut concerned = objects(&desired.sources);
        concerned.extend(objects(&self.sources));
        let held: BTreeSet<(String, u64)> = desired
            .held_back
            .keys()
            .filter_map(|k| desired.sources.get(k))
            .flatten()
            .chain(desired.problems.iter().flat_map(|p| &p.objects))
            .map(|r| (r.object_type.clone(), r.id))
            .collect();
        let read: Vec<NetBoxChange> = self
            .changes
            .iter()
            .filter(|c| c.at < render_started)
            .filter(|c| {
                let object = (c.object_type.clone(), c.object_id);
                concerned.contains(&object) && !held.contains(&object)
            })
            .cloned()
            .collect();
        let forgotten = shared.forget_changes(&read).await;
        // Most publishes render from the same objects as the last: on a large fabric, storing
        // them again would cost each job a write of thousands of entries.
        let stored = if desired.sources == self.sources {
            Ok(())
        } else {
            shared.set_published_sources(fabric, &desired.sources).await
        };
        if let Err(error) = forgotten.and(stored) {
            tracing::warn!(fabric, %error, "cannot record what was published");
        }
    }
}

/// Most objects the fabric's record names in one entry about uncredited changes.
const MAX_NAMED_ON_RECORD: usize = 50;

/// One journal entry per NetBox object whose rendered objects a credited NetBox change
/// changed in the target, naming those changes; and the text for the fabric's record, naming
/// the changed objects no recorded change is credited with (`found`). Such changes are
/// fabric-wide (a cluster behind NetBox, a first publish into an empty one): one entry on the
/// fabric's record says so, instead of one on every NetBox object it touched.
pub(crate) fn change_journal(
    report: &PublishReport,
    sources: &SourceMap,
    mode: FabricMode,
    credits: &[Credit],
    found: &str,
) -> (Vec<JournalEntry>, Option<String>) {
    let verb = match mode {
        FabricMode::Apply => "Applied",
        FabricMode::Commit => "Committed",
    };
    let commit = report
        .commit
        .as_deref()
        .map(|c| format!(" in commit {c}"))
        .unwrap_or_default();
    let mut by_object: BTreeMap<&SourceRef, Vec<String>> = BTreeMap::new();
    let mut uncredited = Vec::new();
    let changes = [("created", &report.created), ("updated", &report.updated)];
    for (what, keys) in changes {
        for key in keys {
            if !is_credited(credits, key) {
                uncredited.push(format!("{key} ({what})"));
                continue;
            }
            let by = describe_credit(credits, key, found);
            for source in sources.get(key).into_iter().flatten() {
                by_object
                    .entry(source)
                    .or_default()
                    .push(format!("{key} ({what}; {by})"));
            }
        }
    }
    let entries = by_object
        .into_iter()
        .map(|(source, changes)| JournalEntry {
            assigned_object_type: source.object_type.clone(),
            assigned_object_id: source.id,
            kind: JournalKind::Success,
            comments: format!("{verb} {}{commit}", changes.join(", ")),
        })
        .collect();
    let on_record = (!uncredited.is_empty()).then(|| {
        let count = uncredited.len();
        let named = uncredited[..count.min(MAX_NAMED_ON_RECORD)].join(", ");
        let more = match count.saturating_sub(MAX_NAMED_ON_RECORD) {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        format!("{verb} {count} objects{commit}, {found}: {named}{more}")
    });
    (entries, on_record)
}

/// Objects a publish removed from the target, journalled on the NetBox objects they were
/// rendered from that still exist (a server whose cable was deleted); and the text for the
/// fabric's record, listing those whose NetBox objects are all gone.
pub(crate) fn prune_journal(
    report: &PublishReport,
    published: &SourceMap,
    current: &BTreeMap<(&'static str, u64), &CustomFields>,
    target: &str,
    credits: &[Credit],
    found: &str,
) -> (Vec<JournalEntry>, Option<String>) {
    // An object pruned only because another one was (a server whose connection's cable was
    // deleted) is put down to the changes credited with the others pruned alongside it.
    let alongside: BTreeSet<String> = report
        .deleted
        .iter()
        .filter(|k| credits.iter().any(|c| &c.key == *k))
        .map(|k| describe_credit(credits, k, found))
        .collect();
    let found = if alongside.is_empty() {
        found.to_owned()
    } else {
        alongside.into_iter().collect::<Vec<_>>().join("; ")
    };
    let found = found.as_str();
    let mut by_object: BTreeMap<&SourceRef, Vec<&ObjectKey>> = BTreeMap::new();
    let mut orphaned = Vec::new();
    for key in &report.deleted {
        let alive: Vec<&SourceRef> = published
            .get(key)
            .into_iter()
            .flatten()
            .filter(|s| current.contains_key(&(s.object_type.as_str(), s.id)))
            .collect();
        if alive.is_empty() {
            orphaned.push(key.clone());
        }
        for source in alive {
            by_object.entry(source).or_default().push(key);
        }
    }
    let entries = by_object
        .into_iter()
        .map(|(source, keys)| {
            let names: Vec<String> = keys
                .iter()
                .map(|k| format!("{k} ({})", describe_credit(credits, k, found)))
                .collect();
            JournalEntry {
                assigned_object_type: source.object_type.clone(),
                assigned_object_id: source.id,
                kind: JournalKind::Info,
                comments: format!(
                    "Pruned from the {target}, no longer rendered from NetBox: {}",
                    names.join(", ")
                ),
            }
        })
        .collect();
    let gone = (!orphaned.is_empty()).then(|| {
        let by: BTreeSet<String> = orphaned
            .iter()
            .map(|k| describe_credit(credits, k, found))
            .collect();
        pruned_comment(
            &orphaned,
            target,
            &by.into_iter().collect::<Vec<_>>().join("; "),
        )
    });
    (entries, gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::state::MemoryState;

    fn sources(id: u64) -> SourceMap {
        let key = ObjectKey {
            kind: Kind::Switch,
            name: "leaf-1".into(),
        };
        let source = SourceRef {
            object_type: "dcim.device".into(),
            id,
            name: "leaf-1".into(),
        };
        [(key, vec![source])].into()
    }

    #[tokio::test]
    async fn what_was_published_is_stored_only_when_it_changed() {
        let shared = MemoryState::default();
        let desired = Desired {
            sources: sources(1),
            ..Desired::default()
        };
        let read = |sources| History {
            changes: Vec::new(),
            sources,
        };
        // Read as the same: nothing is written (the record keeps its value).
        shared
            .set_published_sources("lab", &sources(2))
            .await
            .unwrap();
        read(sources(1))
            .remember(&shared, "lab", &desired, Utc::now())
            .await;
        assert_eq!(shared.published_sources("lab").await.unwrap(), sources(2));
        // Read as different: written.
        read(sources(3))
            .remember(&shared, "lab", &desired, Utc::now())
            .await;
        assert_eq!(shared.published_sources("lab").await.unwrap(), sources(1));
    }
}
