//! A Kubernetes API test server for the Hedgehog CRDs, standalone:
//! `cargo run --bin kube-testserver -- --crds ../shared/hedgehog/crds --listen 127.0.0.1:6443`.
//! Point kubectl at it with the kubeconfig it prints (`--kubeconfig-out FILE` writes one).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use kube_testserver::crd::CrdSet;
use kube_testserver::{ApiServer, ServerOptions, bind, kubeconfig_yaml};

#[derive(Parser)]
#[command(about = "A Kubernetes API test server serving the Hedgehog CRDs")]
struct Args {
    /// Directory of CustomResourceDefinition YAML files.
    #[arg(long)]
    crds: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: String,
    /// Also write a kubeconfig for this server to this file.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let crds = match CrdSet::load_dir(&args.crds) {
        Ok(crds) => crds,
        Err(error) => {
            eprintln!("kube-testserver: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let count = crds.definitions.len();
    let api = Arc::new(ApiServer::new(crds, ServerOptions::default()));
    let (server, address) = match bind(api, &args.listen) {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("kube-testserver: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let url = format!("http://{address}");
    if let Some(path) = &args.kubeconfig_out
        && let Err(error) = std::fs::write(path, kubeconfig_yaml(&url))
    {
        eprintln!("kube-testserver: cannot write {}: {error}", path.display());
        return std::process::ExitCode::FAILURE;
    }
    tracing::info!(%url, crds = count, "kube-testserver listening");
    println!("{url}");
    match server.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kube-testserver: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
