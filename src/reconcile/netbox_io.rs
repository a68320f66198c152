//! The reconciler's NetBox side: the desired state loaded and rendered from NetBox, and the
//! write-back applied to NetBox in bulk.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Map, Value};

use super::engine::{
    Basis, Desired, DesiredSource, Problem, SourceError, StatusWriter, WriteBackError, WriteFailure,
};
use super::isolation::held_back;
use super::sources::SourceRef;
use super::writeback::{JournalEntry, JournalKind, Outcome, WritebackPlan, plan_fabric_record};
use crate::allocation;
use crate::attribution::NetBoxChange;
use crate::config::FabricConfig;
use crate::fabric_env::FabricEnvSource;
use crate::mapping;
use crate::model::Kind;
use crate::netbox::changelog;
use crate::netbox::fabric_record::{RECORD_OBJECT_TYPE, ensure_record, patch_record};
use crate::netbox::incremental::{self, KeptSnapshot, ObjectChange, SnapshotCache};
use crate::netbox::writeback::{
    CustomFieldUpdate, WRITE_CHUNK, patch_custom_fields, write_journal,
};
use crate::netbox::{FabricSnapshot, NetBoxClient, NetBoxError, load_fabric};

/// Renders a fabric from a NetBox snapshot: violations become problems on the NetBox objects
/// to change, and only the objects they concern (and what depends on them) are held back.
pub fn desired_from_snapshot(fabric: &FabricConfig, snapshot: FabricSnapshot) -> Desired {
    let mut desired = Desired {
        snapshot,
        ..Desired::default()
    };
    let (rendered, violations) = mapping::render_all(fabric, &desired.snapshot);
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
    desired.held_back = held_back(&rendered.manifests, &rendered.sources, &violations);
    desired.manifests = rendered
        .manifests
        .into_iter()
        .filter(|m| m.key().is_none_or(|k| !desired.held_back.contains_key(&k)))
        .collect();
    desired.sources = rendered.sources;
    desired.problems = violations
        .into_iter()
        .map(|v| Problem {
            message: match &v.object {
                Some(object) => format!("{object}: {}", v.message),
                None => v.message,
            },
            objects: v.sources,
        })
        .collect();
    desired
}

/// Whether a fabric with `allocate = true` lacks values in `snapshot`.
fn lacks_values(resolved: &FabricConfig, snapshot: &FabricSnapshot) -> bool {
    resolved.allocate
        && !allocation::plan(resolved, snapshot, &allocation::Scope::Fabric).is_empty()
}

/// Loads a fabric from NetBox and renders it against the fabric's configuration and profiles,
/// read afresh each time from where `environments` says (the built-in ones for a fabric it
/// does not name). A publish's snapshot is kept in `kept` and brought up to date from the next
/// publish's webhooks.
pub(crate) struct NetBoxDesired {
    pub client: NetBoxClient,
    pub environments: BTreeMap<String, FabricEnvSource>,
    /// One allocator per fabric across the replicas (fabrics with `allocate = true`).
    pub allocator: allocation::AllocatorLease,
    pub kept: Arc<SnapshotCache>,
}

impl NetBoxDesired {
    /// The fabric resolved against its environment (configuration, profiles).
    async fn resolve(&self, fabric: &FabricConfig) -> Result<FabricConfig, SourceError> {
        let environment = self
            .environments
            .get(&fabric.name)
            .unwrap_or(&FabricEnvSource::Local);
        environment
            .resolve(fabric)
            .await
            .map_err(SourceError::FabricEnv)
    }

    /// The fabric resolved against its environment and its NetBox snapshot, read together.
    async fn read(
        &self,
        fabric: &FabricConfig,
    ) -> Result<(FabricConfig, FabricSnapshot), SourceError> {
        let (resolved, snapshot) =
            tokio::join!(self.resolve(fabric), load_fabric(&self.client, fabric));
        Ok((resolved?, snapshot.map_err(SourceError::NetBox)?))
    }

    /// Reads the fabric in full and renders it. A fabric with `allocate = true` is read under
    /// its allocator lease, after what deleted objects held is released and what the fabric
    /// lacks is allocated.
    async fn read_and_render(
        &self,
        fabric: &FabricConfig,
        resolved: &FabricConfig,
    ) -> Result<Desired, SourceError> {
        if !fabric.allocate {
            let snapshot = load_fabric(&self.client, fabric)
                .await
                .map_err(SourceError::NetBox)?;
            return Ok(desired_from_snapshot(resolved, snapshot));
        }
        let allocated =
            allocation::allocate_and_load(&self.client, resolved, &self.allocator, false).await;
        let snapshot = match allocated {
            Ok((_, snapshot)) => snapshot,
            Err(error) if error.is_retryable() => return Err(SourceError::Allocation(error)),
            // What stays missing is reported on its objects by validation.
            Err(error) => {
                tracing::warn!(fabric = %fabric.name, %error, "allocation failed");
                load_fabric(&self.client, fabric)
                    .await
                    .map_err(SourceError::NetBox)?
            }
        };
        Ok(desired_from_snapshot(resolved, snapshot))
    }

    /// The kept snapshot at `version` brought up to date with `changes`, if it can be.
    async fn kept_up_to_date(
        &self,
        fabric: &FabricConfig,
        changes: &[ObjectChange],
        version: Option<u64>,
    ) -> Result<Result<KeptSnapshot, u64>, SourceError> {
        let mut kept = match self.kept.checkout(&fabric.name, version) {
            Ok(kept) => kept,
            Err(generation) => return Ok(Err(generation)),
        };
        let applied =
            incremental::bring_up_to_date(&self.client, fabric, &mut kept.snapshot, changes)
                .await
                .map_err(SourceError::NetBox)?;
        match applied {
            None => Ok(Ok(kept)),
            Some(why) => {
                tracing::info!(fabric = %fabric.name, why, "reading the fabric in full");
                Ok(Err(kept.generation))
            }
        }
    }
}

#[async_trait]
impl DesiredSource for NetBoxDesired {
    async fn desired(&self, fabric: &FabricConfig) -> Result<Desired, SourceError> {
        let (resolved, snapshot) = self.read(fabric).await?;
        Ok(desired_from_snapshot(&resolved, snapshot))
    }

    async fn desired_allocated(&self, fabric: &FabricConfig) -> Result<Desired, SourceError> {
        let resolved = self.resolve(fabric).await?;
        self.read_and_render(fabric, &resolved).await
    }

    async fn desired_after(
        &self,
        fabric: &FabricConfig,
        changes: &[ObjectChange],
        version: Option<u64>,
    ) -> Result<(Desired, Basis), SourceError> {
        let (resolved, kept) = tokio::join!(
            self.resolve(fabric),
            self.kept_up_to_date(fabric, changes, version)
        );
        let resolved = resolved?;
        let generation = match kept? {
            // A kept snapshot only takes updates (creates and deletes are read in full), so no
            // value was freed; only one it lacks sends it through allocation. A steady fabric
            // costs no request.
            Ok(kept) if !lacks_values(&resolved, &kept.snapshot) => {
                let basis = Basis {
                    incremental: true,
                    generation: Some(kept.generation),
                };
                return Ok((desired_from_snapshot(&resolved, kept.snapshot), basis));
            }
            Ok(kept) => kept.generation,
            Err(generation) => generation,
        };
        let desired = self.read_and_render(fabric, &resolved).await?;
        let basis = Basis {
            incremental: false,
            generation: Some(generation),
        };
        Ok((desired, basis))
    }

    fn kept(&self) -> Option<&SnapshotCache> {
        Some(&self.kept)
    }

    async fn deletions(&self, objects: &[SourceRef]) -> Vec<NetBoxChange> {
        let mut found = Vec::new();
        for object in objects {
            match changelog::deletion(&self.client, &object.object_type, object.id).await {
                Ok(deletion) => found.extend(deletion),
                Err(error) => {
                    tracing::warn!(object_type = %object.object_type, id = object.id, %error,
                        "cannot read NetBox's change log to credit a prune");
                }
            }
        }
        found
    }
}

/// Writes status custom fields (one bulk PATCH per object type) and journal entries.
pub(crate) struct NetBoxStatusWriter {
    pub client: NetBoxClient,
    /// Kept snapshots take the custom fields written (NetBox sends no webhook for them).
    pub kept: Arc<SnapshotCache>,
}

#[async_trait]
impl StatusWriter for NetBoxStatusWriter {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), WriteBackError> {
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
            let written = patch_custom_fields(&self.client, object_type, &updates).await;
            match &written {
                Ok(_) => {
                    for update in &updates {
                        self.kept.wrote(object_type, update.id, &update.values);
                    }
                }
                // What NetBox took of a failed bulk write is unknown.
                Err(_) => self.kept.forget_all(),
            }
            written.map_err(|e| {
                // Setting the same custom fields again is harmless.
                let retryable = e.is_retryable();
                let failure = WriteFailure::new(format!("updating {object_type} status"), e);
                if retryable {
                    WriteBackError::Unavailable(failure)
                } else {
                    WriteBackError::Refused(failure)
                }
            })?;
        }
        if !plan.journal.is_empty() {
            write_journal(&self.client, &plan.journal)
                .await
                .map_err(|e| journal_error(e, plan.journal.len()))?;
        }
        Ok(())
    }

    async fn write_fabric(
        &self,
        fabric: &FabricConfig,
        outcome: &Outcome,
    ) -> Result<bool, WriteBackError> {
        let classify = |what: &str, e: NetBoxError| {
            let retryable = e.is_retryable();
            let failure = WriteFailure::new(format!("{what} fabric {}'s record", fabric.name), e);
            if retryable {
                WriteBackError::Unavailable(failure)
            } else {
                WriteBackError::Refused(failure)
            }
        };
        let mapping = &fabric.mapping;
        let record = ensure_record(&self.client, &mapping.fabric_record_type, &fabric.name)
            .await
            .map_err(|e| classify("finding", e))?;
        let (changes, journal) = plan_fabric_record(
            &record.custom_fields,
            outcome,
            &mapping.custom_fields,
            Utc::now(),
        );
        if changes.is_empty() {
            return Ok(false);
        }
        let values: Map<String, Value> = changes.into_iter().collect();
        patch_record(&self.client, record.id, &values)
            .await
            .map_err(|e| classify("updating", e))?;
        if let Some(kind) = journal {
            let entry = JournalEntry {
                assigned_object_type: RECORD_OBJECT_TYPE.into(),
                assigned_object_id: record.id,
                kind,
                comments: format!("Fabric {}: {} (reconcile)", fabric.name, outcome.message),
            };
            write_journal(&self.client, &[entry])
                .await
                .map_err(|e| journal_error(e, 1))?;
        }
        Ok(true)
    }

    async fn journal_fabric(
        &self,
        fabric: &FabricConfig,
        comments: &str,
    ) -> Result<(), WriteBackError> {
        let mapping = &fabric.mapping;
        let record = ensure_record(&self.client, &mapping.fabric_record_type, &fabric.name)
            .await
            .map_err(|e| {
                let what = format!("finding fabric {}'s record", fabric.name);
                WriteBackError::Unavailable(WriteFailure::new(what, e))
            })?;
        let entry = JournalEntry {
            assigned_object_type: RECORD_OBJECT_TYPE.into(),
            assigned_object_id: record.id,
            kind: JournalKind::Info,
            comments: comments.to_owned(),
        };
        write_journal(&self.client, &[entry])
            .await
            .map(|_| ())
            .map_err(|e| journal_error(e, 1))
    }
}

/// Journal entries are created, so writing them again is safe only if NetBox certainly
/// created none: the request failed before NetBox acted on it, and it was the only one (a
/// longer journal is posted in chunks, and an earlier chunk may have been created).
fn journal_error(error: NetBoxError, entries: usize) -> WriteBackError {
    let retry_safe = error.is_retryable_write() && entries <= WRITE_CHUNK;
    let retryable = error.is_retryable();
    let failure = WriteFailure::new("writing journal entries", error);
    if retry_safe {
        WriteBackError::Unavailable(failure)
    } else if retryable {
        WriteBackError::Uncertain(failure)
    } else {
        WriteBackError::Refused(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable(sent: bool) -> NetBoxError {
        NetBoxError::Unreachable {
            url: "http://netbox".into(),
            message: "connection reset".into(),
            sent,
        }
    }

    #[test]
    fn a_journal_is_written_again_only_when_netbox_certainly_created_none() {
        let class = |error: NetBoxError, entries| match journal_error(error, entries) {
            WriteBackError::Unavailable(_) => "write again",
            WriteBackError::Uncertain(_) => "do not write again",
            WriteBackError::Refused(_) => "refused",
        };
        assert_eq!(class(unreachable(false), 3), "write again");
        assert_eq!(
            class(unreachable(true), 3),
            "do not write again",
            "the lost request may have created the entries"
        );
        assert_eq!(
            class(unreachable(false), WRITE_CHUNK + 1),
            "do not write again",
            "an earlier chunk may have been created"
        );
        let refused = NetBoxError::Auth {
            method: "POST".into(),
            path: "/api/extras/journal-entries/".into(),
            status: 403,
            detail: "read-only token".into(),
        };
        assert_eq!(class(refused, 1), "refused");
    }
}
