//! What an import must create: the imported objects matched against the fabric's current NetBox
//! state by natural keys (device name, interface device + name, VLAN group slug, VRF name, prefix
//! in its VRF, ...). Objects already there are not created again; the new objects' references
//! to them resolve to their NetBox ids through the returned [`IdMap`].

use std::collections::{BTreeMap, HashMap};

use crate::netbox::FabricSnapshot;
use crate::netbox::seed::IdMap;
use crate::netbox::types::{
    Cable, Device, Interface, IpAddress, IpRange, MacAddress, NestedRef, NetBoxObject, Prefix,
    RouteTarget, Vlan, VlanGroup, Vrf, has_tag,
};

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Objects to create, with the import's synthetic ids.
    pub new: FabricSnapshot,
    /// Synthetic id → NetBox id of every imported object already in NetBox.
    pub ids: IdMap,
    /// How many imported objects of each NetBox type are already there.
    pub present: BTreeMap<&'static str, usize>,
}

/// Splits `desired` into what `existing` already holds and what is new.
pub fn plan(desired: &FabricSnapshot, existing: &FabricSnapshot, tag_external: &str) -> Plan {
    let mut p = Plan::default();
    let mut m = Matcher {
        ids: &mut p.ids,
        present: &mut p.present,
        ours: Keys::of(desired, tag_external),
        theirs: Keys::of(existing, tag_external),
    };
    let (d, e) = (desired, existing);
    let new = &mut p.new;
    new.devices = m.split(&d.devices, &e.devices, Keys::device);
    new.interfaces = m.split(&d.interfaces, &e.interfaces, Keys::interface);
    new.mac_addresses = m.split(&d.mac_addresses, &e.mac_addresses, Keys::mac);
    new.ip_addresses = m.split(&d.ip_addresses, &e.ip_addresses, Keys::ip);
    new.cables = m.split(&d.cables, &e.cables, Keys::cable);
    new.vlan_groups = m.split(&d.vlan_groups, &e.vlan_groups, Keys::vlan_group);
    new.vlans = m.split(&d.vlans, &e.vlans, Keys::vlan);
    new.vrfs = m.split(&d.vrfs, &e.vrfs, Keys::vrf_key);
    new.route_targets = m.split(&d.route_targets, &e.route_targets, Keys::route_target);
    new.prefixes = m.split(&d.prefixes, &e.prefixes, Keys::prefix);
    new.ip_ranges = m.split(&d.ip_ranges, &e.ip_ranges, Keys::range);
    p
}

struct Matcher<'p, 's> {
    ids: &'p mut IdMap,
    present: &'p mut BTreeMap<&'static str, usize>,
    /// Keys of the imported objects and of NetBox's.
    ours: Keys<'s>,
    theirs: Keys<'s>,
}

impl<'s> Matcher<'_, 's> {
    /// The objects of `desired` whose key `existing` lacks; the others are recorded as present.
    fn split<T: NetBoxObject + Clone>(
        &mut self,
        desired: &[T],
        existing: &[T],
        key: impl Fn(&Keys<'s>, &T) -> String,
    ) -> Vec<T> {
        let there: HashMap<String, u64> = existing
            .iter()
            .map(|o| (key(&self.theirs, o), o.id()))
            .collect();
        let mut new = Vec::new();
        for object in desired {
            match there.get(&key(&self.ours, object)) {
                Some(id) => {
                    self.ids.insert(T::OBJECT_TYPE, object.id(), *id);
                    *self.present.entry(T::OBJECT_TYPE).or_default() += 1;
                }
                None => new.push(object.clone()),
            }
        }
        new
    }
}

/// Natural keys of one snapshot's objects; references are resolved within that snapshot.
struct Keys<'s> {
    devices: HashMap<u64, &'s Device>,
    interfaces: HashMap<u64, &'s Interface>,
    vrfs: HashMap<u64, &'s Vrf>,
    vlan_groups: HashMap<u64, &'s VlanGroup>,
    tag_external: &'s str,
}

impl<'s> Keys<'s> {
    fn of(s: &'s FabricSnapshot, tag_external: &'s str) -> Self {
        Keys {
            devices: s.devices.iter().map(|d| (d.id, d)).collect(),
            interfaces: s.interfaces.iter().map(|i| (i.id, i)).collect(),
            vrfs: s.vrfs.iter().map(|v| (v.id, v)).collect(),
            vlan_groups: s.vlan_groups.iter().map(|g| (g.id, g)).collect(),
            tag_external,
        }
    }

    fn device(&self, d: &Device) -> String {
        d.name.clone().unwrap_or_else(|| format!("#{}", d.id))
    }

    fn device_ref(&self, r: &NestedRef) -> String {
        match self.devices.get(&r.id) {
            Some(d) => self.device(d),
            None => r.name.clone().unwrap_or_else(|| format!("#{}", r.id)),
        }
    }

    fn interface(&self, i: &Interface) -> String {
        format!("{}|{}", self.device_ref(&i.device), i.name)
    }

    fn interface_id(&self, id: u64) -> String {
        self.interfaces
            .get(&id)
            .map_or_else(|| format!("interface #{id}"), |i| self.interface(i))
    }

    fn assigned(&self, kind: Option<&str>, id: Option<u64>) -> String {
        match (kind, id) {
            (Some("dcim.interface"), Some(id)) => self.interface_id(id),
            (Some(kind), Some(id)) => format!("{kind} #{id}"),
            _ => String::new(),
        }
    }

    fn vlan_group(&self, g: &VlanGroup) -> String {
        g.slug.clone()
    }

    fn route_target(&self, r: &RouteTarget) -> String {
        r.name.clone()
    }

    fn mac(&self, m: &MacAddress) -> String {
        let on = self.assigned(m.assigned_object_type.as_deref(), m.assigned_object_id);
        format!("{on}|{}", m.mac_address.to_ascii_lowercase())
    }

    fn vrf_key(&self, v: &Vrf) -> String {
        let kind = if has_tag(&v.tags, self.tag_external) {
            "external"
        } else {
            "vpc"
        };
        format!("{kind}|{}", v.name)
    }

    fn vrf(&self, r: Option<&NestedRef>) -> String {
        match r {
            None => "global".into(),
            Some(r) => self
                .vrfs
                .get(&r.id)
                .map_or_else(|| format!("vrf #{}", r.id), |v| self.vrf_key(v)),
        }
    }

    fn ip(&self, a: &IpAddress) -> String {
        format!("{}|{}", self.vrf(a.vrf.as_ref()), a.address)
    }

    fn cable(&self, c: &Cable) -> String {
        let mut ends: Vec<String> = c
            .a_terminations
            .iter()
            .chain(&c.b_terminations)
            .map(|t| self.assigned(Some(&t.object_type), Some(t.object_id)))
            .collect();
        ends.sort();
        ends.join("+")
    }

    fn vlan(&self, v: &Vlan) -> String {
        let group = v.group.as_ref().map_or_else(
            || format!("name {}", v.name),
            |g| {
                self.vlan_groups
                    .get(&g.id)
                    .map_or_else(|| format!("group #{}", g.id), |g| g.slug.clone())
            },
        );
        format!("{group}|{}", v.vid)
    }

    fn prefix(&self, p: &Prefix) -> String {
        format!("{}|{}", self.vrf(p.vrf.as_ref()), p.prefix)
    }

    fn range(&self, r: &IpRange) -> String {
        format!(
            "{}|{}-{}",
            self.vrf(r.vrf.as_ref()),
            r.start_address,
            r.end_address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::ImportReport;
    use crate::import::inverse;
    use crate::import::tests::{demo_input, wiring_fabric};

    fn desired() -> FabricSnapshot {
        let fabric = wiring_fabric("env-1", true);
        inverse(&fabric, &demo_input()).unwrap().snapshot
    }

    #[test]
    fn everything_already_in_netbox_is_matched_by_natural_key_and_nothing_is_new() {
        let desired = desired();
        // NetBox's copy: other ids, references following them.
        let mut existing = desired.clone();
        existing.devices.iter_mut().for_each(|d| d.id += 1000);
        existing
            .interfaces
            .iter_mut()
            .for_each(|i| i.device.id += 1000);
        let p = plan(&desired, &existing, "hedgehog-external");
        assert!(p.new.is_empty(), "{:?}", ImportReport::list(&p.new));
        assert_eq!(p.present.values().sum::<usize>(), desired.len());
        let first = &desired.devices[0];
        assert_eq!(p.ids.get("dcim.device", first.id), Some(first.id + 1000));
    }

    #[test]
    fn only_what_netbox_lacks_is_new() {
        let desired = desired();
        let mut existing = desired.clone();
        existing.cables.clear();
        existing.vlans.clear();
        // A VPC's VRF is not the External of the same name.
        let external = existing
            .vrfs
            .iter_mut()
            .find(|v| v.name == "default")
            .unwrap();
        external.tags.clear();
        let p = plan(&desired, &existing, "hedgehog-external");
        assert_eq!(p.new.cables.len(), desired.cables.len());
        assert_eq!(p.new.vlans.len(), desired.vlans.len());
        assert_eq!(
            p.new
                .vrfs
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            ["default"]
        );
        // ... and the attachment's address, which lives in that External's VRF.
        assert_eq!(p.new.ip_addresses.len(), 1);
        assert_eq!(p.new.len(), desired.cables.len() + desired.vlans.len() + 2);
        // New objects that refer to present ones resolve through the id map.
        let interface = p.new.cables[0].a_terminations[0].object_id;
        assert_eq!(p.ids.get("dcim.interface", interface), Some(interface));
    }
}
