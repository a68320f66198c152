//! `hedgehog-sidecar render`: prints a fabric's rendered objects (YAML documents, a JSON
//! `List` as kubectl prints one, or a table), or the list of admission-rule violations (and a
//! non-zero exit) when the fabric does not validate.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use super::output::OutputFormat;
use super::progress::with_spinner;
use crate::config::Settings;
use crate::mapping::RenderedFabric;
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
    /// `yaml`: the objects as YAML documents (what `kubectl apply -f` takes); `json`: a
    /// `List`; `text`: one line per object.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: RenderArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    let snapshot = match &args.from_snapshot {
        Some(path) => FabricSnapshot::load(path)?,
        None => {
            let client = NetBoxClient::from_settings(&settings.netbox)?;
            let loading = load_fabric(&client, fabric);
            with_spinner(
                format!("loading fabric {} from NetBox", fabric.name),
                loading,
            )
            .await?
        }
    };
    // Offline: the fabric's configuration file and the built-in profile catalog.
    let fabric = &fabric_env::resolve_local(fabric)?;
    match mapping::render(fabric, &snapshot) {
        Ok(rendered) => {
            for warning in &rendered.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", format_rendered(&rendered, args.output)?);
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

/// The rendered objects in `format`.
pub fn format_rendered(rendered: &RenderedFabric, format: OutputFormat) -> anyhow::Result<String> {
    match format {
        OutputFormat::Yaml => Ok(rendered.to_yaml()),
        OutputFormat::Json => {
            let items: Vec<_> = rendered.manifests.iter().map(|m| m.to_value()).collect();
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            Ok(serde_json::to_string_pretty(&list)? + "\n")
        }
        OutputFormat::Text => {
            let mut out = format!("{:<22} {}\n", "KIND", "NAME");
            for manifest in &rendered.manifests {
                let _ = writeln!(out, "{:<22} {}", manifest.kind, manifest.metadata.name);
            }
            Ok(out)
        }
    }
}
