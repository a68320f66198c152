//! The addresses a scan may probe: the hosts of the configured prefixes outside the excluded
//! ones. Every probe asks [`ScanTargets::contains`] before it is sent, so nothing outside them
//! is ever probed, whatever produced the address.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetsError {
    #[error("no prefixes to scan")]
    NoPrefixes,
    #[error("the prefixes hold more than max_hosts ({max}) addresses to scan")]
    TooMany { max: u64 },
}

#[derive(Debug, Clone)]
pub struct ScanTargets {
    /// As configured, for the prefix length of an address.
    configured: Vec<IpNet>,
    /// Aggregated: no two overlap, so no address is probed twice.
    include: Vec<IpNet>,
    exclude: Vec<IpNet>,
}

impl ScanTargets {
    /// The hosts of `include` outside `exclude`; refused when there are none to scan or more
    /// than `max_hosts`.
    pub fn new(
        include: &[IpNet],
        exclude: &[IpNet],
        max_hosts: u64,
    ) -> Result<ScanTargets, TargetsError> {
        if include.is_empty() {
            return Err(TargetsError::NoPrefixes);
        }
        let targets = ScanTargets {
            configured: include.to_vec(),
            include: IpNet::aggregate(&include.to_vec()),
            exclude: exclude.to_vec(),
        };
        let limit = usize::try_from(max_hosts).unwrap_or(usize::MAX);
        match targets.addresses().take(limit.saturating_add(1)).count() {
            0 => Err(TargetsError::NoPrefixes),
            n if n > limit => Err(TargetsError::TooMany { max: max_hosts }),
            _ => Ok(targets),
        }
    }

    /// Whether `ip` may be probed: inside a configured prefix and outside every excluded one.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.include.iter().any(|net| net.contains(&ip))
            && !self.exclude.iter().any(|net| net.contains(&ip))
    }

    /// `ip` with the prefix length of the most specific configured prefix holding it
    /// (`192.0.2.7/24`).
    pub fn with_prefix_length(&self, ip: IpAddr) -> Option<String> {
        let net = self
            .configured
            .iter()
            .filter(|net| net.contains(&ip))
            .max_by_key(|net| net.prefix_len())?;
        Some(format!("{ip}/{}", net.prefix_len()))
    }

    /// Every address to probe, each once, lazily (an IPv4 prefix's network and broadcast
    /// addresses are left out).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.include
            .iter()
            .flat_map(IpNet::hosts)
            .filter(|ip| self.contains(*ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_hosts_of_the_prefixes_outside_the_excluded_ones_are_listed() {
        let targets = ScanTargets::new(
            &nets(&["192.0.2.0/29", "198.51.100.8/30"]),
            &nets(&["192.0.2.4/31", "198.51.100.10/32"]),
            100,
        )
        .unwrap();
        let listed: Vec<String> = targets.addresses().map(|a| a.to_string()).collect();
        assert_eq!(
            listed,
            [
                "192.0.2.1",
                "192.0.2.2",
                "192.0.2.3",
                "192.0.2.6",
                "198.51.100.9"
            ]
        );
        assert!(listed.iter().all(|a| targets.contains(ip(a))));
    }

    #[test]
    fn addresses_outside_or_excluded_are_refused() {
        let targets =
            ScanTargets::new(&nets(&["192.0.2.0/24"]), &nets(&["192.0.2.128/25"]), 1000).unwrap();
        assert!(targets.contains(ip("192.0.2.7")));
        assert!(!targets.contains(ip("192.0.2.200")), "excluded");
        assert!(!targets.contains(ip("198.51.100.7")), "outside");
        assert!(!targets.contains(ip("2001:db8::1")), "another family");
    }

    #[test]
    fn an_address_takes_the_length_of_the_most_specific_configured_prefix() {
        let targets =
            ScanTargets::new(&nets(&["192.0.2.0/24", "192.0.2.0/26"]), &[], 1000).unwrap();
        assert_eq!(
            targets.with_prefix_length(ip("192.0.2.7")).as_deref(),
            Some("192.0.2.7/26")
        );
        assert_eq!(
            targets.with_prefix_length(ip("192.0.2.70")).as_deref(),
            Some("192.0.2.70/24")
        );
        assert_eq!(targets.with_prefix_length(ip("198.51.100.1")), None);
    }

    #[test]
    fn overlapping_prefixes_list_each_address_once() {
        let targets = ScanTargets::new(&nets(&["192.0.2.0/29", "192.0.2.0/30"]), &[], 100).unwrap();
        assert_eq!(targets.addresses().count(), 6);
    }

    #[test]
    fn too_many_or_no_addresses_are_refused() {
        assert_eq!(
            ScanTargets::new(&nets(&["10.0.0.0/8"]), &[], 4096).unwrap_err(),
            TargetsError::TooMany { max: 4096 }
        );
        assert_eq!(
            ScanTargets::new(&[], &[], 4096).unwrap_err(),
            TargetsError::NoPrefixes
        );
        assert_eq!(
            ScanTargets::new(&nets(&["192.0.2.0/30"]), &nets(&["192.0.2.0/24"]), 10).unwrap_err(),
            TargetsError::NoPrefixes,
            "everything excluded"
        );
        let v6 = ScanTargets::new(&nets(&["2001:db8::/120"]), &[], 256).unwrap();
        assert_eq!(v6.addresses().count(), 256);
    }
}
