//! Writing results back into NetBox: custom field values in bulk (one PATCH per object type
//! and chunk) and journal entries.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client::NetBoxClient;
use super::endpoints::{self, JOURNAL_ENTRIES};
use super::error::{ClientConfigError, NetBoxError};

/// Objects per bulk write: large enough to be few requests, small enough to stay well inside
/// NetBox's (and gunicorn's) request timeout even on a busy NetBox, where creating one device
/// can take a fraction of a second.
pub(crate) const WRITE_CHUNK: usize = 100;

/// New custom field values for one object. Select fields are written as their raw value.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomFieldUpdate {
    pub id: u64,
    pub values: Map<String, Value>,
}

/// PATCHes custom fields of many objects of one type (`dcim.device`), in bulk.
/// Returns the number of objects written.
pub async fn patch_custom_fields(
    client: &NetBoxClient,
    object_type: &str,
    updates: &[CustomFieldUpdate],
) -> Result<usize, NetBoxError> {
    let endpoint = endpoints::for_object_type(object_type).ok_or_else(|| {
        NetBoxError::from(ClientConfigError::UnknownObjectType(object_type.to_owned()))
    })?;
    for chunk in updates.chunks(WRITE_CHUNK) {
        let body: Vec<Value> = chunk
            .iter()
            .map(|u| serde_json::json!({"id": u.id, "custom_fields": u.values}))
            .collect();
        let _: Vec<Value> = client.patch(endpoint.path, &body).await?;
    }
    Ok(updates.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalKind {
    Info,
    Success,
    Warning,
    Danger,
}

/// A journal entry on one object; `comments` is Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub assigned_object_type: String,
    pub assigned_object_id: u64,
    pub kind: JournalKind,
    pub comments: String,
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// Writes journal entries (one bulk request per chunk) and returns their ids.
pub async fn write_journal(
    client: &NetBoxClient,
    entries: &[JournalEntry],
) -> Result<Vec<u64>, NetBoxError> {
    let mut ids = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(WRITE_CHUNK) {
        ids.extend(write_journal_halving(client, chunk).await?);
    }
    Ok(ids)
}

/// Writes `entries` in one bulk request. NetBox creates a bulk all or nothing and refuses it
/// whole when one entry's object was deleted since it was read (a cable deleted while its job
/// ran), so a refused bulk is split in halves until the refused entries stand alone; those are
/// skipped with a warning. One bad entry among a hundred costs about 14 requests, not 100.
async fn write_journal_halving(
    client: &NetBoxClient,
    entries: &[JournalEntry],
) -> Result<Vec<u64>, NetBoxError> {
    let mut ids = Vec::with_capacity(entries.len());
    let mut pending = vec![entries];
    while let Some(part) = pending.pop() {
        match client
            .post::<_, Vec<Created>>(JOURNAL_ENTRIES.path, part)
            .await
        {
            Ok(created) => ids.extend(created.into_iter().map(|c| c.id)),
            Err(error) if error.status() == Some(400) && part.len() > 1 => {
                let (first, second) = part.split_at(part.len() / 2);
                // Popped first-half first, so the entries keep their order.
                pending.extend([second, first]);
            }
            Err(error) if error.status() == Some(400) => {
                let entry = &part[0];
                tracing::warn!(object_type = %entry.assigned_object_type,
                    id = entry.assigned_object_id, %error, "journal entry refused; skipped");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(ids)
}
