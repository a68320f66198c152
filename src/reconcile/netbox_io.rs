//! The reconciler's NetBox side: the desired state loaded and rendered from NetBox, and the
//! write-back applied to NetBox in bulk.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Map;

use super::engine::{Desired, DesiredSource, Problem, StatusWriter};
use super::writeback::WritebackPlan;
use crate::config::FabricConfig;
use crate::mapping;
use crate::model::Kind;
use crate::netbox::writeback::{CustomFieldUpdate, patch_custom_fields, write_journal};
use crate::netbox::{FabricSnapshot, NetBoxClient, load_fabric};

/// Renders a fabric from a NetBox snapshot, keeping violations as problems instead of failing.
pub fn desired_from_snapshot(fabric: &FabricConfig, snapshot: FabricSnapshot) -> Desired {
    let mut desired = Desired {
        snapshot,
        ..Desired::default()
    };
    match mapping::render(fabric, &desired.snapshot) {
        Ok(rendered) => {
            for manifest in &rendered.manifests {
                let Some(key) = manifest.key() else { continue };
                if key.kind == Kind::Switch
                    && let Some(device) = rendered
                        .sources_of(&key)
                        .iter()
                        .find(|s| s.object_type == "dcim.device")
                {
                    desired
                        .switch_devices
                        .insert(key.name.clone(), device.clone());
                }
            }
            desired.manifests = rendered.manifests;
            desired.sources = rendered.sources;
        }
        Err(error) => {
            desired.problems = error
                .violations
                .into_iter()
                .map(|v| Problem {
                    objects: v.sources,
                    message: v.message,
                })
                .collect();
        }
    }
    desired
}

/// Loads a fabric from NetBox and renders it.
pub struct NetBoxDesired {
    pub client: NetBoxClient,
}

#[async_trait]
impl DesiredSource for NetBoxDesired {
    async fn desired(&self, fabric: &FabricConfig) -> Result<Desired, String> {
        let snapshot = load_fabric(&self.client, fabric)
            .await
            .map_err(|e| e.to_string())?;
        Ok(desired_from_snapshot(fabric, snapshot))
    }
}

/// Writes status custom fields (one bulk PATCH per object type) and journal entries.
pub struct NetBoxStatusWriter {
    pub client: NetBoxClient,
}

#[async_trait]
impl StatusWriter for NetBoxStatusWriter {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), String> {
        let mut by_type: BTreeMap<&str, Vec<CustomFieldUpdate>> = BTreeMap::new();
        for update in &plan.updates {
            by_type
                .entry(update.object.object_type.as_str())
                .or_default()
                .push(CustomFieldUpdate {
                    id: update.object.id,
                    values: update
                        .custom_fields
                        .clone()
                        .into_iter()
                        .collect::<Map<_, _>>(),
                });
        }
        for (object_type, updates) in by_type {
            patch_custom_fields(&self.client, object_type, &updates)
                .await
                .map_err(|e| format!("updating {object_type} status: {e}"))?;
        }
        if !plan.journal.is_empty() {
            write_journal(&self.client, &plan.journal)
                .await
                .map_err(|e| format!("writing journal entries: {e}"))?;
        }
        Ok(())
    }
}
