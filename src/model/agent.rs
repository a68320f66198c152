//! Agent (agent.githedgehog.com/v1beta1, read-only): the switch's health as its agent reports it.
//! Only the fields used for health and discovery are typed; unknown fields are tolerated
//! everywhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The whole Agent object as read from the cluster (of its spec, only what names the ports).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    #[serde(default)]
    pub metadata: AgentMeta,
    #[serde(default)]
    pub spec: AgentSpec,
    #[serde(default)]
    pub status: AgentStatus,
}

/// The parts of `spec` discovery reads: the switch's profile and breakouts, which name its
/// ports as the NOS does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSpec {
    #[serde(default)]
    pub switch: AgentSwitch,
    /// The switch's profile as the fabric hands it to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_profile: Option<super::SwitchProfileSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSwitch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_breakouts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub generation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub last_heartbeat: Option<String>,
    #[serde(default)]
    pub last_applied_gen: Option<i64>,
    #[serde(default)]
    pub last_applied_time: Option<String>,
    #[serde(default)]
    pub last_attempt_gen: Option<i64>,
    #[serde(default)]
    pub last_attempt_time: Option<String>,
    #[serde(default)]
    pub conditions: Vec<AgentCondition>,
    #[serde(default)]
    pub state: AgentState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentCondition {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub last_transition_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    #[serde(default)]
    pub nos: AgentNos,
    /// Interfaces, BGP neighbours and the rest, kept untyped.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentNos {
    #[serde(default)]
    pub software_version: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub platform_name: Option<String>,
    #[serde(default)]
    pub hwsku_version: Option<String>,
}

impl Agent {
    /// Ready as the fabric's CLI counts it: the agent applied the generation it was given.
    pub fn is_ready(&self) -> bool {
        matches!(
            (self.metadata.generation, self.status.last_applied_gen),
            (Some(desired), Some(applied)) if desired == applied
        )
    }
}
