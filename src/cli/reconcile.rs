//! `hedgehog-sidecar reconcile --fabric NAME [--dry-run] [-o text|json|yaml]`: one reconcile
//! pass and its drift report. Exits 2 when NetBox and the target could not be compared and,
//! with `--dry-run`, 1 when they differ (as `kubectl diff`).

use super::exit::{self, Exit};
use super::output::OutputFormat;
use super::progress::with_spinner;
use super::report_text::ReportText;
use crate::config::Settings;
use crate::pipeline::FabricServices;
use crate::reconcile::{FabricReport, ObjectState, ReconcileOptions, SyncStatus};

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The fabric to reconcile (a [[fabric]] name from the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Compare and report only: no re-apply, no write-back into NetBox; exit 1 on drift.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the report (`--format` is the older name).
    #[arg(
        short = 'o',
        long = "output",
        alias = "format",
        value_enum,
        default_value = "text"
    )]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: ReconcileArgs) -> anyhow::Result<()> {
    let report = reconcile_once(&settings, &args)
        .await
        .map_err(|e| Exit::new(exit::ERROR, format!("error: {e:#}")))?;
    args.output.print(&report, || text(&report))?;
    outcome(&report, args.dry_run)
}

async fn reconcile_once(settings: &Settings, args: &ReconcileArgs) -> anyhow::Result<FabricReport> {
    let services = FabricServices::build(settings, Some(&args.fabric)).await?;
    let options = ReconcileOptions {
        dry_run: args.dry_run,
    };
    let pass = services.reconcile(&args.fabric, options);
    with_spinner(format!("reconciling fabric {}", args.fabric), pass)
        .await
        .ok_or_else(|| anyhow::anyhow!("no fabric named `{}` is configured", args.fabric))
}

/// The exit a pipeline gates on: 2 when nothing could be compared, 1 on drift in a dry run.
pub fn outcome(report: &FabricReport, dry_run: bool) -> anyhow::Result<()> {
    match report.sync {
        SyncStatus::Unknown => Err(Exit::new(
            exit::ERROR,
            format!(
                "error: could not compare NetBox with the fabric: {}",
                report.errors.join("; ")
            ),
        )
        .into()),
        SyncStatus::OutOfSync if dry_run => Err(Exit::new(exit::DIFFERS, "").into()),
        _ => Ok(()),
    }
}

/// The human-readable drift report.
pub fn text(report: &FabricReport) -> String {
    let mut out = ReportText::heading(format_args!(
        "fabric {} ({}{}): {:?}, {:?} in {} ms",
        report.fabric,
        report.mode,
        if report.dry_run { ", dry run" } else { "" },
        report.sync,
        report.health,
        report.duration_ms
    ));
    out.entry(format_args!(
        "{} objects: {} in sync, {} drifted, {} missing, {} not in NetBox",
        report.objects.len(),
        report.count(ObjectState::InSync),
        report.count(ObjectState::Drifted),
        report.count(ObjectState::Missing),
        report.count(ObjectState::Orphan)
    ));
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
        out.entry(format_args!("{:?} {}{note}", object.state, object.key));
        for diff in &object.diffs {
            out.detail(
                &diff.path,
                format_args!("NetBox {} / target {}", diff.desired, diff.actual),
            );
        }
    }
    out.entries(
        "switch ",
        report
            .switches
            .iter()
            .map(|s| format!("{}: {:?} — {}", s.switch, s.health, s.message)),
    );
    out.entries("problem: ", report.problems.iter().map(|p| &p.message));
    out.entries("error: ", &report.errors);
    if let Some(healed) = &report.healed {
        out.entry(format_args!(
            "healed: {} created, {} updated, {} deleted",
            healed.created.len(),
            healed.updated.len(),
            healed.deleted.len()
        ));
    }
    if report.netbox_updates + report.journal_entries > 0 {
        out.entry(format_args!(
            "NetBox: {} objects updated, {} journal entries",
            report.netbox_updates, report.journal_entries
        ));
    }
    out.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit_code(sync: SyncStatus, dry_run: bool) -> Option<u8> {
        let mut report = FabricReport::new("lab", "apply", dry_run);
        report.sync = sync;
        outcome(&report, dry_run)
            .err()
            .map(|e| e.downcast_ref::<Exit>().expect("an exit").code)
    }

    #[test]
    fn a_dry_run_exits_1_on_drift_and_any_pass_2_when_nothing_was_compared() {
        assert_eq!(exit_code(SyncStatus::Synced, true), None);
        assert_eq!(exit_code(SyncStatus::OutOfSync, true), Some(1));
        assert_eq!(
            exit_code(SyncStatus::OutOfSync, false),
            None,
            "healed or reported"
        );
        assert_eq!(exit_code(SyncStatus::Unknown, true), Some(2));
        assert_eq!(exit_code(SyncStatus::Unknown, false), Some(2));
    }
}
