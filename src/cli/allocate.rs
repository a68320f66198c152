//! `hedgehog-sidecar allocate --fabric NAME [--dry-run]`: allocates, for a whole fabric, what
//! a running fabric needs and NetBox lacks (e.g. after importing a wiring file hhfab never
//! hydrated), and prints the plan and what was set. A second run allocates nothing.

use anyhow::Context;

use super::progress::with_spinner;
use crate::allocation::allocate_fabric;
use crate::config::Settings;
use crate::fabric_env::FabricEnvSource;
use crate::netbox::NetBoxClient;

#[derive(Debug, clap::Args)]
pub struct AllocateArgs {
    /// The fabric to allocate for (a `[[fabric]]` name from the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Print the plan only; nothing is written into NetBox.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(settings: Settings, args: AllocateArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    // The pools are the fabric's own configuration: its cluster's in apply mode.
    let environment = FabricEnvSource::connect(fabric).await?;
    let fabric = environment.resolve(fabric).await?;
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let allocating = allocate_fabric(&client, &fabric, args.dry_run);
    let report = with_spinner(format!("allocating for fabric {}", fabric.name), allocating).await?;
    println!("{report}");
    if !report.plan.problems.is_empty() {
        anyhow::bail!(
            "{} values break the fabric's rules (listed above); they are not replaced",
            report.plan.problems.len()
        );
    }
    Ok(())
}
