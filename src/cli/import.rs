//! `hedgehog-sidecar import --fabric NAME --from cluster|FILE.yaml [--dry-run]`: creates the
//! NetBox objects of a fabric that exists in its cluster or a wiring file (design doc, "Import").

use std::path::Path;

use anyhow::Context;

use super::output::OutputFormat;
use super::progress::with_spinner;
use crate::config::Settings;
use crate::import::{ImportOptions, import_fabric, source};
use crate::netbox::NetBoxClient;

use super::manifests::read_manifests;

/// `--from` value that reads the fabric's cluster.
const FROM_CLUSTER: &str = "cluster";

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The fabric, as named in the configuration.
    #[arg(long)]
    pub fabric: String,
    /// `cluster` (the fabric's cluster, through its kubeconfig) or a wiring YAML file (`-` for
    /// standard input).
    #[arg(long = "from", value_name = "cluster|FILE.yaml")]
    pub from: String,
    /// List what would be created; create nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Site of the created devices, created when missing; the fabric's name when absent.
    #[arg(long)]
    pub site: Option<String>,
    /// How to print the report.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    let manifests = if args.from == FROM_CLUSTER {
        source::from_cluster(fabric)
            .await
            .with_context(|| format!("cannot read fabric {}'s cluster", fabric.name))?
    } else {
        read_manifests(Path::new(&args.from)).await?
    };
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let options = ImportOptions {
        dry_run: args.dry_run,
        site: args.site.unwrap_or_else(|| fabric.name.clone()),
    };
    let importing = import_fabric(&client, fabric, &manifests, &options);
    let report = with_spinner(format!("importing fabric {}", fabric.name), importing).await?;
    args.output.print(&report, || format!("{report}\n"))
}
