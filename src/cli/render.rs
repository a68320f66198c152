//! `hedgehog-sidecar render`: prints a fabric's rendered objects as YAML documents, or the list
//! of admission-rule violations (and a non-zero exit) when the fabric does not validate.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Settings;
use crate::netbox::{FabricSnapshot, NetBoxClient, load_fabric};
use crate::{fabric_env, mapping};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The fabric to render (a `[[fabric]]` name from the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Render from a saved NetBox snapshot (JSON) instead of the live NetBox.
    #[arg(long)]
    pub from_snapshot: Option<PathBuf>,
}

pub async fn run(settings: Settings, args: RenderArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    let snapshot = match &args.from_snapshot {
        Some(path) => FabricSnapshot::load(path)?,
        None => load_fabric(&NetBoxClient::from_settings(&settings.netbox)?, fabric).await?,
    };
    // Offline: the fabric's configuration file and the built-in profile catalog.
    let fabric = &fabric_env::resolve_local(fabric)?;
    match mapping::render(fabric, &snapshot) {
        Ok(rendered) => {
            for warning in &rendered.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", rendered.to_yaml());
            Ok(())
        }
        Err(error) => {
            for warning in &error.warnings {
                eprintln!("warning: {warning}");
            }
            Err(anyhow::Error::new(error)
                .context(format!("fabric {} does not validate", fabric.name)))
        }
    }
}
