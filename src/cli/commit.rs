//! `hedgehog-sidecar commit`: publish a fabric to its Git repository once and print the diff.
//!
//! The objects are rendered from the live NetBox, or read with `--from-yaml FILE` from a
//! multi-document YAML file of rendered objects.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::ExposeSecret;

use super::output::OutputFormat;
use super::publish_text::text;
use crate::config::Settings;
use crate::targets::git::GitTarget;
use crate::targets::{Cause, PublishReport, Target};

#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    /// The fabric: a `[[fabric]]` name from the configuration, with a `[fabric.git]` section.
    #[arg(long)]
    pub fabric: String,
    /// Print the diff against the branch tip without committing or pushing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take the rendered objects from this multi-document YAML file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub from_yaml: Option<PathBuf>,
    /// How to print the report (text: the diff and the totals).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

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
    let redis = match &settings.redis_url {
        Some(url) => Some(
            deadpool_redis::Config::from_url(url.expose_secret())
                .create_pool(Some(deadpool_redis::Runtime::Tokio1))
                .context("redis_url: cannot create the connection pool")?,
        ),
        None => None,
    };
    let target = GitTarget::from_settings(settings, &fabric, redis)?;
    let manifests = super::manifests::desired(settings, &fabric, args.from_yaml.as_deref()).await?;
    let cause = Cause {
        reason: "cli commit".into(),
        ..Default::default()
    };
    Ok(target.publish(&manifests, &cause, args.dry_run).await?)
}
