//! One allocation pass: plan from a snapshot, take what is missing, journal what was set.

use std::collections::BTreeMap;
use std::fmt;

use super::error::AllocationError;
use super::execute::{Allocated, execute};
use super::mirror::ensure_pools;
use super::plan::{Plan, Scope, plan};
use crate::config::FabricConfig;
use crate::netbox::writeback::{JournalEntry, JournalKind, write_journal};
use crate::netbox::{FabricSnapshot, NetBoxClient, load_fabric};

/// What a pass planned and what it set.
#[derive(Debug, Clone, Default)]
pub struct AllocationReport {
    pub plan: Plan,
    pub allocated: Vec<Allocated>,
}

impl fmt::Display for AllocationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.plan)?;
        for a in &self.allocated {
            writeln!(f, "allocated: {} {}: {}", a.object_type, a.name, a.value)?;
        }
        write!(f, "{} values allocated", self.allocated.len())
    }
}

/// Allocates what the whole of `fabric` (resolved: its settings are the fabric's own) lacks
/// in NetBox; with `dry_run`, only plans.
pub async fn allocate_fabric(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    dry_run: bool,
) -> Result<AllocationReport, AllocationError> {
    let snapshot = load_fabric(client, fabric).await?;
    allocate_snapshot(client, fabric, &snapshot, &Scope::Fabric, dry_run).await
}

/// Allocates what the objects of `scope` lack in `snapshot` (the fabric's current state).
pub async fn allocate_snapshot(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    snapshot: &FabricSnapshot,
    scope: &Scope,
    dry_run: bool,
) -> Result<AllocationReport, AllocationError> {
    let plan = plan(fabric, snapshot, scope);
    for p in &plan.problems {
        tracing::warn!(fabric = %fabric.name, object_type = p.object_type, id = p.id,
            name = %p.name, problem = %p.message, "value breaks the fabric's rules; not replaced");
    }
    if dry_run || plan.is_empty() {
        return Ok(AllocationReport {
            plan,
            allocated: Vec::new(),
        });
    }
    let ids = ensure_pools(client, fabric).await?;
    let allocated = execute(client, fabric, &ids, &plan).await?;
    tracing::info!(fabric = %fabric.name, values = allocated.len(), "allocated");
    journal(client, &allocated).await;
    Ok(AllocationReport { plan, allocated })
}

/// One journal entry per object naming what was set on it. Best effort: the values are set
/// whether or not their journal entry is written.
async fn journal(client: &NetBoxClient, allocated: &[Allocated]) {
    let mut by_object: BTreeMap<(&str, u64), Vec<&str>> = BTreeMap::new();
    for a in allocated {
        by_object
            .entry((a.object_type, a.id))
            .or_default()
            .push(&a.value);
    }
    let entries: Vec<JournalEntry> = by_object
        .into_iter()
        .map(|((object_type, id), values)| JournalEntry {
            assigned_object_type: object_type.to_owned(),
            assigned_object_id: id,
            kind: JournalKind::Info,
            comments: format!("Allocated by hedgehog-sidecar: {}", values.join(", ")),
        })
        .collect();
    if let Err(error) = write_journal(client, &entries).await {
        tracing::warn!(%error, "cannot journal the allocated values");
    }
}
