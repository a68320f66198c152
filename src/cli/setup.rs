//! `hedgehog-sidecar setup --url URL`: creates (idempotently) the custom fields, tags, roles,
//! webhook and event rule the product needs in NetBox, and prints what it did.

use crate::config::{Settings, resolve_secret};
use crate::netbox::NetBoxClient;
use crate::netbox::setup::{DEFAULT_NAME, SetupSpec, run_setup};

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The sidecar's base URL as NetBox reaches it; the webhook posts to `<URL>/webhooks/netbox`.
    #[arg(long)]
    pub url: String,
    /// Name of the webhook and of the event rule.
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
}

pub async fn run(settings: Settings, args: SetupArgs) -> anyhow::Result<()> {
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let webhook_secret = resolve_secret(
        "webhook.secret",
        settings.webhook.secret.as_ref(),
        settings.webhook.secret_file.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let spec = SetupSpec {
        sidecar_url: args.url,
        webhook_secret,
        mappings: settings.fabrics.iter().map(|f| f.mapping.clone()).collect(),
        name: args.name,
    };
    let report = run_setup(&client, &spec).await?;
    println!("{report}");
    Ok(())
}
