//! NetBox interfaces as the ports of a switch's profile: their Hedgehog names (a NetBox
//! interface may carry the profile's Hedgehog name `E1/1` or its NOS name `Ethernet0`) and the
//! speeds rendered for them, which only the profile's speed and group ports take.

use std::collections::BTreeMap;

use crate::model::switch_profile::SwitchProfileSpec;
use crate::profiles::{PortKind, SwitchPorts, lane_speed, split_lane};

/// NetBox interface name → Hedgehog port name, for one switch. Names the profile does not
/// know are kept as they are (validation reports them).
#[derive(Debug, Clone, Default)]
pub(crate) struct PortNames(BTreeMap<String, String>);

impl PortNames {
    /// The names of `profile`'s ports with the switch's `breakouts`; none without a profile or
    /// with a breakout the profile does not support (validation reports that).
    pub fn new(profile: Option<&SwitchProfileSpec>, breakouts: &BTreeMap<String, String>) -> Self {
        let names = profile.and_then(|p| SwitchPorts::new(p, breakouts).interface_names().ok());
        Self(names.unwrap_or_default())
    }

    pub fn port<'a>(&'a self, interface: &'a str) -> &'a str {
        self.0.get(interface).map_or(interface, String::as_str)
    }
}

/// The speeds of a switch's ports as the fabric takes them.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RenderedSpeeds {
    pub port_speeds: BTreeMap<String, String>,
    pub port_group_speeds: BTreeMap<String, String>,
    /// Speeds the profile cannot take as set, in NetBox words.
    pub problems: Vec<String>,
}

/// Renders `(interface name, speed)` pairs: a speed port's speed as `portSpeeds`, a group
/// port's as its group's `portGroupSpeeds`, each only when the profile supports it; a breakout
/// port's speed follows from its breakout mode and is only checked against it. Without a known
/// profile the speeds are kept as set (validation reports the profile).
pub(crate) fn render_speeds(
    profile: Option<(&str, &SwitchProfileSpec)>,
    breakouts: &BTreeMap<String, String>,
    names: &PortNames,
    speeds: &[(&str, String)],
) -> RenderedSpeeds {
    let mut out = RenderedSpeeds::default();
    let Some((profile_name, profile)) = profile else {
        for (interface, speed) in speeds {
            out.port_speeds
                .insert(names.port(interface).to_owned(), speed.clone());
        }
        return out;
    };
    let ports = SwitchPorts::new(profile, breakouts);
    let mut group_ports: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (interface, speed) in speeds {
        let port = names.port(interface);
        let (base, lane) = split_lane(port);
        let unsupported = |supported: &[String], what: String| {
            format!(
                "interface {interface} has speed {speed}, which {what} of switch profile {profile_name} does not support (it supports {}); change the interface's speed",
                supported.join(", ")
            )
        };
        match ports.kind(base) {
            Some(PortKind::Group { group, profile }) if lane.is_none() => {
                let supported = profile.speed.as_ref().map_or(&[][..], |s| &s.supported);
                if !supported.contains(speed) {
                    out.problems
                        .push(unsupported(supported, format!("port group {group}")));
                    continue;
                }
                match group_ports.get(group) {
                    Some((other_speed, other)) if *other_speed != speed.as_str() => out.problems.push(format!(
                        "interfaces {other} ({other_speed}) and {interface} ({speed}) share port group {group} of switch profile {profile_name}, which runs at one speed; give them the same speed"
                    )),
                    Some(_) => {}
                    None => {
                        group_ports.insert(group, (speed.as_str(), *interface));
                        out.port_group_speeds.insert(group.to_owned(), speed.clone());
                    }
                }
            }
            Some(PortKind::Speed(port_profile)) if lane.is_none() => {
                let supported = port_profile.speed.as_ref().map_or(&[][..], |s| &s.supported);
                if supported.contains(speed) {
                    out.port_speeds.insert(port.to_owned(), speed.clone());
                } else {
                    out.problems.push(unsupported(supported, format!("port {port}")));
                }
            }
            Some(PortKind::Breakout(port_profile)) => {
                let mode = ports.mode(base, port_profile);
                let lane_speed = lane_speed(&mode);
                if lane_speed != Some(speed.as_str()) {
                    out.problems.push(format!(
                        "interface {interface} has speed {speed}, but port {base} of switch profile {profile_name} is in breakout {mode}, whose ports run at {}; set the interface's speed to that, or change the port's breakout in custom field hedgehog_port_breakouts",
                        lane_speed.unwrap_or("no fixed speed")
                    ));
                }
            }
            _ => out.problems.push(format!(
                "interface {interface} has a speed, but switch profile {profile_name} has no port {port} whose speed can be set; rename the interface to a port of the profile (E1/<n>, or its NOS name) or clear its speed"
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::SwitchProfiles;

    fn render(
        profile: &str,
        breakouts: &[(&str, &str)],
        speeds: &[(&str, &str)],
    ) -> RenderedSpeeds {
        let catalog = SwitchProfiles::builtin();
        let spec = catalog.get(profile).unwrap();
        let breakouts = breakouts
            .iter()
            .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
            .collect();
        let names = PortNames::new(Some(spec), &breakouts);
        let speeds: Vec<(&str, String)> =
            speeds.iter().map(|(i, s)| (*i, (*s).to_owned())).collect();
        render_speeds(Some((profile, spec)), &breakouts, &names, &speeds)
    }

    /// vs: E1/1–E1/4 are port group 1 (SFP28-25G: 10G or 25G).
    #[test]
    fn a_group_ports_speed_is_its_groups_and_must_be_supported() {
        let ok = render("vs", &[], &[("Ethernet0", "10G"), ("E1/2", "10G")]);
        assert_eq!(
            ok.port_group_speeds,
            BTreeMap::from([("1".into(), "10G".into())])
        );
        assert!(
            ok.port_speeds.is_empty() && ok.problems.is_empty(),
            "{ok:?}"
        );
        let mixed = render("vs", &[], &[("E1/1", "10G"), ("E1/2", "25G")]);
        assert!(
            mixed.problems[0].contains("share port group 1"),
            "{mixed:?}"
        );
        let fast = render("vs", &[], &[("E1/1", "100G")]);
        assert!(fast.problems[0].contains("10G, 25G"), "{fast:?}");
        assert!(
            fast.port_group_speeds.is_empty(),
            "an unsupported speed is not rendered"
        );
    }

    /// celestica-ds3000: E1/33 is an SFP28-10G port of its own (1G, 10G).
    #[test]
    fn a_speed_ports_speed_is_rendered_when_supported() {
        let ok = render("celestica-ds3000", &[], &[("E1/33", "1G")]);
        assert_eq!(
            ok.port_speeds,
            BTreeMap::from([("E1/33".into(), "1G".into())])
        );
        let bad = render("celestica-ds3000", &[], &[("E1/33", "25G")]);
        assert!(
            bad.port_speeds.is_empty() && bad.problems[0].contains("1G, 10G"),
            "{bad:?}"
        );
    }

    /// dell-s5248f-on: E1/49 runs at 100G as 1x100G, its lanes at 25G as 4x25G.
    #[test]
    fn a_breakout_ports_speed_is_its_modes_and_is_not_rendered() {
        let whole = render("dell-s5248f-on", &[], &[("E1/49", "100G")]);
        assert_eq!(whole, RenderedSpeeds::default());
        let lanes = render(
            "dell-s5248f-on",
            &[("E1/49", "4x25G")],
            &[("Ethernet50", "25G")],
        );
        assert_eq!(lanes, RenderedSpeeds::default());
        let wrong = render("dell-s5248f-on", &[], &[("E1/49", "25G")]);
        assert!(wrong.problems[0].contains("breakout 1x100G"), "{wrong:?}");
    }

    #[test]
    fn a_speed_on_an_interface_the_profile_lacks_is_reported() {
        let out = render("vs", &[], &[("xe-0/0/1", "10G")]);
        assert!(out.problems[0].contains("xe-0/0/1"), "{out:?}");
    }
}
