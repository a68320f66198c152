//! `hedgehog-sidecar discover [--source NAME] [--dry-run] [-o text|json|yaml]`: one discovery
//! run and its plan.

use std::fmt::Write as _;

use super::output::OutputFormat;
use crate::config::Settings;
use crate::discovery::RunReport;
use crate::discovery::schedule::{configured, run_together};
use crate::netbox::NetBoxClient;

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// A source kind (`fabric`) or one source (`fabric:lab`); every source when absent.
    #[arg(long)]
    pub source: Option<String>,
    /// Print the plan only: nothing is written to NetBox.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the plan.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: DiscoverArgs) -> anyhow::Result<()> {
    let sources = configured(&settings, args.source.as_deref()).await?;
    if sources.is_empty() {
        anyhow::bail!("no discovery source is configured (a [[fabric]] is one)");
    }
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let report = run_together(&client, &sources, &settings, args.dry_run).await?;
    args.output.print(&report, || text(&report))?;
    if !report.errors.is_empty() {
        anyhow::bail!("sources failed: {}", report.errors.join("; "));
    }
    Ok(())
}

/// The plan (and what was written) as text.
pub fn text(report: &RunReport) -> String {
    let plan = &report.plan;
    let mut out = String::new();
    let mode = if report.dry_run { " (dry run)" } else { "" };
    let _ = writeln!(out, "discovery of {}{mode}", report.sources.join(", "));
    for update in plan.devices.iter().chain(&plan.interfaces) {
        let _ = writeln!(out, "  update {}", update.object);
        for change in &update.changes {
            let _ = writeln!(
                out,
                "      {}: {} -> {}",
                change.field, change.from, change.to
            );
        }
    }
    for kept in &plan.kept {
        let _ = writeln!(
            out,
            "  kept {} {}: NetBox {} (typed by hand), observed {}",
            kept.object, kept.field, kept.netbox, kept.observed
        );
    }
    for finding in plan
        .cabling
        .iter()
        .filter(|f| crate::discovery::plan::is_mismatch(f))
    {
        let _ = writeln!(
            out,
            "  cabling {}/{}: {}",
            finding.device,
            finding.interface,
            finding.message()
        );
    }
    for (a, b) in &plan.cables {
        let _ = writeln!(out, "  create cable interface {a} <-> interface {b}");
    }
    for name in &plan.stale {
        let _ = writeln!(out, "  stale {name}");
    }
    for identity in &plan.not_in_netbox {
        let _ = writeln!(out, "  not in NetBox: {identity}");
    }
    for error in &report.errors {
        let _ = writeln!(out, "  error: {error}");
    }
    if let Some(applied) = &report.applied {
        let _ = writeln!(
            out,
            "  written: {} devices, {} interfaces, {} cables, {} journal entries",
            applied.devices, applied.interfaces, applied.cables, applied.journal_entries
        );
    }
    out
}
