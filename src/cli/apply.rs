//! `hedgehog-sidecar apply --fabric NAME [--dry-run] [--from-yaml FILE]`: server-side applies a
//! fabric's objects (rendered from NetBox, or from a YAML file) to its cluster once and prints
//! the report (`-o text|json|yaml`).

use anyhow::Context;

use super::publish_text::text;
use crate::config::Settings;
use crate::targets::cluster::ClusterTarget;
use crate::targets::{Cause, Target};

/// The arguments `apply` takes.
pub type ApplyArgs = super::publish_args::PublishArgs;

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
