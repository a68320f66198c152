//! A host the scan found as an observed device: known by its MAC when the ARP table has it
//! (addresses change, MACs rarely do), else by its address; named by reverse DNS; with one
//! interface holding its MAC and its address (with the prefix length of the scanned prefix).

use std::net::IpAddr;

use serde::Serialize;

use super::scan::LiveHost;
use crate::discovery::observation::{ObservedDevice, ObservedInterface};

/// Everything the scan learnt about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundHost {
    pub ip: IpAddr,
    /// The address with the prefix length of the configured prefix holding it.
    pub address: String,
    pub echo: bool,
    pub open_ports: Vec<u16>,
    pub mac: Option<String>,
    pub name: Option<String>,
}

impl FoundHost {
    pub fn new(ip: IpAddr, address: String, live: LiveHost) -> FoundHost {
        FoundHost {
            ip,
            address,
            echo: live.echo,
            open_ports: live.open_ports.into_iter().collect(),
            mac: None,
            name: None,
        }
    }
}

/// `host` as source `source` observed it, its interface named `interface`.
pub fn observe_host(host: &FoundHost, source: &str, interface: &str) -> ObservedDevice {
    let identity = match &host.mac {
        Some(mac) => format!("mac:{mac}"),
        None => format!("ip:{}", host.ip),
    };
    let macs: Vec<String> = host.mac.iter().cloned().collect();
    ObservedDevice {
        source: source.to_owned(),
        identity,
        name: host.name.clone(),
        macs: macs.clone(),
        primary_ip: Some(host.ip.to_string()),
        interfaces: vec![ObservedInterface {
            name: interface.to_owned(),
            macs,
            ips: vec![host.address.clone()],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_known_by_its_mac_when_there_is_one_else_by_its_address() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let mut host = FoundHost::new(ip, "192.0.2.7/24".into(), LiveHost::default());
        let by_ip = observe_host(&host, "scanner:lan", "eth0");
        assert_eq!(by_ip.identity, "ip:192.0.2.7");
        assert_eq!(by_ip.primary_ip.as_deref(), Some("192.0.2.7"));
        assert!(by_ip.macs.is_empty() && by_ip.name.is_none());
        assert_eq!(by_ip.interfaces[0].ips, ["192.0.2.7/24"]);
        host.mac = Some("52:54:00:00:00:07".into());
        host.name = Some("nas.home.test".into());
        let by_mac = observe_host(&host, "scanner:lan", "eth0");
        assert_eq!(by_mac.identity, "mac:52:54:00:00:00:07");
        assert_eq!(by_mac.macs, ["52:54:00:00:00:07"]);
        assert_eq!(by_mac.name.as_deref(), Some("nas.home.test"));
        assert_eq!(by_mac.source, "scanner:lan");
        let interface = &by_mac.interfaces[0];
        assert_eq!(interface.name, "eth0");
        assert_eq!(interface.macs, ["52:54:00:00:00:07"]);
    }
}
