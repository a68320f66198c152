//! `hedgehog-sidecar setup --url URL`: creates (idempotently) the custom fields, tags, roles,
//! webhook and event rules the product needs in NetBox, the fabric field's choices, saved
//! filters and links to the sidecar's UI, and prints what it did.

use anyhow::Context as _;

use super::output::OutputFormat;
use crate::allocation::ensure_pools;
use crate::config::{Settings, resolve_secret};
use crate::fabric_env::FabricEnvSource;
use crate::netbox::NetBoxClient;
use crate::netbox::setup::{SetupSpec, run_setup};

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The sidecar's base URL as NetBox reaches it; the webhook posts to `<URL>/webhooks/netbox`.
    #[arg(long)]
    pub url: String,
    /// Name of the webhook, its event rules and the custom links (default: `instance`).
    #[arg(long)]
    pub name: Option<String>,
    /// The sidecar's own NetBox user (created with a permission and a token when missing);
    /// default: the first of `webhook.ignore_users`, so its write-backs are never queued.
    #[arg(long)]
    pub user: Option<String>,
    /// How to print the report (every format carries a token created for the user).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: SetupArgs) -> anyhow::Result<()> {
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    let webhook_secret = resolve_secret(
        "webhook.secret",
        settings.webhook.secret.as_ref(),
        settings.webhook.secret_file.as_deref(),
    )
    .context("invalid configuration")?;
    let ignored = &settings.webhook.ignore_users;
    let user = args.user.or_else(|| ignored.first().cloned());
    if let Some(user) = &user
        && !ignored.contains(user)
    {
        tracing::warn!(%user, "the sidecar's user is not in webhook.ignore_users: its write-backs would be queued");
    }
    let spec = SetupSpec {
        sidecar_url: args.url,
        webhook_secret,
        mappings: settings.fabrics.iter().map(|f| f.mapping.clone()).collect(),
        name: args.name.unwrap_or_else(|| settings.instance.clone()),
        sidecar_user: user,
        fabrics: settings.fabrics.iter().map(|f| f.name.clone()).collect(),
        fabric_choices: settings.netbox.fabric_choices,
        sidecar_public_url: settings.sidecar_public_url.clone(),
    };
    let report = run_setup(&client, &spec).await?;
    args.output.print(&report, || format!("{report}\n"))?;
    for fabric in settings.fabrics.iter().filter(|f| f.allocate) {
        // The pools are the fabric's own configuration: its cluster's in apply mode.
        let resolved = FabricEnvSource::connect(fabric)
            .await?
            .resolve(fabric)
            .await?;
        let ids = ensure_pools(&client, &resolved).await?;
        println!("allocation pools of fabric {}: {ids:?}", fabric.name);
    }
    Ok(())
}
