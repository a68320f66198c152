//! What a fabric's NetBox state lacks for a running fabric, and what it holds that breaks the
//! fabric's rules. Planning reads only the snapshot; nothing is written.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::pools::Pools;
use crate::config::FabricConfig;
use crate::mapping::index::{DeviceRole, Index};
use crate::netbox::FabricSnapshot;
use crate::netbox::types::{Device, Interface, NetBoxObject};

/// Interfaces created for allocated addresses when a switch has none of that name.
pub const MANAGEMENT_INTERFACE: &str = "Management0";
pub const PROTOCOL_INTERFACE: &str = "Loopback0";
pub const VTEP_INTERFACE: &str = "Loopback1";

/// Which objects are looked at.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    /// The whole fabric.
    #[default]
    Fabric,
    /// These switches, these cables, and the cables of these switches.
    Touched {
        devices: BTreeSet<u64>,
        cables: BTreeSet<u64>,
    },
}

/// The interface an address goes on: an existing one, or one to create with that name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    pub interface: Option<u64>,
    pub interface_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum AsnNeed {
    /// Spines all have the fabric's spine ASN: set, not allocated.
    Spine(u32),
    /// A leaf's own ASN from the leaf ASN range.
    Leaf,
}

/// What one switch lacks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SwitchNeeds {
    pub device: u64,
    pub name: String,
    pub asn: Option<AsnNeed>,
    pub management: Option<Slot>,
    pub protocol: Option<Slot>,
    pub vtep: Option<Slot>,
}

/// A fabric or mesh link without addresses: the first end gets the lower one of a /31.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LinkNeed {
    pub cable: u64,
    pub ends: [(u64, String); 2],
}

/// A value that breaks the fabric's rules, on the object that holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AllocationProblem {
    pub object_type: &'static str,
    pub id: u64,
    pub name: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    pub switches: Vec<SwitchNeeds>,
    pub links: Vec<LinkNeed>,
    pub problems: Vec<AllocationProblem>,
    #[serde(skip)]
    pub taken: Taken,
}

/// Values switches and links already hold that NetBox's pools may not know as taken: an ASN
/// is a custom field, and a link's addresses do not make its /31 a prefix. Allocation keeps
/// such a value NetBox hands out (it now records the holder) and asks again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    pub asns: BTreeSet<u32>,
    /// Network addresses of the links' /31s.
    pub link_nets: BTreeSet<Ipv4Addr>,
}

impl Plan {
    /// How many values would be set (a link counts its two addresses).
    pub fn values(&self) -> usize {
        let switch = |s: &SwitchNeeds| {
            usize::from(s.asn.is_some())
                + usize::from(s.management.is_some())
                + usize::from(s.protocol.is_some())
                + usize::from(s.vtep.is_some())
        };
        self.switches.iter().map(switch).sum::<usize>() + 2 * self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values() == 0
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.switches {
            let mut what = Vec::new();
            match &s.asn {
                Some(AsnNeed::Spine(asn)) => what.push(format!("ASN {asn} (spine)")),
                Some(AsnNeed::Leaf) => what.push("leaf ASN".to_owned()),
                None => {}
            }
            for (label, slot) in [
                ("management IP", &s.management),
                ("protocol IP", &s.protocol),
                ("VTEP IP", &s.vtep),
            ] {
                if let Some(slot) = slot {
                    what.push(format!("{label} on {}", slot.interface_name));
                }
            }
            writeln!(f, "switch {}: {}", s.name, what.join(", "))?;
        }
        for link in &self.links {
            writeln!(f, "link {} -- {}: /31", link.ends[0].1, link.ends[1].1)?;
        }
        for p in &self.problems {
            writeln!(f, "problem: {} {}: {}", p.object_type, p.name, p.message)?;
        }
        write!(
            f,
            "{} values to allocate, {} problems",
            self.values(),
            self.problems.len()
        )
    }
}

/// The plan for `fabric` (resolved: its settings are the fabric's own) in `snapshot`.
pub fn plan(fabric: &FabricConfig, snapshot: &FabricSnapshot, scope: &Scope) -> Plan {
    let index = Index::build(fabric, snapshot);
    let pools = Pools::from_settings(&fabric.mapping.settings);
    let mut planner = Planner {
        index: &index,
        pools: &pools,
        scope,
        plan: Plan::default(),
        seen: HashMap::new(),
    };
    let mut switches: Vec<(&Device, &str)> = snapshot
        .devices
        .iter()
        .filter_map(|d| match index.role(d.id) {
            DeviceRole::Switch(role) => Some((d, role.as_str())),
            _ => None,
        })
        .collect();
    switches.sort_by_key(|(d, _)| (d.display_name(), d.id));
    for (device, role) in switches {
        planner.switch(device, role == "spine");
    }
    planner.links();
    for (kind, value) in planner.seen.keys() {
        match *kind {
            "ASN" => planner.plan.taken.asns.extend(u32::try_from(*value)),
            LINK => planner
                .plan
                .taken
                .link_nets
                .extend(u32::try_from(*value).map(Ipv4Addr::from)),
            _ => {}
        }
    }
    planner.plan
}

const LINK: &str = "link /31";

struct Planner<'a> {
    index: &'a Index<'a>,
    pools: &'a Pools,
    scope: &'a Scope,
    plan: Plan,
    /// Values already held, by kind, with who holds them: a second holder is a duplicate.
    seen: HashMap<(&'static str, u64), String>,
}

/// The switch being planned, as each of its needs is worked out.
#[derive(Clone, Copy)]
struct SwitchAt<'a> {
    device: &'a Device,
    name: &'a str,
    spine: bool,
    /// In an MCLAG pair, which may share its ASN and VTEP IP.
    mclag: bool,
}

impl Planner<'_> {
    fn in_scope(&self, device: u64) -> bool {
        match self.scope {
            Scope::Fabric => true,
            Scope::Touched { devices, .. } => devices.contains(&device),
        }
    }

    fn switch(&mut self, device: &Device, spine: bool) {
        let name = device.display_name();
        let fields = &self.index.mapping().custom_fields;
        // The fabric lets an MCLAG leaf (deprecated) share its ASN and VTEP IP, never an
        // ESLAG one; allocation still gives every leaf its own.
        let mclag = device
            .custom_fields
            .string(&fields.redundancy_type)
            .as_deref()
            == Some("mclag");
        let switch = SwitchAt {
            device,
            name: &name,
            spine,
            mclag,
        };
        let mut problems = Vec::new();
        let asn = self.asn_need(&switch, &mut problems);
        let management = self.management_need(&switch, &mut problems);
        let [protocol, vtep] = self.loopback_needs(&switch, &mut problems);
        if !self.in_scope(device.id) {
            return;
        }
        self.plan
            .problems
            .extend(problems.into_iter().map(|message| AllocationProblem {
                object_type: Device::OBJECT_TYPE,
                id: device.id,
                name: name.clone(),
                message,
            }));
        let needs = SwitchNeeds {
            device: device.id,
            name,
            asn,
            management,
            protocol,
            vtep,
        };
        let lacks = needs.asn.is_some()
            || needs.management.is_some()
            || needs.protocol.is_some()
            || needs.vtep.is_some();
        if lacks {
            self.plan.switches.push(needs);
        }
    }

    /// The ASN a switch lacks, or the problems of the one it holds.
    fn asn_need(&mut self, switch: &SwitchAt, problems: &mut Vec<String>) -> Option<AsnNeed> {
        let (device, name) = (switch.device, switch.name);
        let (spine, mclag) = (switch.spine, switch.mclag);
        let asn_field = &self.index.mapping().custom_fields.asn;
        match device.custom_fields.integer(asn_field) {
            None if spine => return Some(AsnNeed::Spine(self.pools.spine_asn)),
            None => return Some(AsnNeed::Leaf),
            Some(asn) if spine && asn != i64::from(self.pools.spine_asn) => problems.push(format!(
                "ASN {asn} is not the fabric's spine ASN {}",
                self.pools.spine_asn
            )),
            Some(_) if spine => {}
            Some(asn) => {
                let in_range = u32::try_from(asn).is_ok_and(|a| self.pools.leaf_asns.contains(&a));
                if !in_range {
                    problems.push(format!(
                        "ASN {asn} is not in the leaf ASN range {}-{}",
                        self.pools.leaf_asns.start(),
                        self.pools.leaf_asns.end()
                    ));
                }
                problems.extend(self.duplicate("ASN", asn as u64, name, mclag));
            }
        }
        None
    }

    /// Where a switch lacking its management IP gets one, or the problems of the one it holds.
    fn management_need(&mut self, switch: &SwitchAt, problems: &mut Vec<String>) -> Option<Slot> {
        let SwitchAt { device, name, .. } = *switch;
        let Some(ip) = self.management_ip(device) else {
            return Some(self.management_slot(device.id));
        };
        problems.extend(self.pools.management_problem(&ip));
        let key = ip_key(ip.addr());
        problems.extend(self.duplicate("management IP", key, name, false));
        None
    }

    /// Where a switch lacking its protocol and VTEP IPs gets them (spines have no VTEP IP), or
    /// the problems of those it holds.
    fn loopback_needs(
        &mut self,
        switch: &SwitchAt,
        problems: &mut Vec<String>,
    ) -> [Option<Slot>; 2] {
        let (device, name) = (switch.device, switch.name);
        let (spine, mclag) = (switch.spine, switch.mclag);
        let index = self.index;
        let mapping = index.mapping();
        let loopbacks = [
            (
                "protocol IP",
                &mapping.tag_protocol_ip,
                self.pools.protocol,
                PROTOCOL_INTERFACE,
                true,
            ),
            (
                "VTEP IP",
                &mapping.tag_vtep_ip,
                self.pools.vtep,
                VTEP_INTERFACE,
                !spine,
            ),
        ];
        loopbacks.map(|(what, tag, pool, interface, wanted)| {
            match (self.tagged_ip(device.id, tag), wanted) {
                (None, true) => Some(self.named_slot(device.id, interface)),
                (None, false) => None,
                (Some(ip), false) => {
                    problems.push(format!("{what} {ip} is set, but spines have none"));
                    None
                }
                (Some(ip), true) => {
                    problems.extend(Pools::loopback_problem(what, &pool, &ip));
                    let shared = mclag && what == "VTEP IP";
                    problems.extend(self.duplicate(what, ip_key(ip.addr()), name, shared));
                    None
                }
            }
        })
    }

    /// A problem when another object already holds `value` of this kind (unless the fabric
    /// lets this holder share it).
    fn duplicate(
        &mut self,
        kind: &'static str,
        value: u64,
        holder: &str,
        shareable: bool,
    ) -> Option<String> {
        match self.seen.get(&(kind, value)) {
            Some(_) if shareable => None,
            Some(first) => Some(format!("its {kind} is also {first}'s")),
            None => {
                self.seen.insert((kind, value), holder.to_owned());
                None
            }
        }
    }

    fn management_ip(&self, device: &Device) -> Option<Ipv4Net> {
        let nested = device.primary_ip4.as_ref()?;
        let address = nested.address.clone().or_else(|| {
            let ip = self.index.ips_by_id.get(&nested.id)?;
            Some(ip.address.clone())
        })?;
        address.parse().ok()
    }

    fn tagged_ip(&self, device: u64, tag: &str) -> Option<Ipv4Net> {
        self.index
            .device_ips(device)
            .into_iter()
            .find(|a| Index::tagged(&a.tags, tag))
            .and_then(|a| a.address.parse().ok())
    }

    fn interfaces(&self, device: u64) -> &[&Interface] {
        self.index
            .interfaces_by_device
            .get(&device)
            .map_or(&[], Vec::as_slice)
    }

    /// The first management-only interface, else one to create.
    fn management_slot(&self, device: u64) -> Slot {
        let existing = self
            .interfaces(device)
            .iter()
            .filter(|i| i.mgmt_only == Some(true))
            .min_by_key(|i| i.id);
        match existing {
            Some(i) => Slot {
                interface: Some(i.id),
                interface_name: i.name.clone(),
            },
            None => self.named_slot(device, MANAGEMENT_INTERFACE),
        }
    }

    fn named_slot(&self, device: u64, name: &str) -> Slot {
        let existing = self
            .interfaces(device)
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name));
        Slot {
            interface: existing.map(|i| i.id),
            interface_name: existing.map_or_else(|| name.to_owned(), |i| i.name.clone()),
        }
    }

    /// Fabric links (spine first), gateway links (switch first) or, without spines, mesh
    /// links (by device name).
    fn links(&mut self) {
        for (cable, a, b) in addressed_links(self.index) {
            let touched = match self.scope {
                Scope::Fabric => true,
                Scope::Touched { devices, cables } => {
                    cables.contains(&cable)
                        || devices.contains(&a.device.id)
                        || devices.contains(&b.device.id)
                }
            };
            self.link(cable, a, b, touched);
        }
    }

    fn link(&mut self, cable: u64, a: &Interface, b: &Interface, touched: bool) {
        let address = |i: &Interface| -> Option<Ipv4Net> {
            self.index
                .interface_ips(i.id)
                .iter()
                .find_map(|ip| ip.address.parse().ok())
        };
        let label = format!("{} -- {}", a.display_name(), b.display_name());
        let problem = match (address(a), address(b)) {
            (None, None) => {
                if touched {
                    self.plan.links.push(LinkNeed {
                        cable,
                        ends: [(a.id, a.display_name()), (b.id, b.display_name())],
                    });
                }
                None
            }
            (Some(x), Some(y)) => self
                .pools
                .link_problem(&x, &y)
                .or_else(|| self.duplicate(LINK, ip_key(x.trunc().addr()), &label, false)),
            (Some(x), None) | (None, Some(x)) => Some(format!("only one end has an address ({x})")),
        };
        if let (Some(message), true) = (problem, touched) {
            self.plan.problems.push(AllocationProblem {
                object_type: "dcim.cable",
                id: cable,
                name: label,
                message,
            });
        }
    }
}

/// The cables that take a `/31` from the fabric subnet: cable id and its two ends, the one
/// that gets the lower address first.
pub(super) fn addressed_links<'i>(
    index: &'i Index<'i>,
) -> impl Iterator<Item = (u64, &'i Interface, &'i Interface)> + 'i {
    let spine_leaf = index
        .roles
        .values()
        .any(|r| matches!(r, DeviceRole::Switch(role) if role == "spine"));
    index.links.iter().filter_map(move |link| {
        let roles = (index.role(link.a.device.id), index.role(link.b.device.id));
        let (a, b) = addressed_ends(roles, (link.a, link.b), spine_leaf)?;
        Some((link.cable.id, a, b))
    })
}

/// The ends of a link that takes a `/31` from the fabric subnet, the one that gets the lower
/// address first: a spine's, a gateway link's switch's, a mesh link's leaf whose name sorts
/// first; `None` for any other cable.
fn addressed_ends<'i>(
    (ra, rb): (&DeviceRole, &DeviceRole),
    (a, b): (&'i Interface, &'i Interface),
    spine_leaf: bool,
) -> Option<(&'i Interface, &'i Interface)> {
    if a.device.id == b.device.id {
        return None;
    }
    let spine = |r: &str| r == "spine";
    match (ra, rb) {
        (DeviceRole::Switch(_), DeviceRole::Gateway) => Some((a, b)),
        (DeviceRole::Gateway, DeviceRole::Switch(_)) => Some((b, a)),
        (DeviceRole::Switch(ra), DeviceRole::Switch(rb)) => match (spine(ra), spine(rb)) {
            (true, false) => Some((a, b)),
            (false, true) => Some((b, a)),
            (false, false) if !spine_leaf && b.device.name < a.device.name => Some((b, a)),
            (false, false) if !spine_leaf => Some((a, b)),
            _ => None,
        },
        _ => None,
    }
}

fn ip_key(ip: Ipv4Addr) -> u64 {
    u64::from(u32::from(ip))
}
