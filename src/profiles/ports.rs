//! A switch's ports as its profile and its breakouts make them: which Hedgehog port names
//! exist, their NOS names, and what each port can be set to. Follows the fabric's
//! `SwitchProfileSpec` port functions (`api/wiring/v1beta1/switchprofile_types.go`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::switch_profile::{PortProfile, SwitchProfileSpec};

const NOS_PREFIX: &str = "Ethernet";

/// What a profile port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind<'a> {
    Management,
    /// A port whose speed is set for its whole group.
    Group {
        group: &'a str,
        profile: &'a PortProfile,
    },
    /// A port with its own speed.
    Speed(&'a PortProfile),
    /// A port split by breakout modes into sub-ports.
    Breakout(&'a PortProfile),
}

/// A profile with one switch's breakouts.
#[derive(Debug, Clone, Copy)]
pub struct SwitchPorts<'a> {
    pub profile: &'a SwitchProfileSpec,
    pub breakouts: &'a BTreeMap<String, String>,
}

impl<'a> SwitchPorts<'a> {
    pub fn new(profile: &'a SwitchProfileSpec, breakouts: &'a BTreeMap<String, String>) -> Self {
        Self { profile, breakouts }
    }

    /// The kind of profile port `port` (a base name: `E1/1`, `M1`), if the profile has it.
    pub fn kind(&self, port: &str) -> Option<PortKind<'a>> {
        let p = self.profile.ports.get(port)?;
        if p.management {
            return Some(PortKind::Management);
        }
        if !p.group.is_empty() {
            let group = self.profile.port_groups.get(&p.group)?;
            let profile = self.profile.port_profiles.get(&group.profile)?;
            return Some(PortKind::Group {
                group: &p.group,
                profile,
            });
        }
        let profile = self.profile.port_profiles.get(&p.profile)?;
        match (&profile.speed, &profile.breakout) {
            (_, Some(_)) => Some(PortKind::Breakout(profile)),
            (Some(_), None) => Some(PortKind::Speed(profile)),
            (None, None) => None,
        }
    }

    /// The breakout mode of breakout port `port`: the switch's, else the profile's default.
    pub fn mode(&self, port: &str, profile: &PortProfile) -> String {
        let default = profile.breakout.as_ref().map_or("", |b| b.default.as_str());
        self.breakouts
            .get(port)
            .map_or(default, String::as_str)
            .to_owned()
    }

    /// The NOS name offsets of breakout port `port` in its current mode; `Err` with the mode
    /// when the profile does not support it.
    fn lane_offsets(&self, port: &str, profile: &'a PortProfile) -> Result<Vec<u32>, String> {
        let breakout = profile.breakout.as_ref().ok_or_else(String::new)?;
        let mode = self
            .breakouts
            .get(port)
            .map_or(breakout.default.as_str(), String::as_str);
        let supported = breakout
            .supported
            .get(mode)
            .ok_or_else(|| mode.to_owned())?;
        Ok(supported
            .offsets
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect())
    }

    /// Every Hedgehog port name a connection may use, with its NOS name (`GetAPI2NOSPortsFor`):
    /// a broken-out port's sub-ports `E1/1/1`…, and the base name as an alias of its first.
    /// `Err` names a port whose breakout mode the profile does not support.
    pub fn api_to_nos(&self) -> Result<BTreeMap<String, String>, String> {
        let mut ports = BTreeMap::new();
        for (name, port) in &self.profile.ports {
            let Some(PortKind::Breakout(profile)) = self.kind(name) else {
                ports.insert(name.clone(), port.nos_name.clone());
                continue;
            };
            let offsets = self.lane_offsets(name, profile).map_err(|mode| {
                format!("port {name} has breakout {mode}, which its profile does not support")
            })?;
            let base: u32 = port
                .base_nos_name
                .strip_prefix(NOS_PREFIX)
                .and_then(|n| n.parse().ok())
                .unwrap_or_default();
            for (lane, offset) in offsets.iter().enumerate() {
                let nos = format!("{NOS_PREFIX}{}", base + offset);
                if lane == 0 {
                    ports.insert(name.clone(), nos.clone());
                }
                ports.insert(format!("{name}/{}", lane + 1), nos);
            }
        }
        Ok(ports)
    }

    /// Names NetBox may give a port → the Hedgehog port name: the Hedgehog names themselves
    /// and the NOS names (`Ethernet0` → `E1/1`; a broken-out port's lanes → `E1/1/1`…).
    pub fn interface_names(&self) -> Result<BTreeMap<String, String>, String> {
        let api = self.api_to_nos()?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (port, nos) in &api {
            names.insert(port.clone(), port.clone());
            let preferred = match names.get(nos) {
                None => port.clone(),
                Some(other) => self.preferred_name(other, port),
            };
            names.insert(nos.clone(), preferred);
        }
        Ok(names)
    }

    /// Of two Hedgehog names of one NOS port, the one a wiring writes: the sub-port of a
    /// broken-out port, else the shorter (base) name.
    fn preferred_name(&self, a: &str, b: &str) -> String {
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        let broken_out = match self.kind(short) {
            Some(PortKind::Breakout(profile)) => {
                self.lane_offsets(short, profile).is_ok_and(|o| o.len() > 1)
            }
            _ => false,
        };
        if broken_out { long } else { short }.to_owned()
    }

    /// Ports whose speed, autoneg or FEC may be set (`GetAvailableAPIPorts`): speed and group
    /// ports by name, breakout ports by sub-port.
    pub fn available(&self) -> Result<BTreeSet<String>, String> {
        let mut ports = BTreeSet::new();
        for name in self.profile.ports.keys() {
            match self.kind(name) {
                Some(PortKind::Management) | None => {}
                Some(PortKind::Breakout(profile)) => {
                    let lanes = self.lane_offsets(name, profile).map_err(|mode| {
                        format!(
                            "port {name} has breakout {mode}, which its profile does not support"
                        )
                    })?;
                    ports.extend((1..=lanes.len()).map(|l| format!("{name}/{l}")));
                }
                Some(_) => {
                    ports.insert(name.clone());
                }
            }
        }
        Ok(ports)
    }

    /// Ports whose FEC may be set (`GetFECConfigurablePorts`): [`Self::available`] plus the
    /// base name of a breakout port that is not broken out.
    pub fn fec_ports(&self) -> Result<BTreeSet<String>, String> {
        let mut ports = self.available()?;
        for name in self.profile.ports.keys() {
            if let Some(PortKind::Breakout(profile)) = self.kind(name)
                && self.lane_offsets(name, profile).is_ok_and(|o| o.len() == 1)
            {
                ports.insert(name.clone());
            }
        }
        Ok(ports)
    }

    /// Whether autoneg may be set on `port` (`GetAutoNegsDefaultsFor`): direct speed ports and
    /// breakout sub-ports whose port profile allows it; never group ports.
    pub fn autoneg_allowed(&self, port: &str) -> bool {
        let (base, lane) = split_lane(port);
        match (self.kind(base), lane) {
            (Some(PortKind::Speed(profile)), None) => profile.auto_neg_allowed,
            (Some(PortKind::Breakout(profile)), Some(lane)) => {
                profile.auto_neg_allowed
                    && self
                        .lane_offsets(base, profile)
                        .is_ok_and(|o| (1..=o.len()).contains(&lane))
            }
            _ => false,
        }
    }

    /// Ports in use on the switch, breakout lanes counted, in total and per pipeline, with the
    /// ports of each pipeline.
    pub fn port_counts(&self) -> (u16, BTreeMap<&'a str, (u16, Vec<&'a str>)>) {
        let mut total = 0u16;
        let mut pipelines: BTreeMap<&str, (u16, Vec<&str>)> = BTreeMap::new();
        let profile = self.profile;
        for (name, port) in &profile.ports {
            let lanes = match self.kind(name) {
                Some(PortKind::Management) => continue,
                Some(PortKind::Breakout(profile)) => {
                    self.lane_offsets(name, profile).map_or(0, |o| o.len())
                }
                _ => 1,
            };
            let lanes = u16::try_from(lanes).unwrap_or(u16::MAX);
            total = total.saturating_add(lanes);
            if !port.pipeline.is_empty() {
                let entry = pipelines.entry(port.pipeline.as_str()).or_default();
                entry.0 = entry.0.saturating_add(lanes);
                entry.1.push(name.as_str());
            }
        }
        (total, pipelines)
    }
}

/// `E1/1/2` → (`E1/1`, Some(2)); `E1/1` → (`E1/1`, None).
pub fn split_lane(port: &str) -> (&str, Option<usize>) {
    if port.matches('/').count() == 2
        && let Some((base, lane)) = port.rsplit_once('/')
    {
        return (base, lane.parse().ok());
    }
    (port, None)
}

/// The speed of each lane of breakout mode `mode` (`4x25G` → `25G`).
pub fn lane_speed(mode: &str) -> Option<&str> {
    mode.split_once('x').map(|(_, speed)| speed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::SwitchProfiles;

    fn names(profile: &str, breakouts: &[(&str, &str)]) -> BTreeMap<String, String> {
        let catalog = SwitchProfiles::builtin();
        let breakouts = breakouts
            .iter()
            .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
            .collect();
        SwitchPorts::new(catalog.get(profile).unwrap(), &breakouts)
            .interface_names()
            .unwrap()
    }

    /// vs: E1/1 is NOS port Ethernet0, M1 is Management0.
    #[test]
    fn nos_names_name_the_profiles_ports() {
        let names = names("vs", &[]);
        assert_eq!(names["Ethernet0"], "E1/1");
        assert_eq!(names["Ethernet47"], "E1/48");
        assert_eq!(names["E1/48"], "E1/48");
        assert_eq!(names["Management0"], "M1");
        assert!(!names.contains_key("Ethernet48") && !names.contains_key("E1/49"));
    }

    /// dell-s5248f-on: E1/49's lanes start at Ethernet48; at 1x100G it is one port, broken out
    /// 4x25G it is four (Ethernet48–Ethernet51).
    #[test]
    fn a_broken_out_ports_lanes_are_its_sub_ports() {
        let whole = names("dell-s5248f-on", &[]);
        assert_eq!(whole["Ethernet48"], "E1/49");
        assert!(!whole.contains_key("E1/49/2"));
        let split = names("dell-s5248f-on", &[("E1/49", "4x25G")]);
        assert_eq!(split["Ethernet48"], "E1/49/1");
        assert_eq!(split["Ethernet51"], "E1/49/4");
        assert_eq!(
            split["E1/49"], "E1/49",
            "the base name stays an alias of the first lane"
        );
    }

    #[test]
    fn an_unsupported_breakout_is_an_error_naming_the_port() {
        let catalog = SwitchProfiles::builtin();
        let breakouts = BTreeMap::from([("E1/49".to_owned(), "8x10G".to_owned())]);
        let error = SwitchPorts::new(catalog.get("dell-s5248f-on").unwrap(), &breakouts)
            .api_to_nos()
            .unwrap_err();
        assert!(
            error.contains("E1/49") && error.contains("8x10G"),
            "{error}"
        );
    }
}
