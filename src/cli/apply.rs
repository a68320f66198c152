//! `hedgehog-sidecar apply --fabric NAME [--dry-run] [--from-yaml FILE]`: server-side applies a
//! fabric's objects (rendered from NetBox, or from a YAML file) to its cluster once and prints
//! the report (`-o text|json|yaml`).

use std::path::PathBuf;

use anyhow::Context;

use super::output::OutputFormat;
use super::publish_text::text;
use crate::config::Settings;
use crate::targets::cluster::ClusterTarget;
use crate::targets::{Cause, Target};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The fabric (as named in the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Server-side dry-run: report what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the objects of this multi-document YAML file instead of rendering from NetBox.
    #[arg(long, value_name = "FILE")]
    pub from_yaml: Option<PathBuf>,
    /// How to print the report.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: ApplyArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    let manifests = super::manifests::desired(&settings, fabric, args.from_yaml.as_deref()).await?;
    let target = ClusterTarget::connect(fabric).await?;
    let cause = Cause {
        reason: "cli apply".into(),
        ..Default::default()
    };
    let report = target.publish(&manifests, &cause, args.dry_run).await?;
    args.output.print(&report, || text(&report, args.dry_run))?;
    if !report.failures.is_empty() {
        anyhow::bail!("{} object(s) failed", report.failures.len());
    }
    Ok(())
}
