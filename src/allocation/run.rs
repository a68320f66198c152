//! One allocation pass: release what nothing holds any more, plan from a snapshot, take what is
//! missing, journal what was set.

use std::collections::BTreeMap;
use std::fmt;

use super::error::AllocationError;
use super::execute::{Allocated, execute};
use super::lease::AllocatorLease;
use super::mirror::ensure_pools;
use super::plan::{Plan, Scope, plan};
use super::release::{Released, release_orphans};
use crate::config::FabricConfig;
use crate::netbox::writeback::{JournalEntry, JournalKind, write_journal};
use crate::netbox::{FabricSnapshot, NetBoxClient, load_fabric};

/// What a pass planned, set and released.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AllocationReport {
    pub plan: Plan,
    pub allocated: Vec<Allocated>,
    pub released: Vec<Released>,
}

impl AllocationReport {
    /// Whether the pass wrote anything into NetBox.
    pub fn changed(&self) -> bool {
        !self.allocated.is_empty() || !self.released.is_empty()
    }
}

impl fmt::Display for AllocationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.plan)?;
        for r in &self.released {
            writeln!(f, "released: {} #{}: {}", r.object_type, r.id, r.value)?;
        }
        for a in &self.allocated {
            writeln!(f, "allocated: {} {}: {}", a.object_type, a.name, a.value)?;
        }
        write!(
            f,
            "{} values allocated, {} released",
            self.allocated.len(),
            self.released.len()
        )
    }
}

/// Releases what the whole of `fabric` (resolved: its settings are the fabric's own) no longer
/// holds and allocates what it lacks, under the fabric's allocator lease; with `dry_run`, only
/// plans and lists what it would release.
pub async fn allocate_fabric(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    lease: &AllocatorLease,
    dry_run: bool,
) -> Result<AllocationReport, AllocationError> {
    let (report, _) = allocate_and_load(client, fabric, lease, dry_run).await?;
    Ok(report)
}

/// [`allocate_fabric`], also returning the fabric's snapshot after the pass (read again when
/// the pass changed anything), for rendering.
pub async fn allocate_and_load(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    lease: &AllocatorLease,
    dry_run: bool,
) -> Result<(AllocationReport, FabricSnapshot), AllocationError> {
    let held = lease.hold(&fabric.name).await?;
    let outcome = pass(client, fabric, dry_run).await;
    if let Err(error) = held.release().await {
        // It expires on its own after its time to live.
        tracing::warn!(fabric = %fabric.name, %error, "cannot give the allocator lease up");
    }
    outcome
}

/// Reads the fabric (under the lease, so no other allocator's values are missing from it),
/// releases, then allocates from what is left.
async fn pass(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    dry_run: bool,
) -> Result<(AllocationReport, FabricSnapshot), AllocationError> {
    let mut snapshot = load_fabric(client, fabric).await?;
    let released = release_orphans(client, fabric, &snapshot, dry_run).await?;
    if !dry_run && !released.is_empty() {
        // A released link address was on a port a new cable may use now.
        snapshot = load_fabric(client, fabric).await?;
    }
    let mut report = allocate_snapshot(client, fabric, &snapshot, &Scope::Fabric, dry_run).await?;
    report.released = released;
    if !report.allocated.is_empty() {
        snapshot = load_fabric(client, fabric).await?;
    }
    Ok((report, snapshot))
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
            ..AllocationReport::default()
        });
    }
    let ids = ensure_pools(client, fabric).await?;
    let allocated = execute(client, fabric, &ids, &plan).await?;
    tracing::info!(fabric = %fabric.name, values = allocated.len(), "allocated");
    journal(client, &allocated).await;
    Ok(AllocationReport {
        plan,
        allocated,
        released: Vec::new(),
    })
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
