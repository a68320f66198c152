//! NetBox's own change log (`core/object-changes`): who deleted an object, and when.
//!
//! Attribution normally comes from the webhooks intake recorded. A job may however read NetBox
//! after an object was deleted but before that deletion's webhook arrived (NetBox sends
//! webhooks from a queue, one at a time); what the job then prunes is put down to the change
//! log's record of the deletion, which NetBox wrote in the same transaction.

use serde::Deserialize;

use super::{NetBoxClient, NetBoxError};
use crate::attribution::NetBoxChange;

#[derive(Debug, Deserialize)]
struct Page {
    results: Vec<LoggedChange>,
}

#[derive(Debug, Deserialize)]
struct LoggedChange {
    time: String,
    request_id: Option<String>,
    user_name: Option<String>,
}

/// The logged deletion of `object_type` `id` (`dcim.cable`, 836), if NetBox logged one.
pub async fn deletion(
    client: &NetBoxClient,
    object_type: &str,
    id: u64,
) -> Result<Option<NetBoxChange>, NetBoxError> {
    let query = [
        ("changed_object_type", object_type.to_owned()),
        ("changed_object_id", id.to_string()),
        ("action", "delete".to_owned()),
        ("ordering", "-time".to_owned()),
        ("limit", "1".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let page: Page = client.get("core/object-changes/", &query).await?;
    Ok(page.results.into_iter().next().and_then(|logged| {
        NetBoxChange::new(
            object_type,
            i64::try_from(id).ok()?,
            logged.request_id.as_deref(),
            logged.user_name.as_deref(),
            &logged.time,
        )
    }))
}
