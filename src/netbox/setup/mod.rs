//! `setup`: creates, idempotently, everything the product needs in NetBox. Running it again
//! changes nothing; a changed configuration PATCHes only the fields that differ.

mod definitions;
pub(crate) mod ensure;
mod event_rules;
pub mod fabric_choices;
pub mod identity;
pub mod links;

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

#[derive(Debug, Clone, Default)]
pub struct SetupSpec {
    /// The sidecar's base URL as NetBox reaches it; the webhook posts to `<url>/webhooks/netbox`.
    pub sidecar_url: String,
    /// The webhook's signing secret (the first of a comma-separated list).
    pub webhook_secret: Option<SecretString>,
    /// The mappings of all configured fabrics (custom field names, tags, roles).
    pub mappings: Vec<MappingConfig>,
    /// The instance's name: of the webhook, its event rules and the custom links.
    pub name: String,
    /// The sidecar's own NetBox user (see [`identity`]); `None` leaves users alone.
    pub sidecar_user: Option<String>,
    /// The configured fabrics' names, in the order of `mappings`: their saved filters and,
    /// with `fabric_choices`, the choices of the fabric custom field.
    pub fabrics: Vec<String>,
    /// Make the fabric custom field a selection of `fabrics` (see [`fabric_choices`]).
    pub fabric_choices: bool,
    /// The sidecar's UI as browsers reach it: NetBox's objects link to it (see [`links`]).
    pub sidecar_public_url: Option<String>,
}

/// One object setup looked at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetupItem {
    pub object_type: &'static str,
    pub name: String,
    pub id: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct SetupReport {
    pub items: Vec<SetupItem>,
    /// What setup could not do and the operator may want to (printed after the items).
    pub notes: Vec<String>,
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
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
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
    // The fabric field's type is decided when it is created: the choices come first.
    let choices = fabric_choices::ensure(client, spec).await?;
    let mut report = ensure_schema(client, &spec.mappings).await?;
    report.items.splice(0..0, choices.items);
    report.notes = choices.notes;
    let report = ensure_webhook(client, spec, report).await?;
    let mut report = ensure_views(client, spec, report).await?;
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
    let rules = event_rules::event_rules(&spec.name, webhook_id, &spec.mappings, &spec.fabrics);
    apply(client, &mut report, &rules).await?;
    Ok(report)
}

/// What NetBox shows of the sidecar: the saved filters of each fabric's problems and the
/// links to the sidecar's UI.
async fn ensure_views(
    client: &NetBoxClient,
    spec: &SetupSpec,
    mut report: SetupReport,
) -> Result<SetupReport, NetBoxError> {
    let default = MappingConfig::default();
    let first = spec.mappings.first().unwrap_or(&default);
    let fabrics: Vec<(String, MappingConfig)> = spec
        .fabrics
        .iter()
        .cloned()
        .zip(spec.mappings.iter().cloned())
        .collect();
    let mut views = links::saved_filters(&fabrics);
    if let Some(url) = &spec.sidecar_public_url {
        views.extend(links::custom_links(&spec.name, url, first));
    }
    apply(client, &mut report, &views).await?;
    Ok(report)
}

/// Deletes the custom links named after `instance`: what [`run_setup`] created for a public
/// URL. Returns how many were deleted.
pub async fn remove_links(client: &NetBoxClient, instance: &str) -> Result<usize, NetBoxError> {
    let links = links::custom_links(instance, "", &MappingConfig::default());
    let names: Vec<String> = links.into_iter().map(|l| l.value).collect();
    remove_named(client, endpoints::CUSTOM_LINKS, "name", &names).await
}

/// Deletes the saved filters of `fabric`.
pub async fn remove_saved_filters(
    client: &NetBoxClient,
    fabric: &str,
) -> Result<usize, NetBoxError> {
    let filters = links::saved_filters(&[(fabric.to_owned(), MappingConfig::default())]);
    let slugs: Vec<String> = filters.into_iter().map(|f| f.value).collect();
    remove_named(client, endpoints::SAVED_FILTERS, "slug", &slugs).await
}

/// Deletes the objects of `endpoint` whose `key` is one of `values` exactly.
async fn remove_named(
    client: &NetBoxClient,
    endpoint: endpoints::Endpoint,
    key: &str,
    values: &[String],
) -> Result<usize, NetBoxError> {
    let query = values
        .iter()
        .fold(ListQuery::new(), |q, v| q.filter(key, v));
    let found: Vec<serde_json::Value> = client.list(endpoint.path, &query).await?;
    let mut removed = 0;
    for object in found {
        let ours = values.iter().any(|v| object[key] == v.as_str());
        if let (true, Some(id)) = (ours, object["id"].as_u64()) {
            client.delete::<()>(&endpoint.detail(id), None).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Deletes the event rules and the webhook setup named after `name` (the custom fields, tags
/// and roles stay: objects may still use them). Returns how many objects were deleted.
pub async fn remove_webhook(client: &NetBoxClient, name: &str) -> Result<usize, NetBoxError> {
    let rules: Vec<String> = event_rules::SUFFIXES
        .iter()
        .map(|s| format!("{name}{s}"))
        .collect();
    let removed = remove_named(client, endpoints::EVENT_RULES, "name", &rules).await?;
    Ok(removed + remove_named(client, endpoints::WEBHOOKS, "name", &[name.to_owned()]).await?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_as_json_names_each_outcome_and_carries_a_new_token() {
        let report = SetupReport {
            items: vec![SetupItem {
                object_type: "extras.webhook",
                name: "hhs".into(),
                id: 4,
                outcome: Outcome::Updated(vec!["payload_url".into()]),
            }],
            notes: vec![],
            identity: Some(identity::Identity {
                username: "hedgehog-sidecar".into(),
                user_id: 9,
                configured: false,
                user: Outcome::Created,
                permission: Outcome::Unchanged,
                new_token: Some(SecretString::from("nbt_a.b".to_owned())),
            }),
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["items"][0]["outcome"],
            serde_json::json!({"updated": ["payload_url"]})
        );
        assert_eq!(json["identity"]["user"], "created");
        assert_eq!(
            json["identity"]["new_token"], "nbt_a.b",
            "shown once, in any format"
        );
    }
}
