//! A fabric's NetBox snapshot kept up to date from webhooks instead of read in full: the
//! objects NetBox sends are applied to it ([`apply`]), plus targeted reads of what they newly
//! refer to (VLANs outside the fabric's groups). What cannot be applied asks for a full read.

mod apply;
#[cfg(test)]
mod apply_tests;
mod cache;

use std::collections::BTreeSet;

use serde_json::Value;

pub use self::apply::{Effect, Membership, apply};
pub use self::cache::{KeptSnapshot, SnapshotCache};
use super::load::{missing_vlans, read_vlans, used_vlans};
use super::{FabricSnapshot, NetBoxClient, NetBoxError};
use crate::config::FabricConfig;

/// One NetBox change as its webhook tells it: the object whole, as the REST API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectChange {
    /// `dcim.device`, ...
    pub object_type: String,
    /// `created`, `updated` or `deleted`.
    pub event: String,
    pub data: Value,
}

/// Brings `snapshot` up to date with `changes`, in order. `Ok(None)` when it now equals a full
/// read; `Ok(Some(why))` when a change cannot be applied and the fabric must be read in full
/// (the snapshot is then half-updated and must be dropped).
pub async fn bring_up_to_date(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    snapshot: &mut FabricSnapshot,
    changes: &[ObjectChange],
) -> Result<Option<&'static str>, NetBoxError> {
    let members = Membership {
        custom_field: &fabric.mapping.custom_fields.fabric,
        fabric: &fabric.name,
    };
    for change in changes {
        if let Effect::Reload(why) = apply(snapshot, change, &members) {
            return Ok(Some(why));
        }
    }
    let missing = missing_vlans(snapshot);
    if !missing.is_empty() {
        read_vlans(client, snapshot, &missing).await?;
    }
    drop_unused_outside_vlans(snapshot, &members);
    Ok(None)
}

/// VLANs outside the fabric's groups are held only while the fabric uses them.
fn drop_unused_outside_vlans(snapshot: &mut FabricSnapshot, members: &Membership) {
    let used = used_vlans(snapshot);
    let groups: BTreeSet<u64> = snapshot.vlan_groups.iter().map(|g| g.id).collect();
    snapshot.vlans.retain(|v| {
        used.contains(&v.id)
            || members.holds(&v.custom_fields)
            || v.group.as_ref().is_some_and(|g| groups.contains(&g.id))
    });
}
