//! The object store: one global resourceVersion counter (as etcd's revision), the objects of
//! every resource type, and a bounded history of changes from which watches resume.
//!
//! Every write happens under one lock and publishes its event to the broadcast channel while
//! still holding it, so a watch that snapshots the history and subscribes under the same lock
//! sees every event exactly once, in resourceVersion order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::status::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the history and sent to watchers.
#[derive(Debug)]
pub struct StoredEvent {
    pub resource_version: u64,
    /// [`super::resources::Resource::qualified`] of the object's type.
    pub resource: String,
    pub kind: EventType,
    /// The object after the change (for a delete: as it was, with the delete's resourceVersion).
    pub object: Value,
    /// The object before a modification, so selector watches can tell "left the selection".
    pub previous: Option<Value>,
}

/// Receives every change published after subscribing.
pub type EventReceiver = broadcast::Receiver<Arc<StoredEvent>>;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type ObjectName = (String, String);

pub struct State {
    resource_version: u64,
    objects: HashMap<String, BTreeMap<ObjectName, Value>>,
    history: VecDeque<Arc<StoredEvent>>,
    history_limit: usize,
    /// The newest resourceVersion no longer in the history (0 while nothing was dropped).
    compacted_through: u64,
    events: broadcast::Sender<Arc<StoredEvent>>,
}

pub struct Store {
    state: Mutex<State>,
}

impl Store {
    pub fn new(history_limit: usize) -> Store {
        let (events, _) = broadcast::channel(4096);
        Store {
            state: Mutex::new(State {
                resource_version: 0,
                objects: HashMap::new(),
                history: VecDeque::new(),
                history_limit: history_limit.max(1),
                compacted_through: 0,
                events,
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every write is one insert),
        // so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Reserves the next resourceVersion for a write about to be stored.
    pub fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    pub fn get(&self, resource: &str, key: &ObjectName) -> Option<&Value> {
        self.objects
            .get(resource)
            .and_then(|objects| objects.get(key))
    }

    /// All objects of a type, ordered by namespace then name (the order a real list has).
    pub fn list(&self, resource: &str) -> impl Iterator<Item = (&ObjectName, &Value)> {
        self.objects.get(resource).into_iter().flatten()
    }

    /// Stores `object` (whose resourceVersion the caller set) and publishes the event.
    pub fn put(&mut self, resource: &str, key: ObjectName, object: Value, rv: u64) {
        let previous = self
            .objects
            .entry(resource.to_owned())
            .or_default()
            .insert(key, object.clone());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.publish(resource, kind, object, previous, rv);
    }

    /// Removes an object; `object` is what watchers receive (the last state, new resourceVersion).
    pub fn remove(&mut self, resource: &str, key: &ObjectName, object: Value, rv: u64) {
        if let Some(objects) = self.objects.get_mut(resource) {
            objects.remove(key);
        }
        self.publish(resource, EventType::Deleted, object, None, rv);
    }

    fn publish(
        &mut self,
        resource: &str,
        kind: EventType,
        object: Value,
        previous: Option<Value>,
        rv: u64,
    ) {
        let event = Arc::new(StoredEvent {
            resource_version: rv,
            resource: resource.to_owned(),
            kind,
            object,
            previous,
        });
        self.history.push_back(event.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_through = dropped.resource_version;
            }
        }
        // No receivers is fine: nobody watches.
        let _ = self.events.send(event);
    }

    /// How many watches are open (tests wait for a client's watch before changing things).
    pub fn watchers(&self) -> usize {
        self.events.receiver_count()
    }

    /// Forgets the whole history, as an etcd compaction does (tests use it to provoke 410).
    pub fn compact(&mut self) {
        if let Some(last) = self.history.back() {
            self.compacted_through = last.resource_version;
        }
        self.history.clear();
    }

    /// The events of `resource` after `since`, and a receiver for everything later.
    pub fn watch_from(
        &self,
        resource: &str,
        since: u64,
    ) -> Result<(Vec<Arc<StoredEvent>>, EventReceiver), ApiError> {
        if since < self.compacted_through {
            return Err(ApiError::expired(since, self.compacted_through + 1));
        }
        let backlog = self
            .history
            .iter()
            .filter(|e| e.resource_version > since && e.resource == resource)
            .cloned()
            .collect();
        Ok((backlog, self.events.subscribe()))
    }
}
