//! Observations of one thing from several sources become one: those matched to the same NetBox
//! device, and unmatched ones sharing a serial, a MAC or a name. Where sources disagree, the
//! source listed first wins field by field (its values first, the others fill the gaps); an
//! observation is a virtual machine when any source says so.

use serde::Serialize;

use super::known::KnownDevice;
use super::matching::{MatchKey, match_device};
use super::observation::{ObjectKind, ObservedDevice, ObservedInterface};

/// One thing, as every source that saw it together describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    /// Index into the known devices, when it is in NetBox.
    #[serde(skip)]
    pub known: Option<usize>,
    pub matched_by: Option<MatchKey>,
    /// The sources that saw it, first (the owner) first.
    pub sources: Vec<String>,
    pub device: ObservedDevice,
}

/// Merges `observed` (in source priority order) into one entry per thing.
pub fn merge(observed: Vec<ObservedDevice>, known: &[KnownDevice]) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    for device in observed {
        let found = match_device(&device, known);
        let same = merged.iter_mut().find(|m| match found {
            Some((index, _)) => m.known == Some(index),
            None => m.known.is_none() && same_thing(&m.device, &device),
        });
        match same {
            Some(entry) => {
                if !entry.sources.contains(&device.source) {
                    entry.sources.push(device.source.clone());
                }
                fill(&mut entry.device, device);
            }
            None => merged.push(Merged {
                known: found.map(|(index, _)| index),
                matched_by: found.map(|(_, key)| key),
                sources: vec![device.source.clone()],
                device,
            }),
        }
    }
    merged
}

/// Two unmatched observations describe one thing when a serial, a MAC or a name agrees.
fn same_thing(a: &ObservedDevice, b: &ObservedDevice) -> bool {
    let equal = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if !x.is_empty() && x.eq_ignore_ascii_case(y));
    equal(&a.serial, &b.serial)
        || a.all_macs().any(|m| b.all_macs().any(|n| n == m))
        || equal(&a.name, &b.name)
}

/// Fills what `into` lacks from `other`.
fn fill(into: &mut ObservedDevice, other: ObservedDevice) {
    // Only a hypervisor's view can tell a virtual machine; a scan sees a host either way.
    if other.kind == ObjectKind::VirtualMachine {
        into.kind = ObjectKind::VirtualMachine;
    }
    into.cluster = into.cluster.take().or(other.cluster);
    into.placement = std::mem::take(&mut into.placement).or(other.placement);
    into.name = into.name.take().or(other.name);
    into.serial = into.serial.take().or(other.serial);
    into.primary_ip = into.primary_ip.take().or(other.primary_ip);
    extend_unique(&mut into.macs, other.macs);
    for (field, value) in other.facts {
        into.facts.entry(field).or_insert(value);
    }
    for interface in other.interfaces {
        match into
            .interfaces
            .iter_mut()
            .find(|i| i.name == interface.name)
        {
            Some(existing) => fill_interface(existing, interface),
            None => into.interfaces.push(interface),
        }
    }
}

fn extend_unique<T: PartialEq>(list: &mut Vec<T>, more: Vec<T>) {
    for value in more {
        if !list.contains(&value) {
            list.push(value);
        }
    }
}

fn fill_interface(into: &mut ObservedInterface, other: ObservedInterface) {
    into.interface_type = into.interface_type.take().or(other.interface_type);
    extend_unique(&mut into.macs, other.macs);
    extend_unique(&mut into.ips, other.ips);
    for (field, value) in other.facts {
        into.facts.entry(field).or_insert(value);
    }
    extend_unique(&mut into.neighbours, other.neighbours);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::discovery::observation::Field;

    fn seen(source: &str, name: &str, serial: Option<&str>, platform: &str) -> ObservedDevice {
        ObservedDevice {
            source: source.into(),
            identity: name.into(),
            name: Some(name.into()),
            serial: serial.map(str::to_owned),
            facts: [(Field::Custom("platform".into()), json!(platform))].into(),
            ..Default::default()
        }
    }

    #[test]
    fn two_sources_seeing_one_netbox_device_make_one_entry_first_source_winning() {
        let known = [KnownDevice {
            id: 7,
            name: "leaf-01".into(),
            serial: "SN1".into(),
            ..Default::default()
        }];
        let merged = merge(
            vec![
                seen("fabric:lab", "leaf-01", None, "x86"),
                seen("inventory:rack", "renamed", Some("SN1"), "arm"),
            ],
            &known,
        );
        assert_eq!(merged.len(), 1, "{merged:?}");
        assert_eq!(merged[0].known, Some(0));
        assert_eq!(merged[0].sources, ["fabric:lab", "inventory:rack"]);
        assert_eq!(merged[0].device.serial.as_deref(), Some("SN1"));
        assert_eq!(
            merged[0].device.facts[&Field::Custom("platform".into())],
            json!("x86")
        );
    }

    #[test]
    fn unmatched_observations_merge_by_serial_and_stay_apart_otherwise() {
        let merged = merge(
            vec![
                seen("a:1", "host-1", Some("S1"), "x"),
                seen("b:1", "HOST-ONE", Some("s1"), "y"),
                seen("b:1", "host-2", Some("S2"), "z"),
            ],
            &[],
        );
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert_eq!(merged[0].sources, ["a:1", "b:1"]);
        assert_eq!(merged[0].known, None);
    }
}
