//! The arguments of the commands that publish a fabric once (`apply` to its cluster, `commit`
//! to its Git repository): the same choices, whichever target takes the objects.

use std::path::PathBuf;

use super::output::OutputFormat;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The fabric (as named in the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Change nothing; report what would change (apply: the server's dry run; commit: the diff
    /// against the branch tip).
    #[arg(long)]
    pub dry_run: bool,
    /// Publish the objects of this multi-document YAML file (`-` for standard input) instead of
    /// rendering from NetBox.
    #[arg(long, value_name = "FILE")]
    pub from_yaml: Option<PathBuf>,
    /// How to print the report (text: the totals, and the diff where there is one).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}
