//! `?watch=true`: a stream of `{"type": ..., "object": ...}` lines. Starts from the current
//! state (synthetic ADDED events) when no resourceVersion is given, or resumes after one from
//! the history (an ERROR event with a 410 Expired Status when that history is gone, as the
//! apiserver's watch cache answers). Selectors apply to both the new and the previous object,
//! so an object that stops matching is sent as DELETED. Bookmarks and `timeoutSeconds` follow
//! the apiserver.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use futures::stream::{BoxStream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::read::Filter;
use super::{Reply, Request, table};
use crate::resources::Resource;
use crate::server::ApiServer;
use crate::status::ApiError;
use crate::store::{EventType, StoredEvent};

pub type WatchStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Default watch duration when the client sets no `timeoutSeconds` (the apiserver's
/// `--min-request-timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watcher {
    pending: VecDeque<Value>,
    events: broadcast::Receiver<Arc<StoredEvent>>,
    resource: Arc<Resource>,
    qualified: String,
    namespace: Option<String>,
    filter: Filter,
    /// `Some(includeObject)` when events carry Tables (kubectl get --watch).
    table: Option<String>,
    deadline: Instant,
    bookmark_every: Option<Duration>,
    next_bookmark: Instant,
    last_rv: u64,
    done: bool,
}

impl Watcher {
    fn render(&self, object: &Value) -> Value {
        match &self.table {
            None => object.clone(),
            Some(include) => {
                let rv = object["metadata"]["resourceVersion"].as_str().unwrap_or("");
                table::table_with(&self.resource, std::slice::from_ref(object), rv, include)
            }
        }
    }

    fn event(&self, kind: &str, object: &Value) -> Value {
        json!({"type": kind, "object": self.render(object)})
    }

    fn bookmark(&self, annotations: Option<Value>) -> Value {
        let mut metadata = json!({"resourceVersion": self.last_rv.to_string()});
        if let Some(annotations) = annotations {
            metadata["annotations"] = annotations;
        }
        json!({"type": "BOOKMARK", "object": {
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version(),
            "metadata": metadata,
        }})
    }

    /// The event a watcher with this filter sees for a stored change, if any.
    fn translate(&self, event: &StoredEvent) -> Option<Value> {
        if event.resource != self.qualified {
            return None;
        }
        let scoped = |o: &Value| {
            self.namespace.as_deref().is_none_or(|ns| {
                o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
            }) && self.filter.matches(o)
        };
        let now = scoped(&event.object);
        match event.kind {
            EventType::Added | EventType::Deleted => {
                now.then(|| self.event(event.kind.as_str(), &event.object))
            }
            EventType::Modified => {
                let before = event.previous.as_ref().is_some_and(scoped);
                match (before, now) {
                    (true, true) => Some(self.event("MODIFIED", &event.object)),
                    (false, true) => Some(self.event("ADDED", &event.object)),
                    (true, false) => Some(self.event("DELETED", &event.object)),
                    (false, false) => None,
                }
            }
        }
    }

    async fn next_line(&mut self) -> Option<Value> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(line);
            }
            if self.done {
                return None;
            }
            let bookmark_at = self
                .bookmark_every
                .map(|_| self.next_bookmark)
                .unwrap_or(self.deadline);
            tokio::select! {
                received = self.events.recv() => match received {
                    Ok(event) => {
                        self.last_rv = self.last_rv.max(event.resource_version);
                        if let Some(line) = self.translate(&event) {
                            return Some(line);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // This watcher fell too far behind: like the apiserver, end it with
                        // 410 so the client relists.
                        self.done = true;
                        let status = ApiError::expired(self.last_rv, self.last_rv + 1).to_status();
                        return Some(json!({"type": "ERROR", "object": status}));
                    }
                    Err(broadcast::error::RecvError::Closed) => self.done = true,
                },
                _ = tokio::time::sleep_until(self.deadline) => self.done = true,
                _ = tokio::time::sleep_until(bookmark_at), if self.bookmark_every.is_some() => {
                    self.next_bookmark = Instant::now() + self.bookmark_every.unwrap_or(DEFAULT_TIMEOUT);
                    return Some(self.bookmark(None));
                }
            }
        }
    }
}

pub fn watch(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let resource = request.target.resource.clone();
    let filter = Filter::from_request(request)?;
    let timeout = watch_timeout(request)?;
    let since = watch_since(request)?;
    let send_initial = request.flag("sendInitialEvents");
    let bookmarks = request.flag("allowWatchBookmarks");
    let state = server.store.lock();
    let current = state.resource_version();
    let mut pending = VecDeque::new();
    let qualified = resource.qualified();
    let (backlog, receiver) = match state.watch_from(&qualified, since.unwrap_or(current)) {
        Ok(found) => found,
        Err(expired) => {
            // Like the watch cache: the watch is established, then ends with one ERROR event.
            pending.push_back(json!({"type": "ERROR", "object": expired.to_status()}));
            let (_, receiver) = state.watch_from(&qualified, current)?;
            (vec![], receiver)
        }
    };
    let mut watcher = Watcher {
        pending: VecDeque::new(),
        events: receiver,
        resource: resource.clone(),
        qualified: qualified.clone(),
        namespace: request.target.namespace.clone(),
        filter: filter.clone(),
        table: request.wants_table().then(|| {
            request
                .param("includeObject")
                .unwrap_or("Metadata")
                .to_owned()
        }),
        deadline: Instant::now() + timeout,
        bookmark_every: bookmarks.then_some(server.options.bookmark_interval),
        next_bookmark: Instant::now() + server.options.bookmark_interval,
        last_rv: current,
        done: !pending.is_empty(),
    };
    if pending.is_empty() {
        if since.is_none() || send_initial {
            let initial = state.list(&qualified).map(|(_, object)| object);
            pending.extend(initial_events(
                &watcher,
                initial,
                &filter,
                send_initial && bookmarks,
            ));
        }
        pending.extend(backlog.iter().filter_map(|event| watcher.translate(event)));
    }
    drop(state);
    watcher.pending = pending;
    let stream = futures::stream::unfold(watcher, |mut watcher| async move {
        let line = watcher.next_line().await?;
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        Some((Ok(Bytes::from(bytes)), watcher))
    });
    Ok(Reply::Watch(stream.boxed()))
}

/// `timeoutSeconds`; `0` means "not set", as in the apiserver.
fn watch_timeout(request: &Request) -> Result<Duration, ApiError> {
    match request.param("timeoutSeconds") {
        None | Some("") | Some("0") => Ok(DEFAULT_TIMEOUT),
        Some(text) => text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {text:?}"))),
    }
}

/// `resourceVersion` to watch from; `None` (or `0`) starts with the current objects.
fn watch_since(request: &Request) -> Result<Option<u64>, ApiError> {
    match request.param("resourceVersion") {
        None | Some("") | Some("0") => Ok(None),
        Some(text) => text
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text}"))),
    }
}

/// ADDED events for the current objects the filter selects, then the initial-events-end
/// bookmark when asked for.
fn initial_events<'a>(
    watcher: &Watcher,
    objects: impl Iterator<Item = &'a Value>,
    filter: &Filter,
    end_bookmark: bool,
) -> Vec<Value> {
    let mut events: Vec<Value> = objects
        .filter(|object| filter.matches(object))
        .map(|object| watcher.event("ADDED", object))
        .collect();
    if end_bookmark {
        events.push(watcher.bookmark(Some(json!({"k8s.io/initial-events-end": "true"}))));
    }
    events
}
