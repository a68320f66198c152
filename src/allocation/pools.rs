//! A fabric's allocation pools, from the settings its admission rules check against.

use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use ipnet::Ipv4Net;

use crate::config::FabricSettings;

/// Where each kind of value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pools {
    /// Every spine has this ASN; nothing is allocated for it.
    pub spine_asn: u32,
    pub leaf_asns: RangeInclusive<u32>,
    pub management: Ipv4Net,
    pub control_vip: Ipv4Addr,
    /// Switch management IPs lie below it (the DHCP range starts there).
    pub management_dhcp_start: Ipv4Addr,
    pub protocol: Ipv4Net,
    pub vtep: Ipv4Net,
    pub fabric_links: Ipv4Net,
}

impl Pools {
    pub fn from_settings(settings: &FabricSettings) -> Self {
        Self {
            spine_asn: settings.spine_asn,
            leaf_asns: settings.leaf_asn_start..=settings.leaf_asn_end,
            management: settings.management_subnet.trunc(),
            control_vip: settings.control_vip,
            management_dhcp_start: settings.management_dhcp_start,
            protocol: settings.protocol_subnet.trunc(),
            vtep: settings.vtep_subnet.trunc(),
            fabric_links: settings.fabric_subnet.trunc(),
        }
    }

    /// Why `address` cannot be a switch's management IP, if it cannot.
    pub fn management_problem(&self, address: &Ipv4Net) -> Option<String> {
        let ip = address.addr();
        if !self.management.contains(&ip) || address.prefix_len() != self.management.prefix_len() {
            Some(format!(
                "management IP {address} is not in the management subnet {}",
                self.management
            ))
        } else if ip >= self.management_dhcp_start {
            Some(format!(
                "management IP {address} is not below the DHCP range starting at {}",
                self.management_dhcp_start
            ))
        } else if ip == self.control_vip {
            Some(format!("management IP {address} is the control VIP"))
        } else {
            None
        }
    }

    /// Why `address` cannot be a `/32` loopback of `pool` (named `what`), if it cannot.
    pub fn loopback_problem(what: &str, pool: &Ipv4Net, address: &Ipv4Net) -> Option<String> {
        if address.prefix_len() != 32 {
            Some(format!("{what} {address} is not a /32"))
        } else if !pool.contains(&address.addr()) {
            Some(format!("{what} {address} is not in {pool}"))
        } else {
            None
        }
    }

    /// Why two link ends cannot be one fabric link's /31, if they cannot.
    pub fn link_problem(&self, a: &Ipv4Net, b: &Ipv4Net) -> Option<String> {
        if a.prefix_len() != 31 || b.prefix_len() != 31 {
            Some(format!("link addresses {a} and {b} are not both /31"))
        } else if a.trunc() != b.trunc() || a.addr() == b.addr() {
            Some(format!(
                "link addresses {a} and {b} are not the two ends of one /31"
            ))
        } else if !self.fabric_links.contains(&a.addr()) {
            Some(format!(
                "link addresses {a} and {b} are not in the fabric subnet {}",
                self.fabric_links
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn hhfabs_defaults_give_hhfabs_pools_and_their_rules() {
        let pools = Pools::from_settings(&FabricSettings::default());
        assert_eq!(pools.leaf_asns, 65101..=65533);
        assert_eq!(pools.management_problem(&net("172.30.0.8/21")), None);
        for bad in [
            "172.30.0.1/21",
            "172.30.4.1/21",
            "172.30.0.8/24",
            "10.0.0.8/21",
        ] {
            assert!(pools.management_problem(&net(bad)).is_some(), "{bad}");
        }
        let protocol = pools.protocol;
        assert_eq!(
            Pools::loopback_problem("protocol IP", &protocol, &net("172.30.8.3/32")),
            None
        );
        assert!(Pools::loopback_problem("protocol IP", &protocol, &net("172.30.8.3/22")).is_some());
        assert!(
            Pools::loopback_problem("protocol IP", &protocol, &net("172.30.12.3/32")).is_some()
        );
        assert_eq!(
            pools.link_problem(&net("172.30.128.0/31"), &net("172.30.128.1/31")),
            None
        );
        for (a, b) in [
            ("172.30.128.0/31", "172.30.128.2/31"),
            ("172.30.128.0/31", "172.30.128.0/31"),
            ("10.0.0.0/31", "10.0.0.1/31"),
            ("172.30.128.0/30", "172.30.128.1/30"),
        ] {
            assert!(pools.link_problem(&net(a), &net(b)).is_some(), "{a} {b}");
        }
    }
}
