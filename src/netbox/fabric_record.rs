//! The NetBox object that stands for a whole fabric: a cluster (`virtualization.cluster`) of
//! type `hedgehog-fabric` (`mapping.fabric_record_type`) named after the fabric.
//!
//! Fabric-wide conditions (the cluster unreachable, a reconcile that could not finish) are
//! written there once instead of on every object, and journal entries whose NetBox object is
//! gone land there. Clusters carry custom fields and a journal, and the sidecar's event rule
//! does not listen to them, so writing the record sends no webhook.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::client::NetBoxClient;
use super::endpoints::{CLUSTER_TYPES, CLUSTERS};
use super::error::NetBoxError;
use super::pagination::ListQuery;
use super::setup::ensure::{Desired, ensure};
use super::types::CustomFields;

/// The object type journal entries on a fabric record are assigned to.
pub(crate) const RECORD_OBJECT_TYPE: &str = "virtualization.cluster";

/// A fabric's record as NetBox holds it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FabricRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub custom_fields: CustomFields,
}

/// The cluster type fabric records have (created by `setup`, or on first use).
pub fn record_type(slug: &str) -> Desired {
    let body = json!({
        "name": slug,
        "slug": slug,
        "description": "A Hedgehog fabric served by hedgehog-sidecar: its sync status and journal",
    });
    Desired {
        endpoint: CLUSTER_TYPES,
        key: "slug",
        value: slug.to_owned(),
        body: match body {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        union_fields: &[],
        kept_fields: &[],
    }
}

/// Finds fabric `fabric`'s record, creating it (and its cluster type) when missing.
pub(crate) async fn ensure_record(
    client: &NetBoxClient,
    type_slug: &str,
    fabric: &str,
) -> Result<FabricRecord, NetBoxError> {
    if let Some(record) = find_record(client, type_slug, fabric).await? {
        return Ok(record);
    }
    let (type_id, _) = ensure(client, &record_type(type_slug)).await?;
    let body = json!({
        "name": fabric,
        "type": type_id,
        "status": "active",
        "description": format!("Hedgehog fabric {fabric}"),
    });
    client.post(CLUSTERS.path, &body).await
}

/// Fabric `fabric`'s record, if NetBox has one.
pub async fn find_record(
    client: &NetBoxClient,
    type_slug: &str,
    fabric: &str,
) -> Result<Option<FabricRecord>, NetBoxError> {
    let query = ListQuery::new()
        .filter("type", type_slug)
        .filter("name", fabric)
        .fields(&["id", "name", "custom_fields"]);
    let found: Vec<FabricRecord> = client.list(CLUSTERS.path, &query).await?;
    // NetBox's name filter is exact, but a wrong filter must never pick another fabric's record.
    Ok(found.into_iter().find(|r| r.name == fabric))
}

/// Writes custom field values onto a fabric record.
pub(crate) async fn patch_record(
    client: &NetBoxClient,
    id: u64,
    values: &Map<String, Value>,
) -> Result<(), NetBoxError> {
    let _: Value = client
        .patch(&CLUSTERS.detail(id), &json!({"custom_fields": values}))
        .await?;
    Ok(())
}
