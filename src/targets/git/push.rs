//! One publish against the remote: fetch the tip, plan, commit on top of it, push. When the push
//! is rejected because someone else moved the branch, the sidecar's changes are re-applied on the
//! new tip (the plan is recomputed from the desired files, so their commit is kept and files
//! outside the fabric's folder are carried over as they are) and pushed again, a bounded number
//! of times. Blocking: run on a blocking thread.

use std::time::Duration;

use git2::Signature;

use super::error::GitError;
use super::layout::{DesiredFiles, Layout, plan};
use super::message::commit_message;
use super::workspace::Workspace;
use crate::targets::{Cause, PublishReport};

/// A test seam: called just before every push attempt (e.g. to move the branch under us).
pub type BeforePush = std::sync::Arc<dyn Fn(u32) + Send + Sync>;

pub struct PublishJob<'a> {
    pub fabric: &'a str,
    pub layout: &'a Layout,
    pub desired: &'a DesiredFiles,
    pub causes: &'a [Cause],
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub dry_run: bool,
    pub max_attempts: u32,
    pub before_push: Option<BeforePush>,
}

pub fn publish(workspace: &Workspace, job: &PublishJob<'_>) -> Result<PublishReport, GitError> {
    let attempts = job.max_attempts.max(1);
    for attempt in 1..=attempts {
        let tip = workspace.fetch()?;
        let base = workspace.tree_of(tip)?;
        let current = workspace.managed_files(&base, job.layout)?;
        let plan = plan(job.desired, &current);
        let mut report = PublishReport {
            created: plan.created.clone(),
            updated: plan.updated.clone(),
            deleted: plan.deleted.clone(),
            unchanged: plan.unchanged,
            failures: job.desired.failures.clone(),
            commit: None,
            diff: None,
        };
        if plan.is_empty() {
            return Ok(report);
        }
        let tree = workspace.apply_plan(&base, job.layout, &plan)?;
        report.diff = Some(workspace.diff(&base, tree, job.layout)?);
        if job.dry_run {
            return Ok(report);
        }
        let author = Signature::now(job.author_name, job.author_email).map_err(|e| {
            GitError::Config(format!(
                "git.author_name / git.author_email: {}",
                e.message()
            ))
        })?;
        let message = commit_message(job.fabric, &plan, job.causes);
        let commit = workspace.commit(tip, tree, &author, &message)?;
        if let Some(hook) = &job.before_push {
            hook(attempt);
        }
        let pushed = workspace.push();
        crate::pipeline::metrics::record_push(job.fabric, pushed.is_ok());
        match pushed {
            Ok(()) => {
                let request_ids: Vec<&str> = job
                    .causes
                    .iter()
                    .filter_map(|c| c.request_id.as_deref())
                    .collect();
                tracing::info!(
                    commit = %commit,
                    attempt,
                    request_ids = %request_ids.join(","),
                    created = report.created.len(),
                    updated = report.updated.len(),
                    deleted = report.deleted.len(),
                    "pushed"
                );
                report.commit = Some(commit.to_string());
                return Ok(report);
            }
            Err(GitError::Rejected(reason)) if attempt < attempts => {
                tracing::warn!(attempt, %reason, "push rejected; re-applying on the new tip");
                std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
            }
            Err(GitError::Rejected(reason)) => {
                return Err(GitError::Rejected(format!(
                    "push rejected {attempts} times, the branch keeps moving: {reason}"
                )));
            }
            Err(other) => return Err(other),
        }
    }
    Err(GitError::Rejected(format!(
        "push rejected {attempts} times"
    )))
}
