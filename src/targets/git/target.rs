//! [`GitTarget`]: the [`Target`] for fabrics in `commit` mode.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::batcher::Batcher;
use super::credentials::Credentials;
use super::error::{GitError, strip_url_userinfo};
use super::layout::{self, DesiredFiles, Layout};
use super::lock::{LocalLock, LockGuard, RepoLease, RepoLock};
use super::push::{self, BeforePush, PublishJob};
use super::workspace::{self, Workspace};
use crate::config::{FabricConfig, GitConfig, Settings};
use crate::model::Manifest;
use crate::targets::{Cause, PublishReport, Target, TargetError};

/// Causes of failed publishes kept for the next commit's message, at most.
const MAX_PENDING_CAUSES: usize = 1000;

/// Writes a fabric's rendered objects into a Git repository that Argo CD or Flux applies.
#[derive(Clone)]
pub struct GitTarget {
    inner: Arc<Inner>,
}

struct Inner {
    fabric: String,
    config: GitConfig,
    layout: Layout,
    workdir: PathBuf,
    /// Identifies the repository and branch (URL without user info, hashed) for the locks.
    lock_key: String,
    lease: Option<Arc<dyn RepoLock>>,
    batcher: Arc<Batcher>,
    /// Causes of publishes that failed: their changes go out with the next commit, which
    /// names them too.
    pending: Mutex<Vec<Cause>>,
    before_push: Mutex<Option<BeforePush>>,
}

impl GitTarget {
    /// A target for `fabric`, with its working clone under `data_dir` unless `git.workdir` is
    /// set. `lease` is the cross-replica write lock (see [`RepoLease`]); a process-local mutex
    /// is always taken as well.
    pub fn new(
        fabric: &str,
        config: &GitConfig,
        data_dir: &Path,
        lease: Option<Arc<dyn RepoLock>>,
    ) -> Result<Self, TargetError> {
        let layout = Layout::new(&config.path)?;
        if config.url.trim().is_empty() {
            return Err(GitError::Config("git.url must not be empty".into()).into());
        }
        let digest = Sha256::digest(
            format!("{}\n{}", strip_url_userinfo(&config.url), config.branch).as_bytes(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                fabric: fabric.to_owned(),
                config: config.clone(),
                layout,
                workdir: workspace::workdir(config.workdir.as_deref(), data_dir, fabric),
                lock_key: hex::encode(&digest[..16]),
                lease,
                batcher: Batcher::new(Duration::from_millis(config.batch_window_ms)),
                pending: Mutex::new(Vec::new()),
                before_push: Mutex::new(None),
            }),
        })
    }

    /// The target of a fabric in `commit` mode, with a Redis lease when a pool is given.
    pub fn from_settings(
        settings: &Settings,
        fabric: &FabricConfig,
        redis: Option<deadpool_redis::Pool>,
    ) -> Result<Self, TargetError> {
        let Some(config) = &fabric.git else {
            return Err(GitError::Config(format!(
                "fabric `{}` has no [fabric.git] section",
                fabric.name
            ))
            .into());
        };
        let lease = redis.map(|pool| {
            Arc::new(RepoLease::new(
                pool,
                &settings.queue.key_prefix,
                Duration::from_millis(config.lock_lease_ms),
                Duration::from_millis(config.lock_wait_ms),
            )) as Arc<dyn RepoLock>
        });
        Self::new(&fabric.name, config, &settings.queue.data_dir, lease)
    }

    /// The working clone's folder.
    pub fn workdir(&self) -> &Path {
        &self.inner.workdir
    }

    /// Test seam: `hook(attempt)` runs just before every push attempt.
    #[doc(hidden)]
    pub fn set_before_push(&self, hook: Option<BeforePush>) {
        *self
            .inner
            .before_push
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = hook;
    }
}

impl Inner {
    /// The working clone, with the credentials as they are now (a rotated token is picked up).
    fn open_workspace(&self) -> Result<Workspace, GitError> {
        let credentials = Credentials::load(&self.config)?;
        Workspace::open(
            &self.workdir,
            &self.config.url,
            &self.config.branch,
            credentials,
        )
    }

    async fn lock(&self, write: bool) -> Result<LockGuard, GitError> {
        let local = LocalLock.acquire(&self.lock_key).await?;
        match (&self.lease, write) {
            (Some(lease), true) => Ok(local.and(lease.acquire(&self.lock_key).await?)),
            _ => Ok(local),
        }
    }

    async fn publish_batch(
        self: Arc<Self>,
        desired: Vec<Manifest>,
        causes: Vec<Cause>,
        dry_run: bool,
    ) -> Result<PublishReport, TargetError> {
        let files = layout::desired_files(&desired, &self.fabric)?;
        let guard = self.lock(!dry_run).await?;
        let span = tracing::Span::current();
        // The guard moves into the blocking task: should the caller give up waiting, the lock
        // is still held until the Git work (which cannot be interrupted) is over, and dropping
        // it then releases the lease as a task the lock tracks.
        let (outcome, guard) = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            (self.publish_locked(&files, causes, dry_run), guard)
        })
        .await
        .map_err(|e| GitError::Local(format!("the publish task failed: {e}")))?;
        guard.release().await;
        outcome.map_err(Into::into)
    }

    /// The publish itself, with the lock held; blocking.
    fn publish_locked(
        &self,
        files: &DesiredFiles,
        causes: Vec<Cause>,
        dry_run: bool,
    ) -> Result<PublishReport, GitError> {
        let mut all_causes = if dry_run {
            Vec::new()
        } else {
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        };
        let carried = all_causes.len();
        all_causes.extend(causes.iter().cloned());
        let before_push = self
            .before_push
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let outcome = self.open_workspace().and_then(|workspace| {
            push::publish(
                &workspace,
                &PublishJob {
                    fabric: &self.fabric,
                    layout: &self.layout,
                    desired: files,
                    causes: &all_causes,
                    author_name: &self.config.author_name,
                    author_email: &self.config.author_email,
                    dry_run,
                    max_attempts: self.config.max_push_attempts,
                    before_push,
                },
            )
        });
        if !dry_run {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match &outcome {
                // The carried causes went out with this commit (or are already on the branch).
                Ok(_) => {
                    let sent = carried.min(pending.len());
                    pending.drain(..sent);
                }
                Err(error) => {
                    tracing::warn!(%error, "publish failed; its changes go out with the next one");
                    pending.extend(causes);
                    let excess = pending.len().saturating_sub(MAX_PENDING_CAUSES);
                    pending.drain(..excess);
                }
            }
        }
        outcome
    }
}

fn publish_span(fabric: &str, cause: &Cause, dry_run: bool) -> tracing::Span {
    tracing::info_span!(
        "git_publish",
        fabric,
        request_id = cause.request_id.as_deref().unwrap_or(""),
        user = cause.user.as_deref().unwrap_or(""),
        reason = %cause.reason,
        dry_run,
    )
}

#[async_trait]
impl Target for GitTarget {
    fn kind(&self) -> &'static str {
        "git"
    }

    async fn health_check(&self) -> Result<(), TargetError> {
        let config = self.inner.config.clone();
        tokio::task::spawn_blocking(move || {
            let credentials = Credentials::load(&config)?;
            workspace::check_remote(&config.url, &credentials)
        })
        .await
        .map_err(|e| GitError::Local(format!("the health check task failed: {e}")))?
        .map_err(Into::into)
    }

    async fn publish(
        &self,
        desired: &[Manifest],
        cause: &Cause,
        dry_run: bool,
    ) -> Result<PublishReport, TargetError> {
        let inner = Arc::clone(&self.inner);
        let span = publish_span(&inner.fabric, cause, dry_run);
        if dry_run || inner.config.batch_window_ms == 0 {
            return inner
                .publish_batch(desired.to_vec(), vec![cause.clone()], dry_run)
                .instrument(span)
                .await;
        }
        let batcher = Arc::clone(&inner.batcher);
        let batch_span = span.clone();
        batcher
            .submit(desired.to_vec(), cause.clone(), move |desired, causes| {
                inner
                    .publish_batch(desired, causes, false)
                    .instrument(batch_span)
            })
            .instrument(span)
            .await
    }

    async fn actual(&self) -> Result<Vec<serde_json::Value>, TargetError> {
        let guard = self.inner.lock(false).await?;
        let inner = Arc::clone(&self.inner);
        let (objects, guard) = tokio::task::spawn_blocking(move || (read_actual(&inner), guard))
            .await
            .map_err(|e| GitError::Local(format!("the read task failed: {e}")))?;
        guard.release().await;
        objects.map_err(Into::into)
    }

    async fn shutdown(&self) {
        self.inner.batcher.shutdown().await;
        if let Some(lease) = &self.inner.lease {
            lease.released().await;
        }
    }
}

/// The objects on the branch tip, from the managed files under the fabric's folder.
fn read_actual(inner: &Inner) -> Result<Vec<serde_json::Value>, GitError> {
    let workspace = inner.open_workspace()?;
    let tip = workspace.fetch()?;
    let tree = workspace.tree_of(tip)?;
    let files = workspace.managed_files(&tree, &inner.layout)?;
    let mut objects = Vec::new();
    for (relative, content) in files {
        if Layout::key_of(&relative).is_none() {
            continue;
        }
        let value: serde_json::Value = serde_yaml_ng::from_slice(&content).map_err(|e| {
            GitError::Content(format!(
                "{} on branch {} is not valid YAML: {e}",
                inner.layout.full(&relative),
                inner.config.branch
            ))
        })?;
        objects.push(value);
    }
    Ok(objects)
}
