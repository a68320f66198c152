//! `hedgehog-sidecar health`: asks a running instance whether it is alive (or ready) and exits
//! 0 or 1, for container health checks (`HEALTHCHECK`, exec probes) where no HTTP client is
//! installed.

use std::time::Duration;

use anyhow::Context as _;

use super::api_client::local_address;
use crate::config::Settings;

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The instance's base URL; by default the configured `listen` address (on loopback when
    /// it listens on every address).
    #[arg(long)]
    pub url: Option<String>,
    /// Ask `/readyz` (it can store jobs) instead of `/healthz` (it answers).
    #[arg(long)]
    pub ready: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout_secs: u64,
}

pub async fn run(settings: Settings, args: HealthArgs) -> anyhow::Result<()> {
    let base = args
        .url
        .unwrap_or_else(|| format!("http://{}", local_address(settings.listen)));
    let path = if args.ready { "readyz" } else { "healthz" };
    let url = format!("{}/{path}", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs.max(1)))
        .build()
        .context("cannot build an HTTP client")?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{url}: {status}: {}", body.trim());
    println!("{url}: {}", body.trim());
    Ok(())
}
