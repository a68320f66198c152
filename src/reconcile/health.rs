//! Argo CD-like sync status and health of a fabric, derived from comparisons and from the
//! switches' Agent objects — never from timestamps alone.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{ObjectReport, ObjectState};
use crate::model::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    /// Every desired object is in the target with the rendered values; no managed orphans.
    Synced,
    /// Something differs.
    OutOfSync,
    /// NetBox or the target could not be read, so nothing is claimed.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    // Declared from best to worst: a fabric's health is its worst switch's.
    Healthy,
    /// An agent has not applied the current generation yet but is alive.
    Progressing,
    /// A switch's agent or a desired object does not exist.
    Missing,
    /// An agent stopped heart-beating or reports a failed apply.
    Degraded,
    /// The cluster could not be read.
    Unknown,
}

/// A switch's agent, as far as health is concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchHealth {
    pub switch: String,
    pub health: Health,
    /// `metadata.generation` of the Agent (what the controller wants applied).
    pub desired_generation: Option<i64>,
    /// `status.lastAppliedGen` (what the switch applied).
    pub applied_generation: Option<i64>,
    pub last_heartbeat: Option<DateTime<Utc>>,
    pub nos_version: Option<String>,
    pub message: String,
}

/// Sync status from the object comparison.
pub(crate) fn sync_status(reports: &[ObjectReport]) -> SyncStatus {
    let out_of_sync = reports.iter().any(|r| match r.state {
        ObjectState::InSync => false,
        ObjectState::Orphan => r.managed,
        ObjectState::Drifted | ObjectState::Missing | ObjectState::HeldBack => true,
    });
    if out_of_sync {
        SyncStatus::OutOfSync
    } else {
        SyncStatus::Synced
    }
}

/// Health of each desired switch from its Agent. `stale_after` is how old a heartbeat may be
/// before the agent counts as down.
pub(crate) fn switch_health(
    switches: &[String],
    agents: &[Value],
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
) -> Vec<SwitchHealth> {
    let by_name: BTreeMap<&str, &Value> = agents
        .iter()
        .filter(|a| a.get("kind").and_then(Value::as_str) == Some(Kind::Agent.as_str()))
        .filter_map(|a| Some((a.pointer("/metadata/name")?.as_str()?, a)))
        .collect();
    switches
        .iter()
        .map(|switch| match by_name.get(switch.as_str()) {
            None => SwitchHealth {
                switch: switch.clone(),
                health: Health::Missing,
                desired_generation: None,
                applied_generation: None,
                last_heartbeat: None,
                nos_version: None,
                message: "no Agent object: the switch has not registered with the fabric".into(),
            },
            Some(agent) => agent_health(switch, agent, now, stale_after),
        })
        .collect()
}

fn agent_health(
    switch: &str,
    agent: &Value,
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
) -> SwitchHealth {
    let desired = agent
        .pointer("/metadata/generation")
        .and_then(Value::as_i64);
    let applied = agent
        .pointer("/status/lastAppliedGen")
        .and_then(Value::as_i64);
    let heartbeat = agent
        .pointer("/status/lastHeartbeat")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let nos_version = agent
        .pointer("/status/state/nos/softwareVersion")
        .or_else(|| agent.pointer("/status/version"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let failed_apply = agent
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Applied"))
        .filter(|c| c.get("status").and_then(Value::as_str) == Some("False"))
        .filter(|c| c.get("reason").and_then(Value::as_str) != Some("ApplyPending"))
        .map(|c| {
            c.get("message")
                .and_then(Value::as_str)
                .unwrap_or("apply failed")
                .to_owned()
        });

    let (health, message) = match (heartbeat, desired, applied) {
        (None, _, _) => (
            Health::Degraded,
            "the agent has never sent a heartbeat".to_owned(),
        ),
        (Some(beat), _, _) if now - beat > stale_after => (
            Health::Degraded,
            format!(
                "last heartbeat {}s ago: the agent looks down",
                (now - beat).num_seconds()
            ),
        ),
        _ if failed_apply.is_some() => (
            Health::Degraded,
            format!("apply failed: {}", failed_apply.unwrap_or_default()),
        ),
        (_, Some(want), Some(have)) if want == have => {
            (Health::Healthy, format!("generation {have} applied"))
        }
        (_, want, have) => (
            Health::Progressing,
            format!(
                "applying: generation {} wanted, {} applied",
                want.map_or("?".into(), |g| g.to_string()),
                have.map_or("none".into(), |g| g.to_string())
            ),
        ),
    };
    SwitchHealth {
        switch: switch.to_owned(),
        health,
        desired_generation: desired,
        applied_generation: applied,
        last_heartbeat: heartbeat,
        nos_version,
        message,
    }
}

/// The fabric's health: its worst switch, or Missing when a desired object is absent.
pub(crate) fn fabric_health(reports: &[ObjectReport], switches: &[SwitchHealth]) -> Health {
    let worst_switch = switches
        .iter()
        .map(|s| s.health)
        .max()
        .unwrap_or(Health::Healthy);
    let missing_object = reports.iter().any(|r| r.state == ObjectState::Missing);
    if missing_object {
        worst_switch.max(Health::Missing)
    } else {
        worst_switch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(name: &str, generation: i64, applied: i64, beat: &str) -> Value {
        json!({"kind": "Agent", "metadata": {"name": name, "generation": generation},
               "status": {"lastAppliedGen": applied, "lastHeartbeat": beat,
                          "state": {"nos": {"softwareVersion": "4.5.0"}}}})
    }

    #[test]
    fn health_follows_generations_and_heartbeats() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let agents = vec![
            agent("leaf-01", 3, 3, "2026-11-22T09:59:50Z"),
            agent("leaf-02", 4, 3, "2026-11-22T09:59:50Z"),
            agent("leaf-03", 3, 3, "2026-11-22T09:40:00Z"),
        ];
        let switches: Vec<String> = ["leaf-01", "leaf-02", "leaf-03", "leaf-04"]
            .map(String::from)
            .to_vec();
        let health = switch_health(&switches, &agents, now, chrono::Duration::minutes(5));
        let states: Vec<_> = health.iter().map(|h| h.health).collect();
        assert_eq!(
            states,
            [
                Health::Healthy,
                Health::Progressing,
                Health::Degraded,
                Health::Missing
            ]
        );
        assert_eq!(health[0].nos_version.as_deref(), Some("4.5.0"));
        assert_eq!(fabric_health(&[], &health), Health::Degraded);
        assert_eq!(fabric_health(&[], &health[..2]), Health::Progressing);
        assert_eq!(fabric_health(&[], &health[..1]), Health::Healthy);
    }

    #[test]
    fn a_failed_apply_condition_degrades() {
        let now = Utc::now();
        let mut a = agent("leaf-01", 3, 2, &now.to_rfc3339());
        a["status"]["conditions"] = json!([{"type": "Applied", "status": "False",
            "reason": "ApplyFailed", "message": "port E1/9 unknown"}]);
        let health = switch_health(&["leaf-01".into()], &[a], now, chrono::Duration::minutes(5));
        assert_eq!(health[0].health, Health::Degraded);
        assert!(health[0].message.contains("port E1/9 unknown"));
    }
}
