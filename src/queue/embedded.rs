//! The embedded on-disk queue for a single process (no Redis): every job is one redb record,
//! the indexes (order, coalescing, per-object locks) are rebuilt in memory when it opens.
//! Each operation updates memory and writes the changed records in one transaction; a failed
//! write reloads memory from disk so the two never drift apart. A job's body (the object
//! NetBox sent, up to the webhook's body limit) is only on disk: memory holds everything else,
//! so a backlog takes file space, not the process's memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::backend::{
    CorruptError, EnqueueOutcome, JobQueue, Lease, QueueError, QueueStats, StoreError,
};
use super::job::{EventData, Job, JobState, NewJob, new_job_id};

/// Job id → the job with `null` in place of its body.
const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
/// Job id → the job's body (its `data`, as NetBox sent it).
const BODIES: TableDefinition<&str, &[u8]> = TableDefinition::new("bodies");
/// Dedupe key → `"<expiry ms>:<job id>"`.
const DEDUPE: TableDefinition<&str, &str> = TableDefinition::new("dedupe");

/// Purge expired dedupe keys every this many enqueues.
const DEDUPE_PURGE_EVERY: u64 = 1024;

/// Once this many jobs have been removed since the last compaction and the queue has drained
/// to at most [`DRAINED`] jobs, the file is compacted and the in-memory indexes shrunk: a
/// backlog leaves neither a large file nor a large heap behind.
const COMPACT_AFTER_REMOVED: u64 = 10_000;
const DRAINED: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Slot {
    Queued { seq: u64 },
    Running { until_ms: u64, token: String },
    Retrying { due_ms: u64 },
    Dead { at_ms: u64 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    job: Job,
    dedupe_key: String,
    slot: Slot,
}

/// Sequence numbers start high so handed-back jobs can be put in front of the queue.
const FIRST_SEQ: u64 = 1 << 40;

struct State {
    jobs: HashMap<String, Stored>,
    /// Queued jobs in arrival order.
    queued: BTreeMap<u64, String>,
    /// Key → the queued job later events for that key merge into.
    pending: HashMap<String, String>,
    /// Key → the job running or waiting to retry: it blocks later jobs for the key.
    active: HashMap<String, String>,
    /// Dedupe key → (job id, expiry ms).
    dedupe: HashMap<String, (String, u64)>,
    next_seq: u64,
    enqueued_since_purge: u64,
    removed_since_compact: u64,
}

/// Records an operation changed, to be written in one transaction.
#[derive(Default)]
struct Changes {
    jobs: HashSet<String>,
    /// Bodies of new and merged jobs, moved out of memory into the file.
    bodies: Vec<(String, EventData)>,
    dedupe_set: Vec<String>,
    dedupe_removed: Vec<String>,
    durable: bool,
}

/// redb's page cache. Its default (1 GiB) kept a drained backlog's pages resident for the
/// process's life; jobs are read about once each, so a small cache costs little.
const PAGE_CACHE_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct EmbeddedQueue {
    inner: Arc<Inner>,
}

struct Inner {
    /// Locked after `state`, never before.
    db: Mutex<Database>,
    state: Mutex<State>,
    notify: Notify,
    visibility: Duration,
    dedupe_ttl: Duration,
    /// Most jobs waiting for a worker; new ones past it are refused.
    max_queued: usize,
    compact_after_removed: u64,
}

impl Inner {
    /// The database, for an operation that holds the state's lock.
    fn db(&self) -> Result<std::sync::MutexGuard<'_, Database>, QueueError> {
        self.db
            .lock()
            .map_err(|_| StoreError::Poisoned("database").into())
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn storage(e: impl Into<redb::Error>) -> QueueError {
    QueueError::Unavailable(StoreError::Embedded(Arc::new(e.into())))
}

/// A failed file operation of the queue's directory or file.
fn file_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> QueueError {
    move |e| {
        QueueError::Unavailable(StoreError::File {
            action,
            path: path.to_owned(),
            source: Arc::new(e),
        })
    }
}

impl EmbeddedQueue {
    /// Opens (or creates) the queue in `dir`. Fails if another process has it open.
    pub fn open(
        dir: &Path,
        visibility: Duration,
        dedupe_ttl: Duration,
        max_queued: usize,
    ) -> Result<Self, QueueError> {
        Self::open_tuned(
            dir,
            visibility,
            dedupe_ttl,
            max_queued,
            COMPACT_AFTER_REMOVED,
        )
    }

    fn open_tuned(
        dir: &Path,
        visibility: Duration,
        dedupe_ttl: Duration,
        max_queued: usize,
        compact_after_removed: u64,
    ) -> Result<Self, QueueError> {
        create_private_dir(dir).map_err(file_error("create", dir))?;
        let path = dir.join("queue.redb");
        let db = Database::builder()
            .set_cache_size(PAGE_CACHE_BYTES)
            .create(&path)
            .map_err(|e| {
                QueueError::from(StoreError::Open {
                    path: path.clone(),
                    source: Arc::new(e),
                })
            })?;
        make_private(&path).map_err(file_error("restrict", &path))?;
        let state = load(&db)?;
        Ok(Self {
            inner: Arc::new(Inner {
                db: Mutex::new(db),
                state: Mutex::new(state),
                notify: Notify::new(),
                visibility,
                dedupe_ttl,
                max_queued,
                compact_after_removed,
            }),
        })
    }

    /// Runs `op` as [`Self::with_state`] does, then wakes the workers waiting for a job.
    async fn change_and_wake(
        &self,
        op: impl FnOnce(&mut State, &mut Changes, &Inner) -> Result<(), QueueError> + Send + 'static,
    ) -> Result<(), QueueError> {
        self.with_state(op).await?;
        self.inner.notify.notify_waiters();
        Ok(())
    }

    /// Runs `op` on the state off the async threads (redb writes block on fsync).
    async fn with_state<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut State, &mut Changes, &Inner) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = inner
                .state
                .lock()
                .map_err(|_| QueueError::from(StoreError::Poisoned("state")))?;
            let mut changes = Changes {
                durable: true,
                ..Changes::default()
            };
            let result = op(&mut state, &mut changes, &inner)?;
            let mut db = inner.db()?;
            if let Err(e) = write(&db, &state, &changes) {
                // Memory is ahead of the disk now; the disk is the truth.
                *state = load(&db).unwrap_or_else(|_| State::new());
                return Err(e);
            }
            if state.removed_since_compact >= inner.compact_after_removed
                && state.jobs.len() <= DRAINED
            {
                compact(&mut db, &mut state);
            }
            Ok(result)
        })
        .await
        .map_err(|e| QueueError::from(StoreError::Task(Arc::new(e))))?
    }

    fn lease_slot<'a>(state: &'a mut State, lease: &Lease) -> Result<&'a mut Stored, QueueError> {
        match state.jobs.get_mut(&lease.job.id) {
            Some(stored) if matches!(&stored.slot, Slot::Running { token, .. } if *token == lease.token) => {
                Ok(stored)
            }
            _ => Err(QueueError::LeaseLost {
                job_id: lease.job.id.clone(),
            }),
        }
    }
}

/// Creates `dir` (and its parents) readable by this user only: the queue holds NetBox payloads.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the queue file readable and writable by this user only, however it was created.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn load(db: &Database) -> Result<State, QueueError> {
    let (state, inline_bodies) = read_state(db)?;
    if !inline_bodies.is_empty() {
        move_bodies_out(db, &state, inline_bodies)?;
    }
    Ok(state)
}

/// Files written before bodies had their own table hold them inside the job's record: they
/// move to [`BODIES`] once, so memory never holds them.
fn move_bodies_out(
    db: &Database,
    state: &State,
    bodies: Vec<(String, EventData)>,
) -> Result<(), QueueError> {
    let changes = Changes {
        jobs: bodies.iter().map(|(id, _)| id.clone()).collect(),
        bodies,
        durable: true,
        ..Changes::default()
    };
    write(db, state, &changes)
}

/// The state as the file holds it, and the bodies found inside job records (taken out of them).
fn read_state(db: &Database) -> Result<(State, Vec<(String, EventData)>), QueueError> {
    let mut state = State::new();
    let mut interrupted = Vec::new();
    let mut inline_bodies = Vec::new();
    let txn = db.begin_read().map_err(storage)?;
    let now = now_ms();
    match txn.open_table(JOBS) {
        Ok(table) => {
            for row in table.iter().map_err(storage)? {
                let (id, bytes) = row.map_err(storage)?;
                let mut stored: Stored =
                    serde_json::from_slice(bytes.value()).map_err(|e| CorruptError::Job {
                        id: id.value().to_owned(),
                        source: Arc::new(e),
                    })?;
                if stored.job.data.get() != "null" {
                    inline_bodies.push((stored.job.id.clone(), take_body(&mut stored.job)));
                }
                // The process that held it is gone: it runs again first.
                let was_running = matches!(stored.slot, Slot::Running { .. });
                if was_running {
                    // Indexed as nothing for now; requeue_front places it below.
                    stored.slot = Slot::Dead { at_ms: 0 };
                    interrupted.push(stored.job.id.clone());
                }
                index(&mut state, &stored);
                state.jobs.insert(stored.job.id.clone(), stored);
            }
            for id in interrupted {
                state.requeue_front(&id);
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(storage(e)),
    }
    match txn.open_table(DEDUPE) {
        Ok(table) => {
            for row in table.iter().map_err(storage)? {
                let (key, value) = row.map_err(storage)?;
                if let Some((expiry, id)) = value.value().split_once(':')
                    && let Ok(expiry) = expiry.parse::<u64>()
                    && expiry > now
                {
                    state
                        .dedupe
                        .insert(key.value().to_owned(), (id.to_owned(), expiry));
                }
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(storage(e)),
    }
    Ok((state, inline_bodies))
}

/// Moves a job's body out, leaving `null` in its place.
fn take_body(job: &mut Job) -> EventData {
    std::mem::replace(&mut job.data, EventData::null())
}

/// Puts the bodies of `jobs` back from the file.
fn with_bodies(db: &Database, jobs: &mut [Job]) -> Result<(), QueueError> {
    let txn = db.begin_read().map_err(storage)?;
    let table = match txn.open_table(BODIES) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(storage(e)),
    };
    for job in jobs {
        if let Some(body) = table.get(job.id.as_str()).map_err(storage)? {
            job.data = serde_json::from_slice(body.value()).map_err(|e| CorruptError::Body {
                id: job.id.clone(),
                source: Arc::new(e),
            })?;
        }
    }
    Ok(())
}

/// Gives back what a drained backlog left: file pages and index capacity.
fn compact(db: &mut Database, state: &mut State) {
    state.removed_since_compact = 0;
    state.jobs.shrink_to_fit();
    state.pending.shrink_to_fit();
    state.active.shrink_to_fit();
    state.dedupe.shrink_to_fit();
    match db.compact() {
        Ok(_) => tracing::debug!("embedded queue compacted"),
        // Only space is at stake; the next drained backlog tries again.
        Err(error) => tracing::warn!(%error, "cannot compact the embedded queue's file"),
    }
}

fn index(state: &mut State, stored: &Stored) {
    let (id, key) = (&stored.job.id, &stored.job.key);
    match stored.slot {
        Slot::Queued { seq } => {
            state.queued.insert(seq, id.clone());
            // Later events merge into the newest queued job of the key.
            let newer = match state.pending.get(key).and_then(|p| state.jobs.get(p)) {
                Some(Stored {
                    slot: Slot::Queued { seq: current },
                    ..
                }) => seq > *current,
                _ => true,
            };
            if newer {
                state.pending.insert(key.clone(), id.clone());
            }
            state.next_seq = state.next_seq.max(seq + 1);
        }
        Slot::Running { .. } | Slot::Retrying { .. } => {
            state.active.insert(key.clone(), id.clone());
        }
        Slot::Dead { .. } => {}
    }
}

fn write(db: &Database, state: &State, changes: &Changes) -> Result<(), QueueError> {
    if changes.jobs.is_empty() && changes.dedupe_set.is_empty() && changes.dedupe_removed.is_empty()
    {
        return Ok(());
    }
    let mut txn = db.begin_write().map_err(storage)?;
    let durability = if changes.durable {
        Durability::Immediate
    } else {
        // Heartbeats: losing one in a crash changes nothing (the process is gone anyway).
        Durability::None
    };
    txn.set_durability(durability).map_err(storage)?;
    {
        let mut jobs = txn.open_table(JOBS).map_err(storage)?;
        let mut bodies = txn.open_table(BODIES).map_err(storage)?;
        for (id, body) in &changes.bodies {
            bodies
                .insert(id.as_str(), body.get().as_bytes())
                .map_err(storage)?;
        }
        for id in &changes.jobs {
            match state.jobs.get(id) {
                Some(stored) => {
                    let bytes = serde_json::to_vec(stored)
                        .map_err(|e| QueueError::from(CorruptError::Encode(Arc::new(e))))?;
                    jobs.insert(id.as_str(), bytes.as_slice())
                        .map_err(storage)?;
                }
                None => {
                    jobs.remove(id.as_str()).map_err(storage)?;
                    bodies.remove(id.as_str()).map_err(storage)?;
                }
            }
        }
        let mut dedupe = txn.open_table(DEDUPE).map_err(storage)?;
        for key in &changes.dedupe_set {
            if let Some((id, expiry)) = state.dedupe.get(key) {
                dedupe
                    .insert(key.as_str(), format!("{expiry}:{id}").as_str())
                    .map_err(storage)?;
            }
        }
        for key in &changes.dedupe_removed {
            dedupe.remove(key.as_str()).map_err(storage)?;
        }
    }
    txn.commit().map_err(storage)
}

impl State {
    fn new() -> Self {
        Self {
            jobs: HashMap::new(),
            queued: BTreeMap::new(),
            pending: HashMap::new(),
            active: HashMap::new(),
            dedupe: HashMap::new(),
            next_seq: FIRST_SEQ,
            enqueued_since_purge: 0,
            removed_since_compact: 0,
        }
    }

    /// Puts a job that was running back at the head of the queue (hand-back, crash).
    fn requeue_front(&mut self, id: &str) {
        let seq = self
            .queued
            .first_key_value()
            .map_or(FIRST_SEQ, |(seq, _)| *seq)
            .saturating_sub(1);
        let Some(stored) = self.jobs.get_mut(id) else {
            return;
        };
        stored.slot = Slot::Queued { seq };
        let key = stored.job.key.clone();
        self.queued.insert(seq, id.to_owned());
        self.release_key(&key, id);
    }

    fn enqueue(
        &mut self,
        new: NewJob,
        now: u64,
        ttl_ms: u64,
        max_queued: usize,
        changes: &mut Changes,
    ) -> EnqueueOutcome {
        if let Some((id, expiry)) = self.dedupe.get(&new.dedupe_key)
            && *expiry > now
        {
            return EnqueueOutcome::Duplicate(id.clone());
        }
        let dedupe_key = new.dedupe_key.clone();
        let outcome = match self.pending.get(&new.key).cloned() {
            Some(id) => {
                if let Some(stored) = self.jobs.get_mut(&id) {
                    let (attempts, last_error) =
                        (stored.job.attempts, stored.job.last_error.take());
                    stored.dedupe_key = new.dedupe_key.clone();
                    stored.job = Job::from_parts(id.clone(), new, attempts, last_error);
                    changes
                        .bodies
                        .push((id.clone(), take_body(&mut stored.job)));
                }
                changes.jobs.insert(id.clone());
                EnqueueOutcome::Coalesced(id)
            }
            None if self.queued.len() >= max_queued => {
                // No dedupe mark: the redelivery after the 503 must be taken.
                return EnqueueOutcome::Full(max_queued);
            }
            None => {
                let id = new_job_id();
                let seq = self.next_seq;
                self.next_seq += 1;
                let mut job = Job::from_parts(id.clone(), new, 0, None);
                changes.bodies.push((id.clone(), take_body(&mut job)));
                let stored = Stored {
                    dedupe_key: dedupe_key.clone(),
                    job,
                    slot: Slot::Queued { seq },
                };
                index(self, &stored);
                self.jobs.insert(id.clone(), stored);
                changes.jobs.insert(id.clone());
                EnqueueOutcome::Queued(id)
            }
        };
        self.dedupe.insert(
            dedupe_key.clone(),
            (outcome.job_id().to_owned(), now + ttl_ms),
        );
        changes.dedupe_set.push(dedupe_key);
        outcome
    }

    fn purge_dedupe(&mut self, now: u64, changes: &mut Changes) {
        self.dedupe.retain(|key, (_, expiry)| {
            let keep = *expiry > now;
            if !keep {
                changes.dedupe_removed.push(key.clone());
            }
            keep
        });
    }

    /// The next job a worker may run: a retry that is due or a job whose worker went silent,
    /// else the oldest queued job whose key is free.
    fn next_runnable(&self, now: u64) -> Option<String> {
        let overdue = self.active.values().find(|id| {
            matches!(self.jobs.get(*id).map(|s| &s.slot),
                Some(Slot::Retrying { due_ms }) if *due_ms <= now)
                || matches!(self.jobs.get(*id).map(|s| &s.slot),
                Some(Slot::Running { until_ms, .. }) if *until_ms <= now)
        });
        if let Some(id) = overdue {
            return Some(id.clone());
        }
        let mut blocked: HashSet<&str> = HashSet::new();
        for id in self.queued.values() {
            let key = self.jobs.get(id)?.job.key.as_str();
            if self.active.contains_key(key) || !blocked.insert(key) {
                continue;
            }
            return Some(id.clone());
        }
        None
    }

    /// When something not runnable now becomes runnable by itself (a retry or a lease expiry).
    fn next_due(&self) -> Option<u64> {
        self.active
            .values()
            .filter_map(|id| match self.jobs.get(id).map(|s| &s.slot) {
                Some(Slot::Retrying { due_ms }) => Some(*due_ms),
                Some(Slot::Running { until_ms, .. }) => Some(*until_ms),
                _ => None,
            })
            .min()
    }

    fn start(&mut self, id: &str, until_ms: u64, changes: &mut Changes) -> Option<Lease> {
        let stored = self.jobs.get_mut(id)?;
        if let Slot::Queued { seq } = stored.slot {
            self.queued.remove(&seq);
            if self.pending.get(&stored.job.key).is_some_and(|p| p == id) {
                self.pending.remove(&stored.job.key);
            }
        }
        self.active.insert(stored.job.key.clone(), id.to_owned());
        let token = new_job_id();
        stored.slot = Slot::Running {
            until_ms,
            token: token.clone(),
        };
        stored.job.attempts += 1;
        // Durable, so a job that crashes the process still counts its attempts.
        changes.jobs.insert(id.to_owned());
        Some(Lease {
            job: stored.job.clone(),
            consumer: String::new(),
            token,
        })
    }

    fn release_key(&mut self, key: &str, id: &str) {
        if self.active.get(key).is_some_and(|a| a == id) {
            self.active.remove(key);
        }
    }

    fn state_of(slot: &Slot) -> JobState {
        match slot {
            Slot::Queued { .. } => JobState::Queued,
            Slot::Running { .. } => JobState::Running,
            Slot::Retrying { .. } => JobState::Retrying,
            Slot::Dead { .. } => JobState::Dead,
        }
    }
}

#[async_trait]
impl JobQueue for EmbeddedQueue {
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>, QueueError> {
        let outcomes = self
            .with_state(move |state, changes, inner| {
                let now = now_ms();
                let (ttl, max) = (inner.dedupe_ttl.as_millis() as u64, inner.max_queued);
                state.enqueued_since_purge += jobs.len() as u64;
                if state.enqueued_since_purge >= DEDUPE_PURGE_EVERY {
                    state.enqueued_since_purge = 0;
                    state.purge_dedupe(now, changes);
                }
                Ok(jobs
                    .into_iter()
                    .map(|job| state.enqueue(job, now, ttl, max, changes))
                    .collect::<Vec<_>>())
            })
            .await?;
        self.inner.notify.notify_waiters();
        Ok(outcomes)
    }

    async fn claim(&self, consumer: &str, wait: Duration) -> Result<Option<Lease>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (lease, next_due) = self
                .with_state(|state, changes, inner| {
                    let now = now_ms();
                    let until = now + inner.visibility.as_millis() as u64;
                    let mut lease = state
                        .next_runnable(now)
                        .and_then(|id| state.start(&id, until, changes));
                    if let Some(lease) = &mut lease {
                        let db = inner.db()?;
                        with_bodies(&db, std::slice::from_mut(&mut lease.job))?;
                    }
                    Ok((lease, state.next_due()))
                })
                .await?;
            if let Some(mut lease) = lease {
                lease.consumer = consumer.to_owned();
                return Ok(Some(lease));
            }
            let mut until = deadline;
            if let Some(due) = next_due {
                let in_ms = due.saturating_sub(now_ms());
                until = until.min(tokio::time::Instant::now() + Duration::from_millis(in_ms));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<(), QueueError> {
        let lease = lease.clone();
        self.change_and_wake(move |state, changes, inner| {
            let stored = Self::lease_slot(state, &lease)?;
            if let Slot::Running { until_ms, .. } = &mut stored.slot {
                *until_ms = now_ms() + inner.visibility.as_millis() as u64;
            }
            changes.jobs.insert(lease.job.id.clone());
            changes.durable = false;
            Ok(())
        })
        .await
    }

    async fn ack(&self, lease: &Lease) -> Result<(), QueueError> {
        let lease = lease.clone();
        self.with_state(move |state, changes, _| {
            Self::lease_slot(state, &lease)?;
            state.jobs.remove(&lease.job.id);
            state.removed_since_compact += 1;
            state.release_key(&lease.job.key, &lease.job.id);
            changes.jobs.insert(lease.job.id.clone());
            Ok(())
        })
        .await
    }

    async fn retry_later(
        &self,
        lease: &Lease,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let (lease, error) = (lease.clone(), error.to_owned());
        self.change_and_wake(move |state, changes, _| {
            let stored = Self::lease_slot(state, &lease)?;
            stored.slot = Slot::Retrying {
                due_ms: now_ms() + delay.as_millis() as u64,
            };
            stored.job.last_error = Some(error);
            changes.jobs.insert(lease.job.id.clone());
            Ok(())
        })
        .await
    }

    async fn dead_letter(&self, lease: &Lease, error: &str) -> Result<(), QueueError> {
        let (lease, error) = (lease.clone(), error.to_owned());
        self.change_and_wake(move |state, changes, _| {
            let stored = Self::lease_slot(state, &lease)?;
            stored.slot = Slot::Dead { at_ms: now_ms() };
            stored.job.last_error = Some(error);
            state.release_key(&lease.job.key, &lease.job.id);
            changes.jobs.insert(lease.job.id.clone());
            Ok(())
        })
        .await
    }

    async fn release(&self, lease: &Lease) -> Result<(), QueueError> {
        let lease = lease.clone();
        self.change_and_wake(move |state, changes, _| {
            let stored = Self::lease_slot(state, &lease)?;
            stored.job.attempts = stored.job.attempts.saturating_sub(1);
            state.requeue_front(&lease.job.id);
            changes.jobs.insert(lease.job.id.clone());
            Ok(())
        })
        .await
    }

    async fn list(&self, wanted: JobState, limit: usize) -> Result<Vec<Job>, QueueError> {
        self.with_state(move |state, _, inner| {
            let mut jobs: Vec<(u64, &Stored)> = state
                .jobs
                .values()
                .filter(|s| State::state_of(&s.slot) == wanted)
                .map(|s| {
                    let order = match &s.slot {
                        Slot::Queued { seq } => *seq,
                        Slot::Running { until_ms, .. } => *until_ms,
                        Slot::Retrying { due_ms } => *due_ms,
                        Slot::Dead { at_ms } => *at_ms,
                    };
                    (order, s)
                })
                .collect();
            jobs.sort_by_key(|(order, _)| *order);
            let mut jobs: Vec<Job> = jobs
                .into_iter()
                .take(limit)
                .map(|(_, s)| s.job.clone())
                .collect();
            let db = inner.db()?;
            with_bodies(&db, &mut jobs)?;
            Ok(jobs)
        })
        .await
    }

    async fn show(&self, id: &str) -> Result<Option<(JobState, Job)>, QueueError> {
        let id = id.to_owned();
        self.with_state(move |state, _, inner| {
            let Some(stored) = state.jobs.get(&id) else {
                return Ok(None);
            };
            let mut job = stored.job.clone();
            let db = inner.db()?;
            with_bodies(&db, std::slice::from_mut(&mut job))?;
            Ok(Some((State::state_of(&stored.slot), job)))
        })
        .await
    }

    async fn retry_dead(&self, id: &str) -> Result<bool, QueueError> {
        let id = id.to_owned();
        let moved = self
            .with_state(move |state, changes, _| {
                let seq = state.next_seq;
                let Some(stored) = state.jobs.get_mut(&id) else {
                    return Ok(false);
                };
                if !matches!(stored.slot, Slot::Dead { .. }) {
                    return Ok(false);
                }
                stored.slot = Slot::Queued { seq };
                stored.job.attempts = 0;
                state.next_seq += 1;
                state.queued.insert(seq, id.clone());
                changes.jobs.insert(id);
                Ok(true)
            })
            .await?;
        self.inner.notify.notify_waiters();
        Ok(moved)
    }

    async fn drop_dead(&self, id: &str) -> Result<bool, QueueError> {
        let id = id.to_owned();
        self.with_state(move |state, changes, _| {
            if !matches!(
                state.jobs.get(&id).map(|s| &s.slot),
                Some(Slot::Dead { .. })
            ) {
                return Ok(false);
            }
            state.jobs.remove(&id);
            state.removed_since_compact += 1;
            changes.jobs.insert(id);
            Ok(true)
        })
        .await
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.with_state(|state, _, _| {
            let mut stats = QueueStats::default();
            for stored in state.jobs.values() {
                match State::state_of(&stored.slot) {
                    JobState::Queued => stats.queued += 1,
                    JobState::Running => stats.running += 1,
                    JobState::Retrying => stats.retrying += 1,
                    JobState::Dead => stats.dead += 1,
                }
            }
            Ok(stats)
        })
        .await
    }

    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTableMetadata;

    #[cfg(unix)]
    #[test]
    fn the_data_dir_and_queue_file_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data").join("queue");
        let _queue =
            EmbeddedQueue::open(&dir, Duration::from_secs(1), Duration::from_secs(1), 10).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "data directory");
        assert_eq!(mode(&dir.join("queue.redb")), 0o600, "queue file");
    }

    fn job(object_id: i64, padding: usize) -> NewJob {
        NewJob {
            data: serde_json::json!({"id": object_id, "pad": "x".repeat(padding)}).into(),
            dedupe_key: format!("d{object_id}-{padding}"),
            ..NewJob::device_update(object_id)
        }
    }

    fn labels(outcomes: &[EnqueueOutcome]) -> Vec<&'static str> {
        outcomes.iter().map(EnqueueOutcome::label).collect()
    }

    #[tokio::test]
    async fn past_the_bound_new_jobs_are_refused_and_merges_still_taken() {
        let dir = tempfile::tempdir().unwrap();
        let queue = EmbeddedQueue::open(
            dir.path(),
            Duration::from_secs(1),
            Duration::from_secs(60),
            2,
        )
        .unwrap();
        let outcomes = queue
            .enqueue_batch(vec![job(1, 0), job(2, 0), job(3, 0), job(1, 1)])
            .await
            .unwrap();
        assert_eq!(labels(&outcomes), ["queued", "queued", "full", "coalesced"]);
        assert_eq!(queue.stats().await.unwrap().queued, 2);
        // Refused deliveries leave no dedupe mark: the redelivery is taken once there is room.
        let lease = queue.claim("w", Duration::ZERO).await.unwrap().unwrap();
        queue.ack(&lease).await.unwrap();
        let outcomes = queue.enqueue_batch(vec![job(3, 0)]).await.unwrap();
        assert_eq!(labels(&outcomes), ["queued"]);
    }

    fn queue(dir: &Path) -> EmbeddedQueue {
        EmbeddedQueue::open(dir, Duration::from_secs(60), Duration::from_secs(60), 100).unwrap()
    }

    /// The bytes of bodies the in-memory index holds.
    fn bodies_in_memory(queue: &EmbeddedQueue) -> usize {
        let state = queue.inner.state.lock().unwrap();
        state.jobs.values().map(|s| s.job.data.get().len()).sum()
    }

    fn bodies_on_disk(queue: &EmbeddedQueue) -> u64 {
        let db = queue.inner.db.lock().unwrap();
        let txn = db.begin_read().unwrap();
        txn.open_table(BODIES).unwrap().len().unwrap()
    }

    #[tokio::test]
    async fn bodies_stay_on_disk_and_come_back_with_their_job() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue(dir.path());
        queue
            .enqueue_batch(vec![job(1, 64 * 1024), job(2, 64 * 1024)])
            .await
            .unwrap();
        // A later event for object 1 merges: its body replaces the first one.
        queue.enqueue_batch(vec![job(1, 1000)]).await.unwrap();
        assert!(
            bodies_in_memory(&queue) < 16,
            "memory holds {} bytes of bodies",
            bodies_in_memory(&queue)
        );

        let listed = queue.list(JobState::Queued, 10).await.unwrap();
        let bodies: Vec<_> = listed.iter().map(|j| j.data.clone()).collect();
        assert_eq!(bodies, [job(1, 1000).data, job(2, 64 * 1024).data]);
        let lease = queue.claim("w", Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(lease.job.data, job(1, 1000).data);
        let (_, shown) = queue.show(&listed[1].id).await.unwrap().unwrap();
        assert_eq!(shown.data, job(2, 64 * 1024).data);
        queue.ack(&lease).await.unwrap();
        assert_eq!(
            bodies_on_disk(&queue),
            1,
            "an acknowledged job's body is gone"
        );
    }

    #[tokio::test]
    async fn bodies_kept_inside_job_records_are_moved_out_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let queue = queue(dir.path());
            let outcomes = queue.enqueue_batch(vec![job(3, 4096)]).await.unwrap();
            outcomes[0].job_id().to_owned()
        };
        {
            // The record as files without a bodies table hold it: the job with its body.
            let db = Database::create(dir.path().join("queue.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut jobs = txn.open_table(JOBS).unwrap();
                let mut stored: Stored =
                    serde_json::from_slice(jobs.get(id.as_str()).unwrap().unwrap().value())
                        .unwrap();
                stored.job.data = job(3, 4096).data;
                let bytes = serde_json::to_vec(&stored).unwrap();
                jobs.insert(id.as_str(), bytes.as_slice()).unwrap();
                txn.open_table(BODIES).unwrap().remove(id.as_str()).unwrap();
            }
            txn.commit().unwrap();
        }
        let queue = queue(dir.path());
        assert_eq!(bodies_in_memory(&queue), "null".len());
        assert_eq!(bodies_on_disk(&queue), 1);
        let lease = queue.claim("w", Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(lease.job.data, job(3, 4096).data);
    }

    #[tokio::test]
    async fn a_drained_backlog_leaves_a_small_file_and_small_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let queue = EmbeddedQueue::open_tuned(
            dir.path(),
            Duration::from_secs(60),
            Duration::from_secs(60),
            10_000,
            400,
        )
        .unwrap();
        let file = dir.path().join("queue.redb");
        let size = || std::fs::metadata(&file).unwrap().len();
        for chunk in 0..4 {
            let jobs = (0..100).map(|i| job(chunk * 100 + i, 16 * 1024)).collect();
            queue.enqueue_batch(jobs).await.unwrap();
        }
        let peak = size();
        let peak_capacity = queue.inner.state.lock().unwrap().jobs.capacity();
        assert!(
            peak > 6 * 1024 * 1024,
            "the backlog is on disk: {peak} bytes"
        );
        while let Some(lease) = queue.claim("w", Duration::ZERO).await.unwrap() {
            queue.ack(&lease).await.unwrap();
        }
        let drained = size();
        assert!(
            drained < peak / 4,
            "the file stays at {drained} bytes after draining (peak {peak})"
        );
        let capacity = queue.inner.state.lock().unwrap().jobs.capacity();
        assert!(
            capacity < peak_capacity / 4,
            "the job index keeps capacity for {capacity} jobs (peak {peak_capacity})"
        );
    }
}
