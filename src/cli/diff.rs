//! `hedgehog-sidecar diff --fabric NAME [-o text|json|yaml]`: what `reconcile --dry-run`
//! reports, changing nothing; exits 0 in sync, 1 when NetBox and the target differ, 2 on
//! errors (as `kubectl diff`), so a pipeline can gate on it.

use super::output::OutputFormat;
use super::reconcile::{ReconcileArgs, run as reconcile};
use crate::config::Settings;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The fabric to compare (a [[fabric]] name from the configuration).
    #[arg(long)]
    pub fabric: String,
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: DiffArgs) -> anyhow::Result<()> {
    let args = ReconcileArgs {
        fabric: args.fabric,
        dry_run: true,
        output: args.output,
    };
    reconcile(settings, args).await
}
