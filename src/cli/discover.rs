//! `hedgehog-sidecar discover [--source NAME] [--dry-run] [-o text|json|yaml]`: one discovery
//! run and its plan.

use super::output::OutputFormat;
use super::report_text::ReportText;
use crate::config::Settings;
use crate::discovery::RunReport;
use crate::discovery::create::Create;
use crate::discovery::kind::ObjectKind;
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
        anyhow::bail!(
            "no discovery source is configured (a [[fabric]], [[discovery.inventory]], \
             [[discovery.proxmox]], [[discovery.truenas]], [[discovery.home_assistant]] or \
             [discovery.scanner] with prefixes is one)"
        );
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
    let mode = if report.dry_run { " (dry run)" } else { "" };
    let sources = report.sources.join(", ");
    let mut out = ReportText::heading(format_args!("discovery of {sources}{mode}"));
    for update in plan.devices.iter().chain(&plan.interfaces) {
        out.entry(format_args!("update {}", update.object));
        for change in &update.changes {
            out.detail(
                &change.field,
                format_args!("{} -> {}", change.from, change.to),
            );
        }
    }
    for create in &plan.creates {
        create_text(&mut out, create);
    }
    for kept in &plan.kept {
        out.entry(format_args!(
            "kept {} {}: NetBox {} (typed by hand), observed {}",
            kept.object, kept.field, kept.netbox, kept.observed
        ));
    }
    let mismatches = plan
        .cabling
        .iter()
        .filter(|f| crate::discovery::plan::is_mismatch(f));
    out.entries(
        "cabling ",
        mismatches.map(|f| format!("{}/{}: {}", f.device, f.interface, f.message())),
    );
    out.entries(
        "create cable ",
        plan.cables
            .iter()
            .map(|(a, b)| format!("interface {a} <-> interface {b}")),
    );
    out.entries("stale ", &plan.stale);
    out.entries("not in NetBox: ", &plan.not_in_netbox);
    out.entries("error: ", &report.errors);
    if let Some(applied) = &report.applied {
        let created = &applied.created;
        out.entry(format_args!(
            "created: {} objects, {} interfaces, {} MACs, {} IPs",
            created.objects, created.interfaces, created.macs, created.ips
        ));
        out.entry(format_args!(
            "written: {} devices, {} interfaces, {} cables, {} journal entries",
            applied.devices, applied.interfaces, applied.cables, applied.journal_entries
        ));
    }
    out.into_string()
}

/// `create device web-1 (site lab, type r650, role server)` or `add to vm-1`, then each new
/// interface with its MACs and IPs.
fn create_text(out: &mut ReportText, create: &Create) {
    let kind = match create.kind {
        ObjectKind::Device => "device",
        ObjectKind::VirtualMachine => "virtual machine",
    };
    match &create.placement {
        Some(target) => {
            let place = match &target.cluster {
                Some(cluster) => format!("cluster {}", cluster.name),
                None => format!("site {}, type {}", target.site, target.device_type),
            };
            out.entry(format_args!(
                "create {kind} {} ({place}, role {})",
                create.object, target.role
            ));
        }
        None => out.entry(format_args!("add to {kind} {}", create.object)),
    }
    for interface in &create.interfaces {
        out.detail(
            format_args!("interface {}", interface.name),
            format_args!(
                "macs [{}] ips [{}]",
                interface.macs.join(", "),
                interface.ips.join(", ")
            ),
        );
    }
    if let Some(ip) = &create.primary_ip {
        out.detail("primary IP", ip);
    }
}
