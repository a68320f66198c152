//! `setup`: creates, idempotently, everything the product needs in NetBox. Running it again
//! changes nothing; a changed configuration PATCHes only the fields that differ.

mod definitions;
pub(crate) mod ensure;
mod event_rules;
pub mod identity;

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

pub use definitions::{STATUS_CHOICE_SET, STATUS_CHOICES};
pub use ensure::Outcome;

use super::client::NetBoxClient;
use super::endpoints;
use super::error::NetBoxError;
use super::pagination::ListQuery;
use crate::config::MappingConfig;
use ensure::{Desired, ensure};

/// Default name of the webhook and the event rule.
pub(crate) const DEFAULT_NAME: &str = "hedgehog-sidecar";

#[derive(Debug, Clone)]
pub struct SetupSpec {
    /// The sidecar's base URL as NetBox reaches it; the webhook posts to `<url>/webhooks/netbox`.
    pub sidecar_url: String,
    /// The webhook's signing secret (the first of a comma-separated list).
    pub webhook_secret: Option<SecretString>,
    /// The mappings of all configured fabrics (custom field names, tags, roles).
    pub mappings: Vec<MappingConfig>,
    /// Name of the webhook and of the event rule.
    pub name: String,
    /// The sidecar's own NetBox user (see [`identity`]); `None` leaves users alone.
    pub sidecar_user: Option<String>,
}

/// One object setup looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupItem {
    pub object_type: &'static str,
    pub name: String,
    pub id: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub struct SetupReport {
    pub items: Vec<SetupItem>,
    pub identity: Option<identity::Identity>,
}

impl SetupReport {
    pub fn created(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Created))
    }
    pub fn updated(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Updated(_)))
    }
    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unchanged))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.items.iter().filter(|i| f(&i.outcome)).count()
    }
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(
                f,
                "{:<28} {:<28} {}",
                item.object_type, item.name, item.outcome
            )?;
        }
        if let Some(id) = &self.identity {
            writeln!(
                f,
                "{:<28} {:<28} user {}, permission {}",
                "users.user", id.username, id.user, id.permission
            )?;
            if id.configured {
                writeln!(f, "the configured token is {}'s own", id.username)?;
            } else if let Some(token) = &id.new_token {
                writeln!(
                    f,
                    "token for {} (shown once; set it as netbox.token): {}",
                    id.username,
                    secrecy::ExposeSecret::expose_secret(token)
                )?;
            } else {
                writeln!(
                    f,
                    "the configured token is not {}'s: set netbox.token to one of its tokens, \
                     or its write-backs come back as webhooks",
                    id.username
                )?;
            }
        }
        write!(
            f,
            "{} created, {} updated, {} unchanged",
            self.created(),
            self.updated(),
            self.unchanged()
        )
    }
}

/// Brings NetBox in line with `spec`: [`ensure_schema`], then the webhook and its event rules.
pub async fn run_setup(
    client: &NetBoxClient,
    spec: &SetupSpec,
) -> Result<SetupReport, NetBoxError> {
    let report = ensure_schema(client, &spec.mappings).await?;
    let mut report = ensure_webhook(client, spec, report).await?;
    if let Some(user) = &spec.sidecar_user {
        report.identity = Some(identity::ensure_identity(client, user).await?);
    }
    Ok(report)
}

/// The custom fields, tags and roles the mappings use (what objects need before they can carry
/// the product's fields), without a webhook: for seeding, imports and benchmarks.
pub async fn ensure_schema(
    client: &NetBoxClient,
    mappings: &[MappingConfig],
) -> Result<SetupReport, NetBoxError> {
    let mappings = if mappings.is_empty() {
        vec![MappingConfig::default()]
    } else {
        mappings.to_vec()
    };
    let mut report = SetupReport::default();
    // The choice set first: the select custom field refers to it.
    apply(client, &mut report, &[definitions::status_choice_set()]).await?;
    let independent: Vec<Desired> = definitions::custom_fields(&mappings)
        .into_iter()
        .chain(definitions::tags(&mappings))
        .chain(definitions::device_roles(&mappings))
        .chain(definitions::ipam_roles(&mappings))
        .chain(definitions::fabric_record_types(&mappings))
        .collect();
    apply(client, &mut report, &independent).await?;
    Ok(report)
}

async fn ensure_webhook(
    client: &NetBoxClient,
    spec: &SetupSpec,
    mut report: SetupReport,
) -> Result<SetupReport, NetBoxError> {
    let secret = spec
        .webhook_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default();
    if secret.is_empty() {
        tracing::warn!("no webhook.secret configured: NetBox's webhook will not be signed");
    }
    let webhook = definitions::webhook(&spec.name, &spec.sidecar_url, &secret);
    let webhook_id = apply(client, &mut report, &[webhook]).await?[0];
    let rules = event_rules::event_rules(&spec.name, webhook_id, &spec.mappings);
    apply(client, &mut report, &rules).await?;
    Ok(report)
}

/// Deletes the event rules and the webhook setup named after `name` (the custom fields, tags
/// and roles stay: objects may still use them). Returns how many objects were deleted.
pub async fn remove_webhook(client: &NetBoxClient, name: &str) -> Result<usize, NetBoxError> {
    let mut removed = 0;
    let rules: Vec<String> = event_rules::SUFFIXES
        .iter()
        .map(|s| format!("{name}{s}"))
        .collect();
    let targets = [
        (endpoints::EVENT_RULES, rules),
        (endpoints::WEBHOOKS, vec![name.to_owned()]),
    ];
    for (endpoint, names) in targets {
        let query = names
            .iter()
            .fold(ListQuery::new(), |q, n| q.filter("name", n));
        let found: Vec<serde_json::Value> = client.list(endpoint.path, &query).await?;
        let ours = |o: &&serde_json::Value| names.iter().any(|n| o["name"] == n.as_str());
        for object in found.iter().filter(ours) {
            if let Some(id) = object["id"].as_u64() {
                client.delete::<()>(&endpoint.detail(id), None).await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Ensures the objects concurrently (bounded by the client); returns their ids in order.
async fn apply(
    client: &NetBoxClient,
    report: &mut SetupReport,
    desired: &[Desired],
) -> Result<Vec<u64>, NetBoxError> {
    let results = futures::future::try_join_all(desired.iter().map(|d| ensure(client, d))).await?;
    let mut ids = Vec::with_capacity(results.len());
    for (d, (id, outcome)) in desired.iter().zip(results) {
        if outcome != Outcome::Unchanged {
            tracing::info!(object_type = d.endpoint.object_type, name = %d.value, %outcome, "setup");
        }
        report.items.push(SetupItem {
            object_type: d.endpoint.object_type,
            name: d.value.clone(),
            id,
            outcome,
        });
        ids.push(id);
    }
    Ok(ids)
}
