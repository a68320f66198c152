//! Chooses the back-end: Redis when a URL is configured, else the embedded on-disk queue.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;

use super::backend::{JobQueue, QueueError};
use super::embedded::EmbeddedQueue;
use super::redis::RedisQueue;

/// Connections beyond the workers' (each blocks one while it waits for a job).
const SPARE_CONNECTIONS: usize = 8;

pub(crate) fn open_queue(settings: &Settings) -> Result<Arc<dyn JobQueue>, QueueError> {
    let q = &settings.queue;
    let visibility = Duration::from_secs(q.visibility_timeout_secs);
    let dedupe_ttl = Duration::from_secs(q.dedupe_ttl_secs);
    Ok(match &settings.redis_url {
        Some(url) => Arc::new(RedisQueue::new(
            url,
            &q.key_prefix,
            q.workers + SPARE_CONNECTIONS,
            visibility,
            dedupe_ttl,
        )?),
        None => Arc::new(EmbeddedQueue::open(
            &q.data_dir,
            visibility,
            dedupe_ttl,
            q.max_queued,
        )?),
    })
}
