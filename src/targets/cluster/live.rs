//! What the cluster holds of a fabric's rendered kinds, kept by watching them, so a publish
//! plans against it instead of listing every object: on a large fabric, listing every kind
//! costs far more than the change being published. A publish's own writes are laid over the
//! watched objects until the watch reports them, so the publish that follows does not take
//! its predecessor's change for a new one.
//!
//! The view is trusted only while it can be: until every kind's first list is in, and whenever
//! a write of ours has gone unreported for longer than a watch takes, [`LiveView::objects`]
//! says `None` and the publish lists in full. The reconcile always lists in full.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;

use super::Objects;
use crate::model::{Kind, ObjectKey, without_metadata};

/// How long the watch may take to report one of our writes before the view is distrusted.
const REPORT_LIMIT: Duration = Duration::from_secs(10);

/// One fabric's watched objects; the watches stop when it is dropped.
pub(super) struct LiveView {
    watched: Arc<Mutex<Watched>>,
    _watches: Vec<AbortOnDropHandle<()>>,
}

impl LiveView {
    /// Starts a watch of every rendered kind through `api`.
    pub fn start(api: impl Fn(Kind) -> Api<DynamicObject>) -> LiveView {
        let watched = Arc::new(Mutex::new(Watched::default()));
        let watches = Kind::RENDERED
            .into_iter()
            .map(|kind| {
                AbortOnDropHandle::new(tokio::spawn(watch(kind, api(kind), watched.clone())))
            })
            .collect();
        LiveView {
            watched,
            _watches: watches,
        }
    }

    /// Every watched object by key, with our unreported writes laid over them; `None` while
    /// the view cannot be trusted.
    pub fn objects(&self) -> Option<Objects> {
        self.lock().objects(Instant::now())
    }

    /// The cluster answered a write of ours with `object` (`None`: deleted `key`).
    pub fn wrote(&self, key: &ObjectKey, object: Option<&Value>) {
        // Kept as the watch keeps objects.
        let object = object.map(|object| Arc::new(without_metadata(object, &["managedFields"])));
        self.lock().wrote(key, object, Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watched> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Follows one kind's watch (re-listing after a gap, with kube's backoff) into `watched`.
async fn watch(kind: Kind, api: Api<DynamicObject>, watched: Arc<Mutex<Watched>>) {
    // The view is planned against, never sent back: the managed fields, about half of each
    // object, are dropped as objects arrive.
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|object| object.metadata.managed_fields = None)
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => watched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .event(kind, as_json(event)),
            Err(error) => {
                tracing::warn!(kind = kind.as_str(), %error, "watching the cluster: interrupted, resuming");
            }
        }
    }
}

fn as_json(event: watcher::Event<DynamicObject>) -> watcher::Event<Arc<Value>> {
    let json =
        |object: DynamicObject| Arc::new(serde_json::to_value(object).unwrap_or(Value::Null));
    match event {
        watcher::Event::Apply(object) => watcher::Event::Apply(json(object)),
        watcher::Event::Delete(object) => watcher::Event::Delete(json(object)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(object) => watcher::Event::InitApply(json(object)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

/// The watches' objects and our writes they have not reported yet.
#[derive(Default)]
pub(super) struct Watched {
    /// Each kind's objects by name, once its first list is complete.
    kinds: BTreeMap<Kind, BTreeMap<String, Arc<Value>>>,
    /// A kind's objects while its watch lists them again.
    listing: BTreeMap<Kind, BTreeMap<String, Arc<Value>>>,
    unreported: BTreeMap<ObjectKey, Write>,
}

/// A write of ours: the object as the cluster answered (`None`: deleted), and when.
pub(super) struct Write {
    object: Option<Arc<Value>>,
    at: Instant,
}

fn name(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub(super) fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// `seen` is `written` or a later state of it. resourceVersions are opaque in general but
/// numeric on every API server the sidecar talks to; otherwise only equality counts.
fn at_least(seen: &Value, written: &Value) -> bool {
    match (resource_version(seen), resource_version(written)) {
        (Some(seen), Some(written)) => match (seen.parse::<u64>(), written.parse::<u64>()) {
            (Ok(seen), Ok(written)) => seen >= written,
            _ => seen == written,
        },
        _ => false,
    }
}

impl Write {
    /// The watch now shows `seen` (`None`: the object is gone): does it show this write?
    fn reported_by(&self, seen: Option<&Arc<Value>>) -> bool {
        match (&self.object, seen) {
            (Some(written), Some(seen)) => at_least(seen, written),
            (None, None) => true,
            // Gone after our apply (see `settle_deleted`), or listed before it: not known.
            (Some(_), None) | (None, Some(_)) => false,
        }
    }
}

impl Watched {
    pub(super) fn event(&mut self, kind: Kind, event: watcher::Event<Arc<Value>>) {
        match event {
            watcher::Event::Apply(object) => {
                let Some(name) = name(&object) else { return };
                self.settle(kind, &name, Some(&object));
                self.kinds.entry(kind).or_default().insert(name, object);
            }
            watcher::Event::Delete(object) => {
                let Some(name) = name(&object) else { return };
                self.settle_deleted(kind, &name, &object);
                if let Some(objects) = self.kinds.get_mut(&kind) {
                    objects.remove(&name);
                }
            }
            watcher::Event::Init => {
                self.listing.insert(kind, BTreeMap::new());
            }
            watcher::Event::InitApply(object) => {
                if let Some(name) = name(&object) {
                    self.listing.entry(kind).or_default().insert(name, object);
                }
            }
            watcher::Event::InitDone => {
                let listed = self.listing.remove(&kind).unwrap_or_default();
                self.unreported.retain(|key, write| {
                    key.kind != kind || !write.reported_by(listed.get(&key.name))
                });
                self.kinds.insert(kind, listed);
            }
        }
    }

    /// Forgets our write of `kind` `name` once the watch shows it.
    fn settle(&mut self, kind: Kind, name: &str, seen: Option<&Arc<Value>>) {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        if self
            .unreported
            .get(&key)
            .is_some_and(|write| write.reported_by(seen))
        {
            self.unreported.remove(&key);
        }
    }

    /// A deletion settles our delete, and an apply of ours it came after.
    fn settle_deleted(&mut self, kind: Kind, name: &str, deleted: &Value) {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        let settled = self
            .unreported
            .get(&key)
            .is_some_and(|write| match &write.object {
                None => true,
                Some(written) => at_least(deleted, written),
            });
        if settled {
            self.unreported.remove(&key);
        }
    }

    /// Lays our write over the view, unless the watch, being quick, reported it already.
    pub(super) fn wrote(&mut self, key: &ObjectKey, object: Option<Arc<Value>>, now: Instant) {
        let write = Write { object, at: now };
        let seen = self.kinds.get(&key.kind).and_then(|o| o.get(&key.name));
        if self.kinds.contains_key(&key.kind) && write.reported_by(seen) {
            self.unreported.remove(key);
        } else {
            self.unreported.insert(key.clone(), write);
        }
    }

    /// `None` until every kind is listed, and once when writes went unreported too long
    /// (they are forgotten: the publish lists in full, which shows them).
    pub(super) fn objects(&mut self, now: Instant) -> Option<Objects> {
        if Kind::RENDERED
            .iter()
            .any(|kind| !self.kinds.contains_key(kind))
        {
            return None;
        }
        let overdue = |write: &Write| now.duration_since(write.at) > REPORT_LIMIT;
        if self.unreported.values().any(overdue) {
            tracing::warn!(limit = ?REPORT_LIMIT,
                "the cluster's watch has not reported writes in time; listing in full");
            self.unreported.retain(|_, write| !overdue(write));
            return None;
        }
        let mut objects: Objects = self
            .kinds
            .iter()
            .flat_map(|(kind, objects)| {
                objects.iter().map(|(name, object)| {
                    let key = ObjectKey {
                        kind: *kind,
                        name: name.clone(),
                    };
                    (key, object.clone())
                })
            })
            .collect();
        for (key, write) in &self.unreported {
            match &write.object {
                Some(object) => objects.insert(key.clone(), object.clone()),
                None => objects.remove(key),
            };
        }
        Some(objects)
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
