//! An Agent object (`agent.githedgehog.com/v1beta1`) as an observed device. Only the fields
//! of `status.state` discovery uses are typed; the rest is ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::config::CustomFieldNames;
use crate::discovery::observation::{
    Field, Neighbour, ObservedDevice, ObservedInterface, normalize_mac,
};
use crate::model::Agent;

/// `status.state.interfaces.<port>` of the Agent CRD.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentInterface {
    #[serde(default)]
    oper: Option<String>,
    #[serde(default)]
    speed: Option<String>,
    #[serde(default)]
    mac: Option<String>,
    #[serde(default)]
    lldp_neighbors: Vec<LldpNeighbor>,
}

/// `status.state.interfaces.<port>.lldpNeighbors[]` of the Agent CRD.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LldpNeighbor {
    #[serde(default)]
    sys_name: Option<String>,
    #[serde(default, rename = "portID")]
    port_id: Option<String>,
    #[serde(default)]
    chassis: Option<String>,
    #[serde(default)]
    serial: Option<String>,
}

/// The switch an Agent reports, in fabric `fabric`, observed by source `source`.
pub fn observe_agent(
    agent: &Agent,
    fabric: &str,
    source: &str,
    names: &CustomFieldNames,
) -> ObservedDevice {
    let nos = &agent.status.state.nos;
    let interfaces: BTreeMap<String, AgentInterface> = agent
        .status
        .state
        .other
        .get("interfaces")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut facts = BTreeMap::new();
    let mut put = |field: Field, value: &Option<String>| {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            facts.insert(field, json!(value));
        }
    };
    put(Field::Native("serial"), &nos.serial_number);
    put(
        Field::Custom(names.nos_version.clone()),
        &nos.software_version,
    );
    put(Field::Custom(names.platform.clone()), &nos.platform_name);
    put(Field::Custom(names.hardware.clone()), &nos.hwsku_version);
    let mut macs: Vec<String> = interfaces
        .values()
        .filter_map(|i| i.mac.as_deref().and_then(normalize_mac))
        .collect();
    macs.dedup();
    ObservedDevice {
        source: source.to_owned(),
        identity: format!("{fabric}/{}", agent.metadata.name),
        name: Some(agent.metadata.name.clone()),
        serial: nos.serial_number.clone().filter(|s| !s.is_empty()),
        macs,
        primary_ip: None,
        facts,
        interfaces: interfaces
            .into_iter()
            .map(|(name, i)| interface(name, i, names))
            .collect(),
        ..ObservedDevice::default()
    }
}

fn interface(
    name: String,
    reported: AgentInterface,
    names: &CustomFieldNames,
) -> ObservedInterface {
    let mut facts = BTreeMap::new();
    if let Some(oper) = reported.oper.filter(|o| !o.is_empty()) {
        facts.insert(Field::Custom(names.oper_status.clone()), json!(oper));
    }
    if let Some(kbps) = reported.speed.as_deref().and_then(parse_speed) {
        facts.insert(Field::Native("speed"), json!(kbps));
    }
    let neighbours = reported
        .lldp_neighbors
        .into_iter()
        .filter_map(|n| {
            Some(Neighbour {
                system: n.sys_name.filter(|s| !s.is_empty())?,
                port: n.port_id.unwrap_or_default(),
                chassis: n.chassis,
                serial: n.serial,
            })
        })
        .collect();
    ObservedInterface {
        name,
        facts,
        neighbours,
        ..ObservedInterface::default()
    }
}

/// A speed as the agent reports it (`25G`, `100G`, `1G`, `100M`, `400000`: Mb/s) in kbit/s, as
/// NetBox's interface `speed` takes it.
pub fn parse_speed(speed: &str) -> Option<u64> {
    let speed = speed
        .trim()
        .trim_start_matches("SPEED_")
        .to_ascii_uppercase();
    let speed = speed.trim_end_matches("B").trim_end_matches("BPS");
    let (digits, unit) = match speed.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => speed.split_at(at),
        None => (speed, "M"),
    };
    let value: u64 = digits.parse().ok()?;
    let factor = match unit {
        "G" => 1_000_000,
        "M" => 1_000,
        "K" => 1,
        _ => return None,
    };
    value.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_become_kbits() {
        assert_eq!(parse_speed("25G"), Some(25_000_000));
        assert_eq!(parse_speed("SPEED_100GB"), Some(100_000_000));
        assert_eq!(parse_speed("100M"), Some(100_000));
        assert_eq!(parse_speed("10000"), Some(10_000_000));
        assert_eq!(parse_speed("fast"), None);
        assert_eq!(parse_speed(""), None);
    }

    #[test]
    fn an_agent_status_shaped_like_the_crd_becomes_an_observation() {
        let agent: Agent = serde_json::from_value(json!({
            "metadata": {"name": "leaf-01"},
            "status": {"state": {
                "nos": {"softwareVersion": "4.5.0", "serialNumber": "SN-1",
                        "platformName": "x86_64-dellemc_s5248f_c3538-r0", "hwskuVersion": "DellEMC-S5248f"},
                "interfaces": {"E1/1": {"oper": "up", "speed": "25G", "mac": "0c:29:ef:00:00:01",
                    "lldpNeighbors": [{"sysName": "spine-01", "portID": "E1/3", "chassis": "0c:29:ef:00:00:09"}]},
                    "E1/2": {"oper": "down", "lldpNeighbors": [{"portID": "x"}]}}
            }}
        }))
        .unwrap();
        let names = CustomFieldNames::default();
        let seen = observe_agent(&agent, "lab", "fabric:lab", &names);
        assert_eq!(seen.identity, "lab/leaf-01");
        assert_eq!(seen.serial.as_deref(), Some("SN-1"));
        assert_eq!(seen.macs, ["0C:29:EF:00:00:01"]);
        assert_eq!(
            seen.facts[&Field::Custom(names.hardware.clone())],
            json!("DellEMC-S5248f")
        );
        let e11 = &seen.interfaces[0];
        assert_eq!(e11.name, "E1/1");
        assert_eq!(e11.facts[&Field::Native("speed")], json!(25_000_000));
        assert_eq!(e11.neighbours[0].system, "spine-01");
        assert_eq!(e11.neighbours[0].port, "E1/3");
        assert!(
            seen.interfaces[1].neighbours.is_empty(),
            "no sysName: no neighbour"
        );
    }
}
