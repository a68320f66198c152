//! `hedgehog-sidecar commit`: publish a fabric to its Git repository once and print the diff.
//!
//! The objects are rendered from the live NetBox, or read with `--from-yaml FILE` from a
//! multi-document YAML file of rendered objects.

use anyhow::Context;

use super::publish_text::text;
use crate::config::Settings;
use crate::targets::git::GitTarget;
use crate::targets::{Cause, PublishReport, Target};

/// The arguments `commit` takes.
pub type CommitArgs = super::publish_args::PublishArgs;

pub async fn run(settings: Settings, args: CommitArgs) -> anyhow::Result<()> {
    let report = commit_with(&settings, &args).await?;
    args.output.print(&report, || text(&report, args.dry_run))
}

/// Publishes the fabric's objects to its repository once (no batching window).
pub async fn commit_with(settings: &Settings, args: &CommitArgs) -> anyhow::Result<PublishReport> {
    let mut fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named `{}` in the configuration", args.fabric))?
        .clone();
    let git = fabric.git.as_mut().with_context(|| {
        format!(
            "fabric `{}` has no [fabric.git] section to commit to",
            args.fabric
        )
    })?;
    // One command, one commit: nothing else would join a batch.
    git.batch_window_ms = 0;
    let redis = crate::pipeline::redis_pool(settings)?;
    let target = GitTarget::from_settings(settings, &fabric, redis)?;
    let manifests = super::manifests::desired(settings, &fabric, args.from_yaml.as_deref()).await?;
    let cause = Cause {
        reason: "cli commit".into(),
        ..Default::default()
    };
    Ok(target.publish(&manifests, &cause, args.dry_run).await?)
}
