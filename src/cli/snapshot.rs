//! `hedgehog-sidecar snapshot --fabric NAME [--output FILE]`: saves a fabric's NetBox objects
//! as a snapshot file (the input `render` takes offline).

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Settings;
use crate::netbox::{NetBoxClient, load_fabric};

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The fabric, as named in the configuration.
    #[arg(long)]
    pub fabric: String,
    /// Where to write the snapshot; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn run(settings: Settings, args: SnapshotArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("fabric `{}` is not in the configuration", args.fabric))?;
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let started = std::time::Instant::now();
    let snapshot = load_fabric(&client, fabric).await?;
    tracing::info!(fabric = %fabric.name, objects = snapshot.len(), elapsed_ms = started.elapsed().as_millis() as u64, "loaded fabric");
    match &args.output {
        Some(path) => snapshot.save(path)?,
        None => println!("{}", serde_json::to_string_pretty(&snapshot)?),
    }
    Ok(())
}
