//! One discovery run over a set of sources: observe, read NetBox, match and merge, compare the
//! cabling, plan, and apply (or only report with a dry run).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::apply::{Applied, apply};
use super::cabling::{CablingFinding, CablingState, compare};
use super::kind::ObjectKind;
use super::known::{self, KnownDevice};
use super::matching::match_device;
use super::merge::{Merged, merge};
use super::observation::ObservedDevice;
use super::plan::{Plan, PlanContext, plan};
use super::source::Source;
use crate::config::{CreateDefaults, MappingConfig};
use crate::netbox::{NetBoxClient, NetBoxError};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dry_run: bool,
    pub create_cables: bool,
    pub stale_after: Duration,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    /// The sources that observed (a failed one is in `errors` and plans nothing).
    pub sources: Vec<String>,
    pub errors: Vec<String>,
    pub plan: Plan,
    pub applied: Option<Applied>,
}

/// Runs `sources` together (the first listed wins where they disagree). `mapping` names the
/// custom fields and the stale tag.
pub async fn run(
    client: &NetBoxClient,
    sources: &[Arc<dyn Source>],
    mapping: &MappingConfig,
    options: &RunOptions,
) -> Result<RunReport, NetBoxError> {
    let (observed, ok, errors) = observe(sources).await;
    let creation: BTreeMap<String, CreateDefaults> = ok
        .iter()
        .filter_map(|s| Some((s.name().to_owned(), s.creation()?.clone())))
        .collect();
    let mut known = in_scope(client, &ok).await?;
    known.extend(candidates(client, &observed, &known, &creation).await?);
    let merged = merge(observed, &known);
    let neighbours = known::load_named(client, &unknown_neighbours(&merged, &known)).await?;
    let everyone: Vec<KnownDevice> = known.iter().chain(&neighbours).cloned().collect();
    let findings = cabling(&merged, &known, &everyone);
    let context = PlanContext {
        names: &mapping.custom_fields,
        sources: ok.iter().map(|s| s.name().to_owned()).collect(),
        now: options.now,
        stale_after: options.stale_after,
        stale_tag: &mapping.tag_stale,
        creation,
    };
    let mut plan = plan(&merged, findings, &known, &context);
    if options.create_cables {
        plan.cables = proven_cables(&plan.cabling);
    }
    let applied = if options.dry_run {
        None
    } else {
        Some(apply(client, &plan, &mapping.custom_fields).await?)
    };
    Ok(RunReport {
        dry_run: options.dry_run,
        sources: context.sources,
        errors,
        plan,
        applied,
    })
}

/// The devices and virtual machines in the sources' scopes.
async fn in_scope(
    client: &NetBoxClient,
    sources: &[Arc<dyn Source>],
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let devices: Vec<_> = sources.iter().map(|s| s.scope()).collect();
    let machines: Vec<_> = sources.iter().filter_map(|s| s.vm_scope()).collect();
    let mut known = known::load(client, ObjectKind::Device, &devices).await?;
    known.extend(known::load(client, ObjectKind::VirtualMachine, &machines).await?);
    Ok(known)
}

/// NetBox objects outside the scopes that observations of creating sources may be (by name
/// or serial), so creation never makes a second object for one NetBox already holds.
async fn candidates(
    client: &NetBoxClient,
    observed: &[ObservedDevice],
    known: &[KnownDevice],
    creation: &BTreeMap<String, CreateDefaults>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let (mut names, mut serials) = (BTreeSet::new(), BTreeSet::new());
    let unmatched = observed
        .iter()
        .filter(|o| creation.contains_key(&o.source) && match_device(o, known).is_none());
    for seen in unmatched {
        names.extend(seen.name.clone().filter(|n| !n.is_empty()));
        serials.extend(seen.serial.clone().filter(|s| !s.is_empty()));
    }
    let mut found = known::load_by(client, ObjectKind::Device, "name", &names).await?;
    found.extend(known::load_by(client, ObjectKind::Device, "serial", &serials).await?);
    found.extend(known::load_by(client, ObjectKind::VirtualMachine, "name", &names).await?);
    let mut fresh: Vec<KnownDevice> = Vec::new();
    for candidate in found {
        let same = |k: &KnownDevice| k.kind == candidate.kind && k.id == candidate.id;
        if !known.iter().any(same) && !fresh.iter().any(same) {
            fresh.push(candidate);
        }
    }
    Ok(fresh)
}

/// Every source's observations in source order, the sources that succeeded, and the errors.
async fn observe(
    sources: &[Arc<dyn Source>],
) -> (Vec<ObservedDevice>, Vec<Arc<dyn Source>>, Vec<String>) {
    let results = futures::future::join_all(sources.iter().map(|s| s.observe())).await;
    let (mut observed, mut ok, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (source, result) in sources.iter().zip(results) {
        match result {
            Ok(devices) => {
                observed.extend(devices);
                ok.push(Arc::clone(source));
            }
            Err(error) => {
                tracing::warn!(source = source.name(), %error, "discovery source failed");
                errors.push(error.to_string());
            }
        }
    }
    (observed, ok, errors)
}

/// Neighbour system names that are not among the devices already read.
fn unknown_neighbours(merged: &[Merged], known: &[KnownDevice]) -> BTreeSet<String> {
    merged
        .iter()
        .flat_map(|m| &m.device.interfaces)
        .flat_map(|i| &i.neighbours)
        .map(|n| n.system.clone())
        .filter(|name| !name.is_empty() && !known.iter().any(|k| k.name.eq_ignore_ascii_case(name)))
        .collect()
}

fn cabling(
    merged: &[Merged],
    known: &[KnownDevice],
    everyone: &[KnownDevice],
) -> Vec<CablingFinding> {
    let mut findings = Vec::new();
    for entry in merged {
        let Some(device) = entry.known.map(|i| &known[i]) else {
            continue;
        };
        for observed in &entry.device.interfaces {
            let interface = device.interfaces.iter().find(|i| i.name == observed.name);
            if let Some(interface) = interface {
                findings.extend(compare(
                    &device.name,
                    interface,
                    &observed.neighbours,
                    everyone,
                ));
            }
        }
    }
    findings
}

/// The cables to create: missing ones whose both ends are free, each link once.
pub fn proven_cables(findings: &[CablingFinding]) -> Vec<(u64, u64)> {
    let mut cables: Vec<(u64, u64)> = Vec::new();
    for finding in findings {
        if finding.state != CablingState::MissingCable {
            continue;
        }
        let Some(far) = finding.neighbour_interface_id else {
            continue;
        };
        let pair = (finding.interface_id.min(far), finding.interface_id.max(far));
        if pair.0 != pair.1 && !cables.contains(&pair) {
            cables.push(pair);
        }
    }
    cables
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(interface_id: u64, far: Option<u64>) -> CablingFinding {
        CablingFinding {
            device: "a".into(),
            interface: "E1/1".into(),
            interface_id,
            state: CablingState::MissingCable,
            lldp: "b/E1/1".into(),
            netbox: Vec::new(),
            neighbour_interface_id: far,
        }
    }

    #[test]
    fn a_link_both_ends_report_becomes_one_cable() {
        let mut wrong = missing(5, Some(6));
        wrong.state = CablingState::WrongPeer;
        let findings = [
            missing(1, Some(2)),
            missing(2, Some(1)),
            missing(3, None),
            wrong,
        ];
        assert_eq!(proven_cables(&findings), [(1, 2)]);
    }
}
