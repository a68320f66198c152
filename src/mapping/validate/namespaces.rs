//! VLANNamespace and IPv4Namespace rules.

use crate::config::FabricSettings;
use crate::mapping::objects::FabricObjects;

use super::{Violations, cidr, overlaps};

pub fn check(settings: &FabricSettings, o: &FabricObjects, out: &mut Violations) {
    for ns in &o.vlan_namespaces {
        let ranges = &ns.spec.ranges;
        if ranges.is_empty() || ranges.len() > 20 {
            out.object(ns, format!("a VLAN namespace needs 1 to 20 VLAN ranges, the VLAN group has {}; edit its VLAN ID ranges", ranges.len()));
        }
        for range in ranges {
            if range.from == 0 || range.to > 4094 || range.from > range.to {
                out.object(ns, format!("VLAN range {}-{} is invalid: VLANs are 1–4094 and the start is not above the end", range.from, range.to));
            }
            for [from, to] in &settings.reserved_vlans {
                if range.from <= *to && *from <= range.to {
                    out.object(ns, format!("VLAN range {}-{} overlaps the fabric's reserved VLANs {from}-{to}; change the VLAN group's VLAN ID ranges", range.from, range.to));
                }
            }
        }
        for (i, a) in ranges.iter().enumerate() {
            if ranges[i + 1..].iter().any(|b| a.overlaps(b)) {
                out.object(ns, format!("VLAN range {}-{} overlaps another range of the same group; switches using it would be rejected", a.from, a.to));
            }
        }
    }
    for ns in &o.ipv4_namespaces {
        let subnets = &ns.spec.subnets;
        if subnets.len() > 10 {
            out.object(ns, format!("an IPv4 namespace holds at most 10 subnets, this one has {}; move prefixes to another namespace (custom field hedgehog_ipv4_namespace)", subnets.len()));
        }
        let nets: Vec<_> = subnets.iter().map(|s| (s, cidr(s))).collect();
        for (i, (text, net)) in nets.iter().enumerate() {
            let Some(net) = net else {
                out.object(ns, format!("{text} is not an IPv4 prefix"));
                continue;
            };
            if let Some(reserved) = settings.reserved_subnets.iter().find(|r| overlaps(net, r)) {
                out.object(ns, format!("prefix {text} overlaps the fabric's reserved subnet {reserved}; choose another prefix"));
            }
            for (other, _) in nets[i + 1..]
                .iter()
                .filter(|(_, b)| b.is_some_and(|b| overlaps(net, &b)))
            {
                out.object(
                    ns,
                    format!("prefixes {text} and {other} of the namespace overlap; remove one"),
                );
            }
        }
    }
}
