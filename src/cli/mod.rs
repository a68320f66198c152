//! The `hedgehog-sidecar` command line. Each subcommand lives in its own file with its
//! arguments and its `run` function.

pub(crate) mod allocate;
mod api_client;
pub(crate) mod apply;
pub mod commit;
pub mod completions;
pub mod config;
pub mod diff;
pub mod discover;
pub mod exit;
pub mod health;
pub mod import;
pub mod jobs;
pub mod manifests;
pub mod output;
pub mod progress;
mod publish_args;
mod publish_text;
pub mod reconcile;
pub(crate) mod render;
mod report_text;
pub(crate) mod serve;
pub mod setup;
pub(crate) mod snapshot;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Environment;

#[derive(Debug, Parser)]
#[command(
    name = "hedgehog-sidecar",
    version,
    about = "Run a Hedgehog fabric from stock NetBox"
)]
pub struct Cli {
    /// Configuration file (TOML). Environment variables HEDGEHOG_SIDECAR_* override it.
    #[arg(long, global = true, env = "HEDGEHOG_SIDECAR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Kubeconfig file for every fabric's cluster, instead of the configured ones.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for every fabric's cluster, instead of the configured ones.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (webhooks, health, metrics, API), the workers and the scheduler.
    Serve(serve::ServeArgs),
    /// Inspect the job queues and re-queue dead letters.
    Jobs(jobs::JobsArgs),
    /// Print a fabric's rendered objects as YAML.
    Render(render::RenderArgs),
    /// Save a fabric's NetBox objects to a snapshot file.
    Snapshot(snapshot::SnapshotArgs),
    /// Create the custom fields, tags, webhook and event rule the product needs in NetBox.
    Setup(setup::SetupArgs),
    /// Apply a fabric to its cluster once.
    Apply(apply::ApplyArgs),
    /// Commit a fabric to its Git repository once.
    Commit(commit::CommitArgs),
    /// Reconcile a fabric once and print the drift report.
    Reconcile(reconcile::ReconcileArgs),
    /// Compare NetBox with the fabric's target and print the differences, changing nothing;
    /// exits 0 when in sync, 1 when they differ, 2 on errors (as `kubectl diff`).
    Diff(diff::DiffArgs),
    /// Create NetBox objects for a fabric that exists in a cluster or a wiring file.
    Import(import::ImportArgs),
    /// Allocate a fabric's missing ASNs, management, protocol and VTEP IPs and link /31s in
    /// NetBox.
    Allocate(allocate::AllocateArgs),
    /// Observe the discovery sources (the fabrics' Agents) and write what they see into NetBox.
    Discover(discover::DiscoverArgs),
    /// Check the configuration without starting (`config check`).
    Config(config::ConfigArgs),
    /// Ask a running instance whether it is healthy; exits 0 or 1 (container health checks).
    Health(health::HealthArgs),
    /// Print the shell completion script (`source <(hedgehog-sidecar completions bash)`).
    Completions(completions::CompletionsArgs),
}

impl Cli {
    /// Loads the configuration and runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        if let Command::Completions(args) = &self.command {
            // Needs no configuration: it runs where none exists (a shell's start-up).
            return completions::run(args.shell);
        }
        let env = Environment::from_process();
        let mut settings = crate::config::load_from(self.config.as_deref(), &env)?;
        override_clusters(&mut settings, self.kubeconfig, self.context);
        crate::telemetry::init(&settings.log);
        match self.command {
            Command::Serve(args) => {
                warn_not_settings(&env);
                serve::run(settings, args).await
            }
            Command::Jobs(args) => jobs::run(settings, args).await,
            Command::Render(args) => render::run(settings, args).await,
            Command::Snapshot(args) => snapshot::run(settings, args).await,
            Command::Setup(args) => setup::run(settings, args).await,
            Command::Apply(args) => apply::run(settings, args).await,
            Command::Commit(args) => commit::run(settings, args).await,
            Command::Reconcile(args) => reconcile::run(settings, args).await,
            Command::Diff(args) => diff::run(settings, args).await,
            Command::Import(args) => import::run(settings, args).await,
            Command::Allocate(args) => allocate::run(settings, args).await,
            Command::Discover(args) => discover::run(settings, args).await,
            Command::Config(args) => config::run(settings, &env, args).await,
            Command::Health(args) => health::run(settings, args).await,
            Command::Completions(args) => completions::run(args.shell),
        }
    }
}

/// `--kubeconfig` and `--context` win over every fabric's configured ones, as in kubectl.
fn override_clusters(
    settings: &mut crate::config::Settings,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
) {
    for fabric in &mut settings.fabrics {
        if let Some(file) = &kubeconfig {
            fabric.kubeconfig = Some(file.clone());
        }
        if let Some(context) = &context {
            fabric.cluster.context = Some(context.clone());
        }
    }
}

/// Variables with the prefix that are not settings are left alone (a Kubernetes Service's links,
/// the NetBox scripts' URL), and named in case one is a misspelt setting.
fn warn_not_settings(env: &Environment) {
    let names = env.not_settings();
    if !names.is_empty() {
        tracing::warn!(
            variables = %names.join(","),
            "environment variables that are not settings are ignored"
        );
    }
}
