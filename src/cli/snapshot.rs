//! `hedgehog-sidecar snapshot --fabric NAME [-o json|yaml|text] [--file FILE]`: saves a
//! fabric's NetBox objects as a snapshot (the input `render` takes offline), to a file or
//! standard output.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use clap::ValueEnum;

use super::output::OutputFormat;
use super::progress::with_spinner;
use crate::config::Settings;
use crate::netbox::{FabricSnapshot, NetBoxClient, load_fabric};

/// `-o`: a format, or (the older form) the file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutput {
    Format(OutputFormat),
    File(PathBuf),
}

impl FromStr for SnapshotOutput {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(match OutputFormat::from_str(value, true) {
            Ok(format) => Self::Format(format),
            Err(_) => Self::File(value.into()),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The fabric, as named in the configuration.
    #[arg(long)]
    pub fabric: String,
    /// `json` (default; what `render --from-snapshot` reads), `yaml`, or `text` (the number
    /// of objects of each type). Any other value is taken as `--file` (the older form).
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<SnapshotOutput>,
    /// Where to write the snapshot (JSON); standard output when absent.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub async fn run(settings: Settings, args: SnapshotArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("fabric `{}` is not in the configuration", args.fabric))?;
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let started = std::time::Instant::now();
    let loading = load_fabric(&client, fabric);
    let snapshot = with_spinner(
        format!("loading fabric {} from NetBox", fabric.name),
        loading,
    )
    .await?;
    tracing::info!(fabric = %fabric.name, objects = snapshot.len(), elapsed_ms = started.elapsed().as_millis() as u64, "loaded fabric");
    let (format, file) = match args.output {
        Some(SnapshotOutput::File(path)) => (OutputFormat::Json, Some(path)),
        Some(SnapshotOutput::Format(format)) => (format, args.file),
        None => (OutputFormat::Json, args.file),
    };
    match file {
        Some(path) => snapshot.save(&path)?,
        None => format.print(&snapshot, || summary(&snapshot))?,
    }
    Ok(())
}

/// The number of objects of each type, one per line.
pub fn summary(snapshot: &FabricSnapshot) -> String {
    let value = serde_json::to_value(snapshot).unwrap_or_default();
    let mut out = String::new();
    for (kind, objects) in value.as_object().into_iter().flatten() {
        if let Some(list) = objects.as_array() {
            out.push_str(&format!("{kind:<20} {}\n", list.len()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_a_format_or_the_older_file_form() {
        let parse = |v: &str| SnapshotOutput::from_str(v).unwrap();
        assert_eq!(parse("yaml"), SnapshotOutput::Format(OutputFormat::Yaml));
        assert_eq!(parse("JSON"), SnapshotOutput::Format(OutputFormat::Json));
        assert_eq!(parse("lab.json"), SnapshotOutput::File("lab.json".into()));
    }
}
