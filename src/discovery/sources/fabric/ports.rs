//! LLDP names a neighbour switch's port as its NOS does (`Ethernet0`, a breakout lane
//! `Ethernet49`), NetBox as the fabric does (`E1/1`, `E1/49/2`). Each switch's Agent carries its
//! profile (or names one of the catalog) and its breakouts, which give the translation.

use std::collections::BTreeMap;

use crate::discovery::observation::ObservedDevice;
use crate::mapping::ports::PortNames;
use crate::model::Agent;
use crate::profiles::SwitchProfiles;

/// The port names of every switch of a fabric, by switch name (lower case).
#[derive(Debug, Default)]
pub struct FabricPortNames(BTreeMap<String, PortNames>);

impl FabricPortNames {
    /// From each Agent's `spec.switchProfile`, else the `catalog` profile its `spec.switch`
    /// names, with its breakouts; a switch with neither keeps its neighbours' names as seen.
    pub fn new(agents: &[Agent], catalog: &SwitchProfiles) -> FabricPortNames {
        let names = agents.iter().filter_map(|agent| {
            let switch = &agent.spec.switch;
            let profile = agent.spec.switch_profile.as_ref().or_else(|| {
                let name = switch.profile.as_deref()?;
                catalog.get(name)
            })?;
            let names = PortNames::new(Some(profile), &switch.port_breakouts);
            Some((agent.metadata.name.to_lowercase(), names))
        });
        FabricPortNames(names.collect())
    }

    /// Rewrites every neighbour port of `devices` whose neighbour is a switch of the fabric to
    /// the fabric's name of that port; other neighbours (servers) are left as seen.
    pub fn translate(&self, devices: &mut [ObservedDevice]) {
        let neighbours = devices
            .iter_mut()
            .flat_map(|d| &mut d.interfaces)
            .flat_map(|i| &mut i.neighbours);
        for neighbour in neighbours {
            if let Some(names) = self.0.get(&neighbour.system.to_lowercase()) {
                neighbour.port = names.port(&neighbour.port).to_owned();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::discovery::observation::{Neighbour, ObservedInterface};
    use crate::model::{Manifest, SwitchProfileSpec, from_manifest, parse_manifests};

    fn agent(name: &str, spec: serde_json::Value) -> Agent {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    }

    /// A leaf seeing `port` on each neighbour in `systems`.
    fn seeing(systems: &[(&str, &str)]) -> Vec<ObservedDevice> {
        let interfaces = systems
            .iter()
            .map(|(system, port)| ObservedInterface {
                name: "E1/1".into(),
                neighbours: vec![Neighbour {
                    system: (*system).into(),
                    port: (*port).into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        vec![ObservedDevice {
            interfaces,
            ..Default::default()
        }]
    }

    fn ports(devices: &[ObservedDevice]) -> Vec<&str> {
        devices[0]
            .interfaces
            .iter()
            .map(|i| i.neighbours[0].port.as_str())
            .collect()
    }

    #[test]
    fn nos_names_become_fabric_names_by_the_catalog_profile_and_breakouts() {
        let spine = agent(
            "spine-01",
            json!({"switch": {"profile": "dell-s5248f-on", "portBreakouts": {"E1/49": "4x25G"}}}),
        );
        let names = FabricPortNames::new(&[spine], &SwitchProfiles::builtin());
        let mut seen = seeing(&[
            ("spine-01", "Ethernet0"),
            ("SPINE-01", "Ethernet4"),
            ("spine-01", "Ethernet49"),
            ("spine-01", "Ethernet52"),
            ("spine-01", "E1/2"),
            ("server-01", "Ethernet0"),
        ]);
        names.translate(&mut seen);
        assert_eq!(
            ports(&seen),
            ["E1/1", "E1/5", "E1/49/2", "E1/50", "E1/2", "Ethernet0"],
            "lanes of the broken-out E1/49 are sub-ports; E1/50 keeps its default 1x100G; \
             names already the fabric's and non-switches are kept"
        );
    }

    #[test]
    fn the_profile_the_agent_carries_wins_over_the_catalog() {
        let text = include_str!("../../../../data/switchprofiles/dell-s5232f-on.yaml");
        let manifests: Vec<Manifest> = parse_manifests(text).unwrap();
        let profile: SwitchProfileSpec = from_manifest(&manifests[0]).unwrap().unwrap();
        let spine = agent(
            "spine-01",
            json!({"switch": {"profile": "dell-s5248f-on"}, "switchProfile": profile}),
        );
        let names = FabricPortNames::new(&[spine], &SwitchProfiles::builtin());
        let mut seen = seeing(&[("spine-01", "Ethernet8")]);
        names.translate(&mut seen);
        assert_eq!(
            ports(&seen),
            ["E1/3"],
            "the S5232F's ports are 4 lanes apart"
        );
    }
}
