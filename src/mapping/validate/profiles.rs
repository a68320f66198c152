//! Switch profile rules: each switch's profile exists, and its breakouts, speeds, autoneg, FEC,
//! features and port counts are ones the profile allows (the fabric's Switch webhook); every
//! port a connection uses exists on its switch with that switch's breakouts (the Connection
//! webhook). Messages say what the profile allows.

use std::collections::BTreeMap;

use crate::mapping::naming::natural_cmp;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::SwitchSpec;
use crate::model::switch_profile::SwitchProfileSpec;
use crate::profiles::{PortKind, SwitchPorts, SwitchProfiles};

use super::Violations;

/// The FEC modes the Switch CRD admits.
const FEC_MODES: [&str; 4] = ["rs", "fc", "auto", "disabled"];

pub fn check(catalog: &SwitchProfiles, o: &FabricObjects, out: &mut Violations) {
    for sw in &o.switches {
        let Some(name) = &sw.spec.profile else {
            continue; // reported with the switch's other required fields
        };
        match catalog.get(name) {
            None => out.object(sw, format!(
                "switch profile {name} does not exist in the fabric (it has {}); fix custom field hedgehog_profile or the device type's profile mapping",
                catalog.names().collect::<Vec<_>>().join(", ")
            )),
            Some(profile) => check_switch(sw, name, profile, out),
        }
    }
    check_connection_ports(catalog, o, out);
}

fn check_switch(
    sw: &Draft<SwitchSpec>,
    name: &str,
    profile: &SwitchProfileSpec,
    out: &mut Violations,
) {
    let s = &sw.spec;
    let ports = SwitchPorts::new(profile, &s.port_breakouts);
    if !check_breakouts(sw, name, &ports, out) {
        return; // every other port rule depends on valid breakouts
    }
    check_speeds(sw, name, &ports, out);
    check_autoneg_and_fec(sw, name, &ports, out);
    check_features(sw, name, profile, out);
    check_port_counts(sw, name, profile, &ports, out);
}

/// Every broken-out port is a breakout port of the profile, in a mode it supports.
fn check_breakouts(
    sw: &Draft<SwitchSpec>,
    name: &str,
    ports: &SwitchPorts,
    out: &mut Violations,
) -> bool {
    let mut valid = true;
    for (port, mode) in &sw.spec.port_breakouts {
        let problem = match ports.kind(port) {
            None => Some(format!("switch profile {name} has no port {port}")),
            Some(PortKind::Breakout(profile)) => {
                let supported = profile.breakout.as_ref().map(|b| &b.supported);
                (!supported.is_some_and(|s| s.contains_key(mode))).then(|| {
                    let modes: Vec<&str> = supported.into_iter().flatten().map(|(m, _)| m.as_str()).collect();
                    format!("port {port} of switch profile {name} supports the breakouts {}, not {mode}", modes.join(", "))
                })
            }
            Some(_) => Some(format!(
                "port {port} of switch profile {name} cannot be broken out"
            )),
        };
        if let Some(problem) = problem {
            valid = false;
            out.object(
                sw,
                format!("{problem}; fix custom field hedgehog_port_breakouts"),
            );
        }
    }
    valid
}

/// `portSpeeds` only on speed ports and `portGroupSpeeds` only on groups, at supported speeds.
fn check_speeds(sw: &Draft<SwitchSpec>, name: &str, ports: &SwitchPorts, out: &mut Violations) {
    for (port, speed) in &sw.spec.port_speeds {
        let supported = match ports.kind(port) {
            Some(PortKind::Speed(profile)) => profile.speed.as_ref().map(|s| &s.supported),
            _ => None,
        };
        match supported {
            None => out.object(sw, format!("port {port} of switch profile {name} has no speed of its own (a port of a port group, a breakout port, or no port at all); set the speed on a port the profile lets you")),
            Some(list) if !list.contains(speed) => out.object(sw, format!("port {port} of switch profile {name} supports the speeds {}, not {speed}; change the interface's speed", list.join(", "))),
            Some(_) => {}
        }
    }
    for (group, speed) in &sw.spec.port_group_speeds {
        let profile = ports.profile;
        let supported = profile
            .port_groups
            .get(group)
            .and_then(|g| profile.port_profiles.get(&g.profile))
            .and_then(|p| p.speed.as_ref());
        match supported {
            None => out.object(sw, format!("switch profile {name} has no port group {group} with a speed")),
            Some(s) if !s.supported.contains(speed) => out.object(sw, format!("port group {group} of switch profile {name} supports the speeds {}, not {speed}; change its ports' speed", s.supported.join(", "))),
            Some(_) => {}
        }
    }
}

fn check_autoneg_and_fec(
    sw: &Draft<SwitchSpec>,
    name: &str,
    ports: &SwitchPorts,
    out: &mut Violations,
) {
    for port in sw.spec.port_auto_negs.keys() {
        if !ports.autoneg_allowed(port) {
            out.object(sw, format!("port {port} of switch profile {name} does not let autonegotiation be configured"));
        }
    }
    if sw.spec.port_fecs.is_empty() {
        return;
    }
    let fec_ports = ports.fec_ports().unwrap_or_default();
    for (port, fec) in &sw.spec.port_fecs {
        if !fec_ports.contains(port) {
            out.object(sw, format!("port {port} of switch profile {name} does not let FEC be configured (a broken-out port takes it per sub-port, e.g. {port}/1)"));
        }
        if !FEC_MODES.contains(&fec.as_str()) {
            out.object(
                sw,
                format!(
                    "FEC {fec} on port {port} is none of {}",
                    FEC_MODES.join(", ")
                ),
            );
        }
    }
}

/// RoCE, ESLAG and MCLAG need the profile's feature. The fabric only warns about MCLAG (it is
/// deprecated); the sidecar refuses it on a profile without it, as the switch could not run it.
fn check_features(
    sw: &Draft<SwitchSpec>,
    name: &str,
    profile: &SwitchProfileSpec,
    out: &mut Violations,
) {
    let features = &profile.features;
    if sw.spec.roce && !features.roce {
        out.object(sw, format!("switch profile {name} does not support RoCE"));
    }
    let (supported, what) = match sw.spec.redundancy.kind.as_deref() {
        Some("eslag") => (features.eslag, "ESLAG"),
        Some("mclag") => (features.mclag, "MCLAG"),
        _ => return,
    };
    if !supported {
        out.object(sw, format!("switch profile {name} does not support {what}; clear custom field hedgehog_redundancy_group (and _type) or use another switch model"));
    }
}

/// The profile's limits on ports in use, breakout lanes counted: in total and per pipeline.
fn check_port_counts(
    sw: &Draft<SwitchSpec>,
    name: &str,
    profile: &SwitchProfileSpec,
    ports: &SwitchPorts,
    out: &mut Violations,
) {
    let (total, pipelines) = ports.port_counts();
    if profile.max_ports > 0 && total > profile.max_ports {
        out.object(sw, format!("its breakouts make {total} ports, more than the {} switch profile {name} allows; break out fewer ports", profile.max_ports));
    }
    for (pipeline, (count, names)) in pipelines {
        let max = profile.pipelines.get(pipeline).map_or(0, |p| p.max_ports);
        if count > max {
            out.object(sw, format!("pipeline {pipeline} of switch profile {name} (ports {}) allows {max} ports, and its breakouts make {count}; break out fewer of these ports", names.join(", ")));
        }
    }
}

/// Each connection's switch ports exist on that switch, with its breakouts.
fn check_connection_ports(catalog: &SwitchProfiles, o: &FabricObjects, out: &mut Violations) {
    let switches = by_name(&o.switches);
    let mut allowed: BTreeMap<&str, Option<BTreeMap<String, String>>> = BTreeMap::new();
    for conn in &o.connections {
        for port in conn.spec.switch_ports() {
            let Some((switch, name)) = port.split_once('/') else {
                continue; // reported by the connection rules
            };
            let ports = allowed.entry(switch).or_insert_with(|| {
                let spec = &switches.get(switch)?.spec;
                let profile = catalog.get(spec.profile.as_deref()?)?;
                SwitchPorts::new(profile, &spec.port_breakouts)
                    .api_to_nos()
                    .ok()
            });
            let Some(ports) = ports else {
                continue; // no profile, or invalid breakouts: reported on the switch
            };
            if !ports.contains_key(name) {
                let profile = switches
                    .get(switch)
                    .and_then(|s| s.spec.profile.as_deref())
                    .unwrap_or_default();
                out.object(conn, format!(
                    "interface {name} of switch {switch} is not a port of its switch profile {profile} with its breakouts (ports {}); rename the NetBox interface to one of them or to its NOS name, or change the breakouts",
                    summary(ports)
                ));
            }
        }
    }
}

/// `E1/1 … E1/48 (48 ports)`: data ports only, in natural order.
fn summary(ports: &BTreeMap<String, String>) -> String {
    let mut names: Vec<&str> = ports
        .keys()
        .map(String::as_str)
        .filter(|p| p.starts_with('E'))
        .collect();
    names.sort_by(|a, b| natural_cmp(a, b));
    match (names.first(), names.last()) {
        (Some(first), Some(last)) => format!("{first} … {last}, {} in all", names.len()),
        _ => "none".into(),
    }
}
