//! The sidecar's own part of one device edit on a large fabric, without NetBox: the bench
//! fabric of `publish_load` (about 10,400 NetBox objects, or `HHS_BENCH_FABRIC=small`)
//! generated in memory, kept as the snapshot a full read leaves, and published to a Kubernetes
//! API test server by the sidecar's own publisher. Each step applies one device's webhook body
//! (a new description) to the kept snapshot, renders the fabric, publishes it and writes back
//! (to a writer that only counts), as a webhook job's publish does once its round starts.
//!
//!     cargo bench --bench publish_step    # HHS_BENCH_FABRIC=small, HHS_BENCH_EDITS=50
//!
//! Reported: each step's time (p50, p95; target well under the 300 ms a webhook job may take
//! from its delivery), and that the cluster holds every edit. NetBox's part of a job (reading
//! nothing, writing one journal entry) and the round's debounce are measured by
//! `publish_load`.

#[path = "support/bench_fabric.rs"]
#[allow(dead_code)]
mod bench_fabric;
#[path = "support/product_allocator.rs"]
mod product_allocator;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::netbox::FabricSnapshot;
use hedgehog_sidecar::netbox::incremental::{
    Effect, KeptSnapshot, Membership, ObjectChange, SnapshotCache, apply,
};
use hedgehog_sidecar::pipeline::FabricPublisher;
use hedgehog_sidecar::reconcile::netbox_io::desired_from_snapshot;
use hedgehog_sidecar::reconcile::writeback::WritebackPlan;
use hedgehog_sidecar::reconcile::{
    Basis, Desired, DesiredSource, SourceError, StatusWriter, WriteBackError,
};
use hedgehog_sidecar::state::MemoryState;
use hedgehog_sidecar::targets::cluster::ClusterTarget;
use hedgehog_sidecar::targets::{Cause, Target};
use serde_json::Value;

/// NetBox as a full read finds it, and the snapshot kept between publishes.
struct Generated {
    full: Mutex<FabricSnapshot>,
    kept: SnapshotCache,
}

#[async_trait]
impl DesiredSource for Generated {
    async fn desired(&self, fabric: &FabricConfig) -> Result<Desired, SourceError> {
        let snapshot = self.full.lock().unwrap().clone();
        Ok(desired_from_snapshot(fabric, snapshot))
    }

    async fn desired_after(
        &self,
        fabric: &FabricConfig,
        changes: &[ObjectChange],
        version: Option<u64>,
    ) -> Result<(Desired, Basis), SourceError> {
        let members = Membership {
            custom_field: &fabric.mapping.custom_fields.fabric,
            fabric: &fabric.name,
        };
        let generation = match self.kept.checkout(&fabric.name, version) {
            Ok(KeptSnapshot {
                mut snapshot,
                generation,
            }) => {
                let reload = changes.iter().any(|change| {
                    matches!(apply(&mut snapshot, change, &members), Effect::Reload(_))
                });
                if !reload {
                    let basis = Basis {
                        incremental: true,
                        generation: Some(generation),
                    };
                    return Ok((desired_from_snapshot(fabric, snapshot), basis));
                }
                generation
            }
            Err(generation) => generation,
        };
        let basis = Basis {
            incremental: false,
            generation: Some(generation),
        };
        Ok((self.desired(fabric).await?, basis))
    }

    fn kept(&self) -> Option<&SnapshotCache> {
        Some(&self.kept)
    }
}

/// Counts the status updates and journal entries a publish would write to NetBox.
#[derive(Default)]
struct CountingWriter {
    written: Mutex<(usize, usize)>,
}

#[async_trait]
impl StatusWriter for CountingWriter {
    async fn write(&self, plan: &WritebackPlan) -> Result<(), WriteBackError> {
        let mut written = self.written.lock().unwrap();
        written.0 += plan.updates.len();
        written.1 += plan.journal.len();
        Ok(())
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn edits() -> usize {
    std::env::var("HHS_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// A switch's Kubernetes object holds the description its device was given.
async fn cluster_holds(target: &ClusterTarget, name: &str, description: &str) -> bool {
    let actual = target.actual().await.expect("read the cluster");
    actual.iter().any(|object| {
        object["metadata"]["name"] == name && object["spec"]["description"] == description
    })
}

#[tokio::main]
async fn main() {
    let spec = bench_fabric::spec();
    let mut fabric = spec.fabric_config();
    let snapshot = spec.generate(&fabric.mapping);
    let dir = tempfile::tempdir().unwrap();
    let server = bench_fabric::fabric_cluster(&mut fabric, dir.path()).await;

    let switches: Vec<Value> = snapshot
        .devices
        .iter()
        .map(|device| serde_json::to_value(device).unwrap())
        .filter(|device| device["role"]["slug"] == "server-leaf")
        .collect();
    let source = Arc::new(Generated {
        full: Mutex::new(snapshot),
        kept: SnapshotCache::default(),
    });
    let target = Arc::new(ClusterTarget::connect(&fabric).await.expect("connect"));
    let writer = Arc::new(CountingWriter::default());
    let publisher = FabricPublisher {
        fabric: fabric.clone(),
        source,
        target: target.clone(),
        writer: writer.clone(),
        shared: Arc::new(MemoryState::default()),
    };
    let started = Instant::now();
    let first = publisher
        .publish(&Cause::default(), &[])
        .await
        .expect("the first publish");
    let report = first.report.unwrap_or_default();
    eprintln!(
        "first publish: {} objects created in {:.1} s",
        report.created.len(),
        started.elapsed().as_secs_f64()
    );

    let mut steps = Vec::new();
    for i in 0..edits() {
        let mut device = switches[i % switches.len()].clone();
        let description = format!("step {i}");
        device["description"] = Value::String(description.clone());
        let name = device["name"].as_str().unwrap_or_default().to_owned();
        let change = ObjectChange {
            object_type: "dcim.device".into(),
            event: "updated".into(),
            data: device,
        };
        let cause = Cause {
            reason: format!("webhook dcim.device {name} updated"),
            ..Cause::default()
        };
        let started = Instant::now();
        let outcome = publisher
            .publish(&cause, &[change])
            .await
            .expect("a step's publish");
        steps.push(started.elapsed());
        let report = outcome.report.unwrap_or_default();
        assert_eq!(report.updated.len(), 1, "one switch updated: {report:?}");
        assert!(
            cluster_holds(&target, &name, &description).await,
            "the cluster holds {name}'s edit"
        );
    }
    steps.sort();
    let (updates, journal) = *writer.written.lock().unwrap();
    println!(
        "{}: {} steps, p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; written back: {updates} updates, {journal} journal entries",
        fabric.name,
        steps.len(),
        ms(percentile(&steps, 0.5)),
        ms(percentile(&steps, 0.95)),
        ms(*steps.last().unwrap()),
    );
    server.shutdown().await;
}
