//! The production queue: Redis Streams with one consumer group shared by every replica.
//!
//! Keys, all under `<key_prefix>:`: `stream` (runnable jobs, group `workers`), `jobs` (id →
//! event body), `keys` (id → object key, so scripts never decode a body), `attempts`,
//! `errors` (per-job hashes), `pending` (key → the job not yet
//! started, which later events coalesce into), `locks` (key → the job running or retrying),
//! `waiting:<key>` (jobs that arrived while their key was locked, in order) and `parked` (the
//! same jobs, one sorted set, so they are counted and listed as queued), `delayed` and `dead` (sorted
//! sets), `dedupe:<window>` (dedupe marks of one TTL window, see enqueue.lua). Every state
//! change is one Lua script, so it is atomic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{AsyncCommands, Script, Value};
use secrecy::{ExposeSecret, SecretString};

use super::backend::{
    CorruptError, EnqueueOutcome, JobQueue, Lease, QueueError, QueueStats, StoreError,
};
use super::job::{Job, JobState, NewJob, new_job_id};

const COMMON: &str = include_str!("common.lua");
const GROUP: &str = "workers";
/// Longest XREADGROUP block; must stay under the client's 500 ms response timeout.
const MAX_BLOCK: Duration = Duration::from_millis(250);
/// How often a worker moves due retries back to the stream.
const PROMOTE_EVERY_MS: u64 = 100;

struct Scripts {
    enqueue: Script,
    start: Script,
    finish: Script,
    promote: Script,
    dead: Script,
}

fn script(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

pub(crate) struct RedisQueue {
    pool: Pool,
    client: redis::Client,
    /// Intake's connection, made on first use. Multiplexed, so concurrent batches share it,
    /// and without the pool's health check: a pooled connection is PINGed at every checkout,
    /// which on the webhook path cost a round trip per batch.
    intake: tokio::sync::OnceCell<ConnectionManager>,
    /// `<key_prefix>:`
    prefix: String,
    visibility: Duration,
    dedupe_ttl: Duration,
    scripts: Scripts,
    last_promote_ms: AtomicU64,
    last_takeover_ms: AtomicU64,
    /// The consumer group exists (as far as this process knows).
    group_ready: AtomicBool,
}

fn unavailable(e: impl Into<StoreError>) -> QueueError {
    QueueError::Unavailable(e.into())
}

fn invalid_url(e: impl std::error::Error + Send + Sync + 'static) -> QueueError {
    QueueError::Unavailable(StoreError::RedisUrl(Arc::new(e)))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl RedisQueue {
    /// Connects lazily: a Redis that is down makes operations fail (503, not ready) rather
    /// than start-up.
    pub fn new(
        url: &SecretString,
        key_prefix: &str,
        pool_size: usize,
        visibility: Duration,
        dedupe_ttl: Duration,
    ) -> Result<Self, QueueError> {
        let mut config = Config::from_url(url.expose_secret());
        let mut pool = PoolConfig::new(pool_size);
        let limit = Some(Duration::from_secs(2));
        pool.timeouts = Timeouts {
            wait: limit,
            create: limit,
            recycle: limit,
        };
        config.pool = Some(pool);
        // The URL may hold a password: describe the error, never the URL.
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(invalid_url)?;
        let client = redis::Client::open(url.expose_secret()).map_err(invalid_url)?;
        Ok(Self {
            pool,
            client,
            intake: tokio::sync::OnceCell::new(),
            prefix: format!("{key_prefix}:"),
            visibility,
            dedupe_ttl,
            scripts: Scripts {
                enqueue: script(include_str!("enqueue.lua")),
                start: script(include_str!("start.lua")),
                finish: script(include_str!("finish.lua")),
                promote: script(include_str!("promote.lua")),
                dead: script(include_str!("dead.lua")),
            },
            last_promote_ms: AtomicU64::new(0),
            last_takeover_ms: AtomicU64::new(0),
            group_ready: AtomicBool::new(false),
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, QueueError> {
        self.pool.get().await.map_err(unavailable)
    }

    /// The intake connection; it reconnects by itself after Redis comes back.
    async fn intake_conn(&self) -> Result<ConnectionManager, QueueError> {
        let connect = || {
            let limit = Some(Duration::from_secs(2));
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(limit)
                .set_response_timeout(limit)
                .set_number_of_retries(1);
            ConnectionManager::new_with_config(self.client.clone(), config)
        };
        self.intake
            .get_or_try_init(connect)
            .await
            .cloned()
            .map_err(unavailable)
    }

    /// Creates the consumer group (and the stream) if missing, e.g. after Redis lost its data.
    async fn ensure_group(&self, conn: &mut deadpool_redis::Connection) -> Result<(), QueueError> {
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key("stream"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(unavailable(e)),
            _ => {
                self.group_ready.store(true, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Runs `START` for a stream entry; a lease when the job may run now.
    async fn start(
        &self,
        conn: &mut deadpool_redis::Connection,
        entry: &StreamId,
        consumer: &str,
    ) -> Result<Option<Lease>, QueueError> {
        let field = |name: &str| -> String {
            entry
                .map
                .get(name)
                .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
                .unwrap_or_default()
        };
        let (id, mut key) = (field("id"), field("key"));
        if key.is_empty() {
            key = self.recover_key(conn, &id).await?;
        }
        let reply: Vec<Value> = self
            .scripts
            .start
            .arg(&self.prefix)
            .arg(&entry.id)
            .arg(&id)
            .arg(&key)
            .invoke_async(conn)
            .await
            .map_err(unavailable)?;
        let status: String = reply
            .first()
            .and_then(|v| redis::from_redis_value_ref(v).ok())
            .unwrap_or_default();
        if status != "run" {
            return Ok(None);
        }
        let part = |i: usize| -> Option<String> {
            reply
                .get(i)
                .and_then(|v| redis::from_redis_value_ref(v).ok())
        };
        let body = part(1).unwrap_or_default();
        let attempts: u32 = part(2).and_then(|a| a.parse().ok()).unwrap_or(1);
        let error = part(3).filter(|e| !e.is_empty());
        let job = decode_job(id, &body, attempts, error)?;
        Ok(Some(Lease {
            job,
            consumer: consumer.to_owned(),
            token: entry.id.clone(),
        }))
    }

    /// The key of a job whose stream entry does not name it (its `keys` entry is missing),
    /// decoded from the body here rather than in Lua, and recorded for the scripts.
    async fn recover_key(
        &self,
        conn: &mut deadpool_redis::Connection,
        id: &str,
    ) -> Result<String, QueueError> {
        let body: Option<String> = conn.hget(self.key("jobs"), id).await.map_err(unavailable)?;
        let Some(body) = body else {
            return Ok(String::new());
        };
        let key = decode_job(id.to_owned(), &body, 0, None)?.key;
        let _: () = conn
            .hset(self.key("keys"), id, &key)
            .await
            .map_err(unavailable)?;
        Ok(key)
    }

    async fn finish(
        &self,
        lease: &Lease,
        action: &str,
        at_ms: u64,
        error: &str,
    ) -> Result<(), QueueError> {
        let mut conn = self.conn().await?;
        let held: i64 = self
            .scripts
            .finish
            .arg(&self.prefix)
            .arg(&lease.token)
            .arg(&lease.job.id)
            .arg(&lease.job.key)
            .arg(&lease.consumer)
            .arg(action)
            .arg(at_ms)
            .arg(error)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if held == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost {
                job_id: lease.job.id.clone(),
            })
        }
    }

    /// Due retries back into the stream, at most every [`PROMOTE_EVERY_MS`] per process.
    async fn promote_due(&self, conn: &mut deadpool_redis::Connection) -> Result<(), QueueError> {
        let now = now_ms();
        let last = self.last_promote_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < PROMOTE_EVERY_MS
            || self
                .last_promote_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let _: i64 = self
            .scripts
            .promote
            .arg(&self.prefix)
            .arg(now)
            .invoke_async(conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// A job whose worker has been silent for the visibility timeout, claimed for `consumer`.
    /// Checked at most every tenth of the timeout per process, and again at once after a
    /// take-over.
    async fn take_over(
        &self,
        conn: &mut deadpool_redis::Connection,
        consumer: &str,
    ) -> Result<Option<StreamId>, QueueError> {
        let now = now_ms();
        let every = (self.visibility.as_millis() as u64 / 10).max(50);
        let last = self.last_takeover_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < every
            || self
                .last_takeover_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(None);
        }
        let reply: redis::RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
            .arg(self.key("stream"))
            .arg(GROUP)
            .arg(consumer)
            .arg(self.visibility.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(1)
            .query_async(conn)
            .await;
        match reply {
            Ok(reply) => {
                let claimed = reply.claimed.into_iter().next();
                if claimed.is_some() {
                    // A dead worker may have held several jobs: look again on the next claim.
                    self.last_takeover_ms.store(0, Ordering::Relaxed);
                }
                Ok(claimed)
            }
            Err(e) if e.code() == Some("NOGROUP") => {
                self.ensure_group(conn).await?;
                Ok(None)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn read_new(
        &self,
        conn: &mut deadpool_redis::Connection,
        consumer: &str,
        block: Duration,
    ) -> Result<Option<StreamId>, QueueError> {
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(1);
        if !block.is_zero() {
            read.arg("BLOCK").arg(block.as_millis() as u64);
        }
        read.arg("STREAMS").arg(self.key("stream")).arg(">");
        let reply: redis::RedisResult<Option<StreamReadReply>> = read.query_async(conn).await;
        let reply = match reply {
            Err(e) if e.code() == Some("NOGROUP") => {
                self.ensure_group(conn).await?;
                return Ok(None);
            }
            other => other.map_err(unavailable)?,
        };
        Ok(reply
            .and_then(|r| r.keys.into_iter().next())
            .and_then(|k| k.ids.into_iter().next()))
    }

    /// Loads jobs by id (body, attempts, last error) in one round trip.
    async fn load_jobs(&self, ids: &[String]) -> Result<Vec<Job>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let (bodies, attempts, errors): JobColumns = redis::pipe()
            .cmd("HMGET")
            .arg(self.key("jobs"))
            .arg(ids)
            .cmd("HMGET")
            .arg(self.key("attempts"))
            .arg(ids)
            .cmd("HMGET")
            .arg(self.key("errors"))
            .arg(ids)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut jobs = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(Some(body)) = bodies.get(i) {
                let attempts = attempts.get(i).copied().flatten().unwrap_or(0);
                let error = errors.get(i).cloned().flatten().filter(|e| !e.is_empty());
                jobs.push(decode_job(id.clone(), body, attempts, error)?);
            }
        }
        Ok(jobs)
    }

    /// Ids in the stream (queued or running) and those held by a worker.
    async fn stream_ids(&self, limit: usize) -> Result<(Vec<String>, Vec<String>), QueueError> {
        let mut conn = self.conn().await?;
        let entries: redis::streams::StreamRangeReply = conn
            .xrange_count(self.key("stream"), "-", "+", limit.max(1))
            .await
            .map_err(unavailable)?;
        let pending: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(self.key("stream"))
            .arg(GROUP)
            .arg("-")
            .arg("+")
            .arg(limit.max(1))
            .query_async(&mut conn)
            .await
            .or_else(|e| {
                if e.code() == Some("NOGROUP") {
                    Ok(StreamPendingCountReply::default())
                } else {
                    Err(unavailable(e))
                }
            })?;
        let running: std::collections::HashSet<&str> =
            pending.ids.iter().map(|p| p.id.as_str()).collect();
        let job_id = |entry: &StreamId| -> String {
            entry
                .map
                .get("id")
                .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
                .unwrap_or_default()
        };
        let (mut queued, mut held) = (Vec::new(), Vec::new());
        for entry in &entries.ids {
            if running.contains(entry.id.as_str()) {
                held.push(job_id(entry));
            } else {
                queued.push(job_id(entry));
            }
        }
        Ok((queued, held))
    }
}

/// Bodies, attempts and last errors of several jobs, as HMGET returns them.
type JobColumns = (Vec<Option<String>>, Vec<Option<u32>>, Vec<Option<String>>);

fn decode_job(
    id: String,
    body: &str,
    attempts: u32,
    last_error: Option<String>,
) -> Result<Job, QueueError> {
    let new: NewJob = serde_json::from_str(body).map_err(|e| CorruptError::Job {
        id: id.clone(),
        source: Arc::new(e),
    })?;
    Ok(Job::from_parts(id, new, attempts, last_error))
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>, QueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.scripts.enqueue.prepare_invoke();
        invocation
            .arg(&self.prefix)
            .arg(self.dedupe_ttl.as_secs().max(1));
        for job in &jobs {
            let body = serde_json::to_string(job).map_err(|e| CorruptError::Encode(Arc::new(e)))?;
            invocation
                .arg(new_job_id())
                .arg(&job.key)
                .arg(&job.dedupe_key)
                .arg(body);
        }
        let mut conn = self.intake_conn().await?;
        let reply: Vec<(String, String)> = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        reply
            .into_iter()
            .map(|(outcome, id)| match outcome.as_str() {
                "queued" => Ok(EnqueueOutcome::Queued(id)),
                "coalesced" => Ok(EnqueueOutcome::Coalesced(id)),
                "duplicate" => Ok(EnqueueOutcome::Duplicate(id)),
                other => Err(CorruptError::Reply(other.to_owned()).into()),
            })
            .collect()
    }

    async fn claim(&self, consumer: &str, wait: Duration) -> Result<Option<Lease>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut conn = self.conn().await?;
        if !self.group_ready.load(Ordering::Relaxed) {
            self.ensure_group(&mut conn).await?;
        }
        loop {
            self.promote_due(&mut conn).await?;
            if let Some(entry) = self.take_over(&mut conn, consumer).await?
                && let Some(lease) = self.start(&mut conn, &entry, consumer).await?
            {
                return Ok(Some(lease));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let block = left.min(MAX_BLOCK);
            if let Some(entry) = self.read_new(&mut conn, consumer, block).await? {
                if let Some(lease) = self.start(&mut conn, &entry, consumer).await? {
                    return Ok(Some(lease));
                }
                // The job waits for its key (or is gone): look for another at once.
                continue;
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<(), QueueError> {
        self.finish(lease, "heartbeat", 0, "").await
    }

    async fn ack(&self, lease: &Lease) -> Result<(), QueueError> {
        self.finish(lease, "ack", 0, "").await
    }

    async fn retry_later(
        &self,
        lease: &Lease,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        self.finish(lease, "retry", now_ms() + delay.as_millis() as u64, error)
            .await
    }

    async fn dead_letter(&self, lease: &Lease, error: &str) -> Result<(), QueueError> {
        self.finish(lease, "dead", now_ms(), error).await
    }

    async fn release(&self, lease: &Lease) -> Result<(), QueueError> {
        self.finish(lease, "release", 0, "").await
    }

    async fn list(&self, state: JobState, limit: usize) -> Result<Vec<Job>, QueueError> {
        let ids: Vec<String> = match state {
            JobState::Queued => {
                let mut ids = self.stream_ids(limit).await?.0;
                if ids.len() < limit {
                    let mut conn = self.conn().await?;
                    let parked: Vec<String> = conn
                        .zrange(self.key("parked"), 0, (limit - ids.len()) as isize - 1)
                        .await
                        .map_err(unavailable)?;
                    ids.extend(parked);
                }
                ids
            }
            JobState::Running => self.stream_ids(limit).await?.1,
            JobState::Retrying | JobState::Dead => {
                let set = if state == JobState::Dead {
                    "dead"
                } else {
                    "delayed"
                };
                let mut conn = self.conn().await?;
                conn.zrange(self.key(set), 0, limit.max(1) as isize - 1)
                    .await
                    .map_err(unavailable)?
            }
        };
        self.load_jobs(&ids).await
    }

    async fn show(&self, id: &str) -> Result<Option<(JobState, Job)>, QueueError> {
        let Some(job) = self.load_jobs(&[id.to_owned()]).await?.pop() else {
            return Ok(None);
        };
        let mut conn = self.conn().await?;
        let (dead, delayed, lock): (Option<f64>, Option<f64>, Option<String>) = redis::pipe()
            .zscore(self.key("dead"), id)
            .zscore(self.key("delayed"), id)
            .hget(self.key("locks"), &job.key)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let state = if dead.is_some() {
            JobState::Dead
        } else if delayed.is_some() {
            JobState::Retrying
        } else if lock.as_deref() == Some(id) {
            JobState::Running
        } else {
            JobState::Queued
        };
        Ok(Some((state, job)))
    }

    async fn retry_dead(&self, id: &str) -> Result<bool, QueueError> {
        let mut conn = self.conn().await?;
        let moved: i64 = self
            .scripts
            .dead
            .arg(&self.prefix)
            .arg(id)
            .arg("requeue")
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(moved == 1)
    }

    async fn drop_dead(&self, id: &str) -> Result<bool, QueueError> {
        let mut conn = self.conn().await?;
        let dropped: i64 = self
            .scripts
            .dead
            .arg(&self.prefix)
            .arg(id)
            .arg("drop")
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(dropped == 1)
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let mut conn = self.conn().await?;
        let (len, parked, delayed, dead): (u64, u64, u64, u64) = redis::pipe()
            .xlen(self.key("stream"))
            .zcard(self.key("parked"))
            .zcard(self.key("delayed"))
            .zcard(self.key("dead"))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let running: redis::streams::StreamPendingReply = conn
            .xpending(self.key("stream"), GROUP)
            .await
            .unwrap_or_default();
        let running = running.count() as u64;
        Ok(QueueStats {
            queued: len.saturating_sub(running) + parked,
            running,
            retrying: delayed,
            dead,
        })
    }

    async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn().await?;
        self.ensure_group(&mut conn).await
    }
}
