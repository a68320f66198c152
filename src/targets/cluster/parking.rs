//! Parking: the first step of two objects swapping a value the fabric keeps unique. Neither
//! can take the other's value while the other holds it, so one first moves to a value nobody
//! holds or wants, which frees its old value for the other; it takes its own wanted value in
//! the next round.
//!
//! Parked are a leaf's ASN and a switch's protocol, VTEP and management IPs (fresh ones from
//! the fabric's subnets and ASN range), a VPC subnet's VLAN (a fresh one from the ranges of
//! the VPC's VLANNamespace), and a fabric, mesh or gateway link's /31 (a fresh one from the
//! fabric subnet).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::Value;

use super::Objects;
use crate::config::FabricSettings;
use crate::model::{Kind, ObjectKey};

/// `desired`'s object `key` with the values it wants from another object that is giving them
/// up moved to free ones; `None` when it swaps nothing with another object or no value is free.
pub fn parked(
    key: &ObjectKey,
    desired: &Objects,
    live: &Objects,
    settings: &FabricSettings,
) -> Option<Value> {
    let swap = Swap { key, desired, live };
    match key.kind {
        Kind::Switch => swap.switch(settings),
        Kind::VPC => swap.vpc(),
        Kind::Connection => swap.connection(settings),
        _ => None,
    }
}

/// A unique Switch field and where a free value for it comes from.
#[derive(Clone, Copy)]
enum SwitchField {
    Asn,
    ProtocolIp,
    VtepIp,
    ManagementIp,
}

impl SwitchField {
    const ALL: [SwitchField; 4] = [
        SwitchField::Asn,
        SwitchField::ProtocolIp,
        SwitchField::VtepIp,
        SwitchField::ManagementIp,
    ];

    fn name(self) -> &'static str {
        match self {
            SwitchField::Asn => "asn",
            SwitchField::ProtocolIp => "protocolIP",
            SwitchField::VtepIp => "vtepIP",
            SwitchField::ManagementIp => "ip",
        }
    }

    /// The first value for `wanted` that the fabric admits and `taken` does not hold.
    fn free(
        self,
        settings: &FabricSettings,
        wanted: &Value,
        taken: &BTreeSet<String>,
    ) -> Option<Value> {
        let host = |net: ipnet::Ipv4Net, keep: &dyn Fn(Ipv4Addr) -> bool| {
            net.hosts()
                .find(|ip| keep(*ip) && !taken.contains(&ip.to_string()))
        };
        match self {
            SwitchField::Asn => {
                let leaves = u64::from(settings.leaf_asn_start)..=u64::from(settings.leaf_asn_end);
                leaves
                    .into_iter()
                    .find(|asn| !taken.contains(&asn.to_string()))
                    .map(Value::from)
            }
            SwitchField::ProtocolIp => {
                host(settings.protocol_subnet, &|_| true).map(|ip| Value::from(format!("{ip}/32")))
            }
            SwitchField::VtepIp => {
                host(settings.vtep_subnet, &|_| true).map(|ip| Value::from(format!("{ip}/32")))
            }
            SwitchField::ManagementIp => {
                let length = wanted.as_str()?.split_once('/')?.1;
                let below_dhcp = |ip: Ipv4Addr| {
                    ip < settings.management_dhcp_start && ip != settings.control_vip
                };
                host(settings.management_subnet, &below_dhcp)
                    .map(|ip| Value::from(format!("{ip}/{length}")))
            }
        }
    }
}

/// A value as the fabric compares it for uniqueness: an IP's address without its length.
fn identity(value: &Value) -> String {
    match value.as_str() {
        Some(text) => text.split('/').next().unwrap_or(text).to_owned(),
        None => value.to_string(),
    }
}

/// The link list of a fabric, mesh or gateway connection, with its type's key.
fn link_list(connection: &Value) -> Option<(&'static str, &Vec<Value>)> {
    ["fabric", "mesh", "gateway"].into_iter().find_map(|kind| {
        let links = connection
            .pointer(&format!("/spec/{kind}/links"))?
            .as_array()?;
        Some((kind, links))
    })
}

/// A link's ends that carry an IP, as `(end, ip)`.
fn link_ends(link: &Value) -> impl Iterator<Item = (&String, &Value)> {
    link.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(end, side)| Some((end, side.get("ip")?)))
}

/// Every link IP of a connection, as the fabric compares them.
fn link_ips(connection: &Value) -> BTreeSet<String> {
    link_list(connection)
        .into_iter()
        .flat_map(|(_, links)| links)
        .flat_map(|link| link_ends(link).map(|(_, ip)| identity(ip)))
        .collect()
}

fn addr_of(ip: &Value) -> Option<Ipv4Addr> {
    identity(ip).parse().ok()
}

/// The first /31 of `subnet` neither of whose addresses `taken` holds.
fn free_pair(subnet: ipnet::Ipv4Net, taken: &BTreeSet<String>) -> Option<(Ipv4Addr, Ipv4Addr)> {
    subnet.subnets(31).ok()?.find_map(|pair| {
        let (even, odd) = (pair.network(), pair.broadcast());
        let free = !taken.contains(&even.to_string()) && !taken.contains(&odd.to_string());
        free.then_some((even, odd))
    })
}

struct Swap<'a> {
    key: &'a ObjectKey,
    desired: &'a Objects,
    live: &'a Objects,
}

impl Swap<'_> {
    /// The other live objects of this kind, each with what is desired of it.
    fn others(&self) -> impl Iterator<Item = (&Value, Option<&Value>)> {
        self.live
            .iter()
            .filter(|(other, _)| other.kind == self.key.kind && *other != self.key)
            .map(|(other, held)| (held.as_ref(), self.desired.get(other).map(Arc::as_ref)))
    }

    /// Every value of this kind's objects, desired or live, `values` finds in one object.
    fn taken(&self, values: impl Fn(&Value) -> Vec<String>) -> BTreeSet<String> {
        self.desired
            .iter()
            .chain(self.live)
            .filter(|(k, _)| k.kind == self.key.kind)
            .flat_map(|(_, object)| values(object.as_ref()))
            .collect()
    }

    fn switch(&self, settings: &FabricSettings) -> Option<Value> {
        let desired = self.desired.get(self.key)?;
        let current = self.live.get(self.key)?;
        let spine = desired.pointer("/spec/role").and_then(Value::as_str) == Some("spine");
        let mut parked = Value::clone(desired);
        let mut moved = false;
        for field in SwitchField::ALL {
            // A spine's ASN is the fabric's one spine ASN: never parked.
            if spine && matches!(field, SwitchField::Asn) {
                continue;
            }
            let path = format!("/spec/{}", field.name());
            let Some(wanted) = desired.pointer(&path) else {
                continue;
            };
            let held = |object: &Value| object.pointer(&path).map(identity);
            if held(current) == Some(identity(wanted)) {
                continue;
            }
            let given_up = self.others().any(|(holder, wants)| {
                held(holder) == Some(identity(wanted)) && wants.and_then(held) != held(holder)
            });
            if !given_up {
                continue;
            }
            let taken = self.taken(|object| held(object).into_iter().collect());
            parked["spec"][field.name()] = field.free(settings, wanted, &taken)?;
            moved = true;
        }
        moved.then_some(parked)
    }

    fn vpc(&self) -> Option<Value> {
        let desired = self.desired.get(self.key)?;
        let current = self.live.get(self.key)?;
        let namespace = |vpc: &Value| {
            vpc.pointer("/spec/vlanNamespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned()
        };
        let ours = namespace(desired);
        let vlans = |vpc: &Value| -> BTreeSet<u64> {
            if namespace(vpc) != ours {
                return BTreeSet::new();
            }
            let subnets = vpc.pointer("/spec/subnets").and_then(Value::as_object);
            subnets
                .into_iter()
                .flatten()
                .filter_map(|(_, s)| s.get("vlan").and_then(Value::as_u64))
                .collect()
        };
        let held_now = vlans(current);
        let mut parked = Value::clone(desired);
        let mut moved = false;
        let subnets = desired
            .pointer("/spec/subnets")
            .and_then(Value::as_object)?;
        for (name, subnet) in subnets {
            let Some(wanted) = subnet.get("vlan").and_then(Value::as_u64) else {
                continue;
            };
            if held_now.contains(&wanted) {
                continue;
            }
            let given_up = self.others().any(|(holder, wants)| {
                vlans(holder).contains(&wanted)
                    && !wants.is_some_and(|w| vlans(w).contains(&wanted))
            });
            if !given_up {
                continue;
            }
            let taken = self.taken(|vpc| vlans(vpc).iter().map(u64::to_string).collect());
            let free = self.free_vlan(&ours, &taken)?;
            parked["spec"]["subnets"][name]["vlan"] = Value::from(free);
            moved = true;
        }
        moved.then_some(parked)
    }

    fn connection(&self, settings: &FabricSettings) -> Option<Value> {
        let desired = self.desired.get(self.key)?;
        let current = self.live.get(self.key)?;
        let held_now = link_ips(current);
        let mut parked = Value::clone(desired);
        let mut moved = false;
        let (kind, links) = link_list(desired)?;
        for (n, link) in links.iter().enumerate() {
            let wanted: Vec<String> = link_ends(link).map(|(_, ip)| identity(ip)).collect();
            if wanted.iter().all(|ip| held_now.contains(ip)) {
                continue;
            }
            let given_up = self.others().any(|(holder, wants)| {
                let holds = link_ips(holder);
                let keeps = wants.map(link_ips).unwrap_or_default();
                wanted
                    .iter()
                    .any(|ip| holds.contains(ip) && !keeps.contains(ip))
            });
            if !given_up {
                continue;
            }
            let taken = self.taken(|object| link_ips(object).into_iter().collect());
            let (even, odd) = free_pair(settings.fabric_subnet, &taken)?;
            let parked_link = &mut parked["spec"][kind]["links"][n];
            for (end, ip) in link_ends(link)
                .map(|(end, ip)| (end.clone(), ip.clone()))
                .collect::<Vec<_>>()
            {
                let last_even = addr_of(&ip).is_some_and(|a| a.octets()[3] % 2 == 0);
                let fresh = if last_even { even } else { odd };
                parked_link[end.as_str()]["ip"] = Value::from(format!("{fresh}/31"));
            }
            moved = true;
        }
        moved.then_some(parked)
    }

    /// The first VLAN of VLANNamespace `namespace`'s ranges that no VPC holds or wants.
    fn free_vlan(&self, namespace: &str, taken: &BTreeSet<String>) -> Option<u64> {
        let key = ObjectKey {
            kind: Kind::VLANNamespace,
            name: namespace.to_owned(),
        };
        let ranges = self
            .live
            .get(&key)?
            .pointer("/spec/ranges")
            .and_then(Value::as_array)?;
        ranges
            .iter()
            .filter_map(|r| {
                let from = r.get("from").and_then(Value::as_u64)?;
                Some(from..=r.get("to").and_then(Value::as_u64).unwrap_or(from))
            })
            .flatten()
            .find(|vlan| !taken.contains(&vlan.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn entry(kind: Kind, name: &str, spec: Value) -> (ObjectKey, Arc<Value>) {
        let key = ObjectKey {
            kind,
            name: name.into(),
        };
        (
            key,
            Arc::new(json!({"kind": kind.as_str(), "metadata": {"name": name}, "spec": spec})),
        )
    }

    fn switch_key(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    fn leaf(name: &str, asn: u64, n: u8) -> (ObjectKey, Arc<Value>) {
        entry(
            Kind::Switch,
            name,
            json!({"role": "server-leaf", "asn": asn, "ip": format!("172.30.0.{n}/21"),
                   "protocolIP": format!("172.30.8.{n}/32"), "vtepIP": format!("172.30.12.{n}/32")}),
        )
    }

    #[test]
    fn a_leaf_changing_its_asn_is_parked_on_a_free_one() {
        let settings = FabricSettings::default();
        let live: BTreeMap<_, _> = [leaf("a", 65101, 11), leaf("b", 65102, 12)].into();
        let desired: BTreeMap<_, _> = [leaf("a", 65102, 11), leaf("b", 65101, 12)].into();
        let parked = parked(&switch_key("a"), &desired, &live, &settings).unwrap();
        assert_eq!(parked["spec"]["asn"], 65103);
        assert_eq!(
            parked["spec"]["protocolIP"], "172.30.8.11/32",
            "not swapped"
        );
        assert!(super::parked(&switch_key("a"), &live, &live, &settings).is_none());
        // An ASN nobody else holds needs no parking.
        let moved: BTreeMap<_, _> = [leaf("a", 65200, 11), leaf("b", 65102, 12)].into();
        assert!(super::parked(&switch_key("a"), &moved, &live, &settings).is_none());
    }

    #[test]
    fn two_switches_swapping_ips_park_each_ip_on_a_free_one_of_its_subnet() {
        let settings = FabricSettings::default();
        let live: BTreeMap<_, _> = [leaf("a", 65101, 11), leaf("b", 65102, 12)].into();
        let mut desired = live.clone();
        for (name, n) in [("a", 12), ("b", 11)] {
            let spec = &mut Arc::make_mut(desired.get_mut(&switch_key(name)).unwrap())["spec"];
            spec["ip"] = json!(format!("172.30.0.{n}/21"));
            spec["protocolIP"] = json!(format!("172.30.8.{n}/32"));
            spec["vtepIP"] = json!(format!("172.30.12.{n}/32"));
        }
        let parked = parked(&switch_key("a"), &desired, &live, &settings).unwrap();
        // The VIP (.1) is never handed out; the ASN is not swapped.
        assert_eq!(parked["spec"]["ip"], "172.30.0.2/21");
        assert_eq!(parked["spec"]["protocolIP"], "172.30.8.1/32");
        assert_eq!(parked["spec"]["vtepIP"], "172.30.12.1/32");
        assert_eq!(parked["spec"]["asn"], 65101);
    }

    #[test]
    fn two_fabric_connections_swapping_link_ips_park_one_link_on_a_free_31() {
        let link = |name: &str, spine: u8| {
            entry(
                Kind::Connection,
                name,
                json!({"fabric": {"links": [{
                "spine": {"port": "s/E1/1", "ip": format!("172.30.128.{spine}/31")},
                "leaf": {"port": "l/E1/1", "ip": format!("172.30.128.{}/31", spine + 1)}}]}}),
            )
        };
        let live: BTreeMap<_, _> = [link("a", 0), link("b", 2)].into();
        let desired: BTreeMap<_, _> = [link("a", 2), link("b", 0)].into();
        let key = ObjectKey {
            kind: Kind::Connection,
            name: "a".into(),
        };
        let parked = parked(&key, &desired, &live, &FabricSettings::default()).unwrap();
        let parked_link = &parked["spec"]["fabric"]["links"][0];
        assert_eq!(parked_link["spine"]["ip"], "172.30.128.4/31");
        assert_eq!(parked_link["leaf"]["ip"], "172.30.128.5/31");
        assert_eq!(parked_link["spine"]["port"], "s/E1/1");
        assert!(super::parked(&key, &live, &live, &FabricSettings::default()).is_none());
    }

    #[test]
    fn two_vpcs_swapping_vlans_park_one_on_a_free_vlan_of_their_namespace() {
        let vpc = |name: &str, vlan: u64| {
            entry(
                Kind::VPC,
                name,
                json!({"subnets": {"web": {"subnet": "10.0.1.0/24", "vlan": vlan}}}),
            )
        };
        let namespace = entry(
            Kind::VLANNamespace,
            "default",
            json!({"ranges": [{"from": 1001, "to": 1003}]}),
        );
        let live: BTreeMap<_, _> = [namespace.clone(), vpc("v1", 1001), vpc("v2", 1002)].into();
        let desired: BTreeMap<_, _> = [namespace, vpc("v1", 1002), vpc("v2", 1001)].into();
        let key = ObjectKey {
            kind: Kind::VPC,
            name: "v1".into(),
        };
        let parked = parked(&key, &desired, &live, &FabricSettings::default()).unwrap();
        assert_eq!(parked["spec"]["subnets"]["web"]["vlan"], 1003);
        assert!(super::parked(&key, &live, &live, &FabricSettings::default()).is_none());
    }
}
