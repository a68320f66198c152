//! Which NetBox device an observation is. Keys are tried in this order, and the first key that
//! names exactly one NetBox device decides:
//!
//! 1. serial number (case-insensitive; empty serials never match),
//! 2. a MAC address of any of the device's interfaces (against the observation's MACs and its
//!    interfaces' MACs),
//! 3. the primary IP address (without prefix length),
//! 4. the name (case-insensitive).
//!
//! Devices and virtual machines are matched alike: an observation may be either in NetBox.
//! A key that names two NetBox devices is ambiguous and skipped, so a duplicated serial never
//! picks one of them at random.

use serde::Serialize;

use super::known::KnownDevice;
use super::observation::ObservedDevice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKey {
    Serial,
    Mac,
    PrimaryIp,
    Name,
}

/// The NetBox device (index into `known`) an observation is, and the key that said so.
pub fn match_device(observed: &ObservedDevice, known: &[KnownDevice]) -> Option<(usize, MatchKey)> {
    const ORDER: [MatchKey; 4] = [
        MatchKey::Serial,
        MatchKey::Mac,
        MatchKey::PrimaryIp,
        MatchKey::Name,
    ];
    ORDER.into_iter().find_map(|key| {
        let mut hits = known
            .iter()
            .enumerate()
            .filter(|(_, k)| key_matches(key, observed, k));
        match (hits.next(), hits.next()) {
            (Some((index, _)), None) => Some((index, key)),
            _ => None,
        }
    })
}

fn key_matches(key: MatchKey, observed: &ObservedDevice, known: &KnownDevice) -> bool {
    let same = |a: &str, b: &str| !a.is_empty() && a.eq_ignore_ascii_case(b);
    match key {
        MatchKey::Serial => observed
            .serial
            .as_deref()
            .is_some_and(|s| same(s, &known.serial)),
        MatchKey::Mac => known
            .macs()
            .any(|m| observed.all_macs().any(|o| same(o, m))),
        MatchKey::PrimaryIp => match (&observed.primary_ip, &known.primary_ip) {
            (Some(a), Some(b)) => same(a, b),
            _ => false,
        },
        MatchKey::Name => observed
            .name
            .as_deref()
            .is_some_and(|n| same(n, &known.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::known::KnownInterface;

    fn known(id: u64, name: &str, serial: &str, mac: &str, ip: &str) -> KnownDevice {
        KnownDevice {
            id,
            name: name.into(),
            serial: serial.into(),
            primary_ip: (!ip.is_empty()).then(|| ip.to_owned()),
            interfaces: vec![KnownInterface {
                mac: (!mac.is_empty()).then(|| mac.to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn observed(name: &str, serial: &str, mac: &str, ip: &str) -> ObservedDevice {
        ObservedDevice {
            name: Some(name.into()),
            serial: (!serial.is_empty()).then(|| serial.to_owned()),
            macs: if mac.is_empty() {
                Vec::new()
            } else {
                vec![mac.to_owned()]
            },
            primary_ip: (!ip.is_empty()).then(|| ip.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn serial_wins_over_a_name_that_names_another_device() {
        let netbox = [
            known(1, "leaf-01", "", "", ""),
            known(2, "old-name", "SN1", "", ""),
        ];
        let found = match_device(&observed("leaf-01", "sn1", "", ""), &netbox);
        assert_eq!(found, Some((1, MatchKey::Serial)));
    }

    #[test]
    fn keys_are_tried_in_order_mac_then_ip_then_name() {
        let netbox = [
            known(1, "a", "", "0C:29:EF:00:00:01", "10.0.0.9"),
            known(2, "b", "", "", "10.0.0.1"),
            known(3, "c", "", "", ""),
        ];
        let by_mac = observed("c", "", "0C:29:EF:00:00:01", "10.0.0.1");
        assert_eq!(match_device(&by_mac, &netbox), Some((0, MatchKey::Mac)));
        let by_ip = observed("c", "", "", "10.0.0.1");
        assert_eq!(
            match_device(&by_ip, &netbox),
            Some((1, MatchKey::PrimaryIp))
        );
        let by_name = observed("C", "", "", "");
        assert_eq!(match_device(&by_name, &netbox), Some((2, MatchKey::Name)));
        assert_eq!(match_device(&observed("d", "", "", ""), &netbox), None);
    }

    #[test]
    fn an_ambiguous_key_is_skipped_for_the_next_one() {
        let netbox = [known(1, "a", "DUP", "", ""), known(2, "b", "DUP", "", "")];
        assert_eq!(
            match_device(&observed("b", "DUP", "", ""), &netbox),
            Some((1, MatchKey::Name))
        );
        assert_eq!(match_device(&observed("z", "DUP", "", ""), &netbox), None);
    }
}
