//! `hedgehog-sidecar reconcile --fabric NAME [--dry-run] [--format text|json]`: one reconcile
//! pass and its drift report.

use std::fmt::Write as _;

use crate::config::Settings;
use crate::pipeline::FabricServices;
use crate::reconcile::{FabricReport, ObjectState, ReconcileOptions, SyncStatus};

#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The fabric to reconcile (a [[fabric]] name from the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Compare and report only: no re-apply, no write-back into NetBox.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub async fn run(settings: Settings, args: ReconcileArgs) -> anyhow::Result<()> {
    let services = FabricServices::build(&settings, Some(&args.fabric)).await?;
    let options = ReconcileOptions {
        dry_run: args.dry_run,
    };
    let report = services
        .reconcile(&args.fabric, options)
        .await
        .ok_or_else(|| anyhow::anyhow!("no fabric named `{}` is configured", args.fabric))?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", text(&report)),
    }
    if report.sync == SyncStatus::Unknown {
        anyhow::bail!(
            "could not compare NetBox with the fabric: {}",
            report.errors.join("; ")
        );
    }
    Ok(())
}

/// The human-readable drift report.
pub fn text(report: &FabricReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fabric {} ({}{}): {:?}, {:?} in {} ms",
        report.fabric,
        report.mode,
        if report.dry_run { ", dry run" } else { "" },
        report.sync,
        report.health,
        report.duration_ms
    );
    let _ = writeln!(
        out,
        "  {} objects: {} in sync, {} drifted, {} missing, {} not in NetBox",
        report.objects.len(),
        report.count(ObjectState::InSync),
        report.count(ObjectState::Drifted),
        report.count(ObjectState::Missing),
        report.count(ObjectState::Orphan)
    );
    for object in report
        .objects
        .iter()
        .filter(|o| o.state != ObjectState::InSync)
    {
        let note = match object.state {
            ObjectState::Orphan if object.managed => " (managed: pruned when pruning is on)",
            ObjectState::Orphan => " (created outside NetBox: importable)",
            _ => "",
        };
        let _ = writeln!(out, "  {:?} {}{note}", object.state, object.key);
        for diff in &object.diffs {
            let _ = writeln!(
                out,
                "      {}: NetBox {} / target {}",
                diff.path, diff.desired, diff.actual
            );
        }
    }
    for switch in &report.switches {
        let _ = writeln!(
            out,
            "  switch {}: {:?} — {}",
            switch.switch, switch.health, switch.message
        );
    }
    for problem in &report.problems {
        let _ = writeln!(out, "  problem: {}", problem.message);
    }
    for error in &report.errors {
        let _ = writeln!(out, "  error: {error}");
    }
    if let Some(healed) = &report.healed {
        let _ = writeln!(
            out,
            "  healed: {} created, {} updated, {} deleted",
            healed.created.len(),
            healed.updated.len(),
            healed.deleted.len()
        );
    }
    if report.netbox_updates + report.journal_entries > 0 {
        let _ = writeln!(
            out,
            "  NetBox: {} objects updated, {} journal entries",
            report.netbox_updates, report.journal_entries
        );
    }
    out
}
