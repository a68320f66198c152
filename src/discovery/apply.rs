//! Writing a plan: the creations ([`apply_create`](super::apply_create)), one bulk PATCH per
//! object type and chunk, the cables LLDP proves, and a journal entry on each interface whose
//! cabling just became a mismatch.

use serde::Serialize;
use serde_json::{Value, json};

use super::apply_create::{Created, create};
use super::kind::ObjectKind;
use super::observation::Field;
use super::plan::{Plan, Update, is_mismatch};
use crate::config::CustomFieldNames;
use crate::netbox::endpoints::{CABLES, Endpoint, INTERFACES};
use crate::netbox::writeback::{JournalEntry, JournalKind, WRITE_CHUNK, write_journal};
use crate::netbox::{NetBoxClient, NetBoxError};

/// What applying wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub created: Created,
    pub devices: usize,
    pub interfaces: usize,
    pub cables: usize,
    pub journal_entries: usize,
}

pub async fn apply(
    client: &NetBoxClient,
    plan: &Plan,
    names: &CustomFieldNames,
) -> Result<Applied, NetBoxError> {
    let mut applied = Applied {
        created: create(client, &plan.creates).await?,
        devices: patch(client, &plan.devices, ObjectKind::endpoint).await?,
        interfaces: patch(client, &plan.interfaces, ObjectKind::interface_endpoint).await?,
        ..Applied::default()
    };
    applied.cables = create_cables(client, &plan.cables).await?;
    let entries = journal(plan, names);
    applied.journal_entries = write_journal(client, &entries).await?.len();
    Ok(applied)
}

/// PATCHes `updates` on the endpoint `endpoint` gives for each kind (objects or interfaces).
async fn patch(
    client: &NetBoxClient,
    updates: &[Update],
    endpoint: fn(ObjectKind) -> Endpoint,
) -> Result<usize, NetBoxError> {
    for kind in [ObjectKind::Device, ObjectKind::VirtualMachine] {
        let endpoint = endpoint(kind);
        let of_kind: Vec<&Update> = updates.iter().filter(|u| u.kind == kind).collect();
        for chunk in of_kind.chunks(WRITE_CHUNK) {
            let body: Vec<&serde_json::Map<String, Value>> =
                chunk.iter().map(|u| &u.body).collect();
            let _: Vec<Value> = client.patch(endpoint.path, &body).await?;
        }
    }
    Ok(updates.len())
}

async fn create_cables(client: &NetBoxClient, cables: &[(u64, u64)]) -> Result<usize, NetBoxError> {
    let end = |id: u64| json!([{"object_type": "dcim.interface", "object_id": id}]);
    for chunk in cables.chunks(WRITE_CHUNK) {
        let body: Vec<Value> = chunk
            .iter()
            .map(|(a, b)| {
                json!({"a_terminations": end(*a), "b_terminations": end(*b), "status": "connected",
                       "description": "created by discovery: LLDP sees this link"})
            })
            .collect();
        let _: Vec<Value> = client.post(CABLES.path, &body).await?;
    }
    Ok(cables.len())
}

/// A warning on each interface whose cabling field changes to a mismatch.
fn journal(plan: &Plan, names: &CustomFieldNames) -> Vec<JournalEntry> {
    let key = Field::Custom(names.cabling.clone()).key();
    plan.interfaces
        .iter()
        .filter(|u| u.changes.iter().any(|c| c.field == key))
        .filter_map(|u| {
            let finding = plan.cabling.iter().find(|f| f.interface_id == u.id)?;
            is_mismatch(finding).then(|| JournalEntry {
                assigned_object_type: INTERFACES.object_type.to_owned(),
                assigned_object_id: u.id,
                kind: JournalKind::Warning,
                comments: format!("Cabling drift: {}", finding.message()),
            })
        })
        .collect()
}
