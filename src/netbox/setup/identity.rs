//! The sidecar's own NetBox user: the write-backs are made as that user, and the webhook
//! intake ignores that user's events (`webhook.ignore_users`), so the sidecar never reacts to
//! itself. Setup checks whether the configured token already is that user's; otherwise it
//! creates the user, an object permission limited to what the sidecar reads and writes, and,
//! when the user has no token yet, one token, shown once.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ensure::{Desired, Outcome, ensure};
use crate::netbox::client::NetBoxClient;
use crate::netbox::endpoints::{self as ep, FABRIC_OBJECT_TYPES};
use crate::netbox::error::NetBoxError;
use crate::netbox::pagination::ListQuery;

const USERS: &str = "users/users/";
const TOKENS: &str = "users/tokens/";

/// What setup found or made for the sidecar's user.
#[derive(Debug, serde::Serialize)]
pub struct Identity {
    pub username: String,
    pub user_id: u64,
    /// The configured token already belongs to the sidecar's user.
    pub configured: bool,
    pub user: Outcome,
    pub permission: Outcome,
    /// A token created for the user (shown once: NetBox never returns it again, so every
    /// output format carries it).
    #[serde(serialize_with = "shown_once")]
    pub new_token: Option<SecretString>,
}

fn shown_once<S: serde::Serializer>(
    token: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    serializer.serialize_some(&token.as_ref().map(|t| t.expose_secret()))
}

#[derive(Deserialize)]
struct User {
    id: u64,
    username: String,
}

/// The user the configured token authenticates as.
pub async fn current_user(client: &NetBoxClient) -> Result<String, NetBoxError> {
    let user: User = client.get("authentication-check/", &[]).await?;
    Ok(user.username)
}

/// Ensures user `username` exists with the permissions the sidecar needs, and a token.
pub async fn ensure_identity(
    client: &NetBoxClient,
    username: &str,
) -> Result<Identity, NetBoxError> {
    let me: User = client.get("authentication-check/", &[]).await?;
    if me.username == username {
        // Running as the sidecar's own user, which may not manage users: nothing to do.
        return Ok(Identity {
            username: me.username,
            user_id: me.id,
            configured: true,
            user: Outcome::Unchanged,
            permission: Outcome::Unchanged,
            new_token: None,
        });
    }
    let (user_id, user) = ensure_user(client, username).await?;
    let (_, permission) = ensure(client, &permission(username, user_id)).await?;
    Ok(Identity {
        username: username.to_owned(),
        user_id,
        configured: false,
        user,
        permission,
        new_token: ensure_token(client, user_id).await?,
    })
}

async fn ensure_user(client: &NetBoxClient, username: &str) -> Result<(u64, Outcome), NetBoxError> {
    let query = ListQuery::new().filter("username", username);
    let found: Vec<User> = client.list(USERS, &query).await?;
    if let Some(user) = found.into_iter().find(|u| u.username == username) {
        return Ok((user.id, Outcome::Unchanged));
    }
    // The user signs in with its token only; the password is random and never shown.
    // NetBox's validators want upper and lower case letters and digits.
    let password = format!(
        "Hh{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let created: User = client
        .post(
            USERS,
            &json!({"username": username, "password": password, "is_active": true}),
        )
        .await?;
    Ok((created.id, Outcome::Created))
}

/// What the sidecar reads (the fabric's objects, roles, tags, custom fields) and writes
/// (status fields, journal entries, its fabric records, what discovery creates).
fn permission(username: &str, user_id: u64) -> Desired {
    let object_types: Vec<&str> = FABRIC_OBJECT_TYPES
        .iter()
        .copied()
        .chain([
            ep::SITES.object_type,
            ep::DEVICE_TYPES.object_type,
            ep::DEVICE_ROLES.object_type,
            ep::IPAM_ROLES.object_type,
            ep::TAGS.object_type,
            ep::CUSTOM_FIELDS.object_type,
            ep::CHOICE_SETS.object_type,
            ep::JOURNAL_ENTRIES.object_type,
            ep::CLUSTER_TYPES.object_type,
            ep::CLUSTERS.object_type,
            ep::MANUFACTURERS.object_type,
            ep::PLATFORMS.object_type,
            ep::VIRTUAL_MACHINES.object_type,
            ep::VM_INTERFACES.object_type,
            "dcim.cabletermination",
        ])
        .collect();
    let body = json!({
        "name": username,
        "description": "What hedgehog-sidecar reads and writes back",
        "enabled": true,
        "object_types": object_types,
        "actions": ["view", "add", "change", "delete"],
        "users": [user_id],
    });
    Desired {
        endpoint: ep::PERMISSIONS,
        key: "name",
        value: username.to_owned(),
        body: body.as_object().cloned().unwrap_or_default(),
        union_fields: &["object_types", "users"],
        kept_fields: &[],
    }
}

/// Creates a write-enabled token when the user has none (a second run changes nothing).
async fn ensure_token(
    client: &NetBoxClient,
    user_id: u64,
) -> Result<Option<SecretString>, NetBoxError> {
    let query = ListQuery::new().filter("user_id", user_id);
    let existing: Vec<Value> = client.list(TOKENS, &query).await?;
    if existing.iter().any(|t| t["user"]["id"] == json!(user_id)) {
        return Ok(None);
    }
    let created: Value = client
        .post(
            TOKENS,
            &json!({"user": user_id, "write_enabled": true,
                    "description": "hedgehog-sidecar (created by setup)"}),
        )
        .await?;
    let header = match (created["key"].as_str(), created["token"].as_str()) {
        (Some(key), Some(token)) => format!("nbt_{key}.{token}"),
        (None, Some(token)) => token.to_owned(),
        _ => return Ok(None),
    };
    Ok(Some(SecretString::from(header)))
}
