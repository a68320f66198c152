//! `[discovery.scanner]`: the network scanner source. It probes only the addresses of
//! `prefixes` outside `exclude`, at most `probes_per_sec` probes a second and `concurrency` at
//! once, each waiting at most `timeout_ms`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use ipnet::IpNet;
use serde::Deserialize;

use super::CreateDefaults;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ScannerSourceSettings {
    /// Run on `serve`'s scheduler every `interval_secs` (`discover` runs it regardless, when
    /// `prefixes` is not empty).
    pub enabled: bool,
    /// The source is `scanner:<name>`.
    pub name: String,
    pub interval_secs: u64,
    /// The only networks scanned (`192.0.2.0/24`); none: the scanner is not configured.
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub prefixes: Vec<IpNet>,
    /// Networks inside `prefixes` never probed (`192.0.2.1/32`).
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub exclude: Vec<IpNet>,
    /// Refuse to run when `prefixes` less `exclude` hold more addresses than this.
    pub max_hosts: u64,
    /// Send an ICMP echo to every address (needs root or CAP_NET_RAW).
    pub icmp: bool,
    /// TCP ports tried with a connect; an open or refusing port shows a host that drops ICMP.
    pub tcp_ports: Vec<u16>,
    /// Probes (echoes and connects) per second, over the whole scan.
    pub probes_per_sec: u32,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// How long one probe or name lookup waits for an answer.
    pub timeout_ms: u64,
    /// The kernel's ARP table, read for MAC addresses after probing; empty: not read.
    pub arp_table: String,
    /// Name hosts by reverse DNS (PTR).
    pub reverse_dns: bool,
    /// DNS servers for reverse lookups (`192.0.2.53:53`); none: the system's resolv.conf.
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub dns_servers: Vec<SocketAddr>,
    /// The NetBox device filters observations are matched against (`{ site = "home" }`);
    /// none: the devices this source owns.
    pub netbox_filter: BTreeMap<String, String>,
    /// Create the hosts NetBox lacks (otherwise they are only listed).
    pub create: bool,
    /// The name of the one interface a host is observed with, holding its MAC and address
    /// (a scan cannot see the host's own name for it).
    pub interface_name: String,
    /// Where created hosts go.
    pub defaults: CreateDefaults,
}

impl Default for ScannerSourceSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            name: "network".to_owned(),
            interval_secs: 3600,
            prefixes: Vec::new(),
            exclude: Vec::new(),
            max_hosts: 4096,
            icmp: true,
            tcp_ports: vec![22, 80, 443],
            probes_per_sec: 200,
            concurrency: 64,
            timeout_ms: 1000,
            arp_table: "/proc/net/arp".to_owned(),
            reverse_dns: true,
            dns_servers: Vec::new(),
            netbox_filter: BTreeMap::new(),
            create: false,
            interface_name: "eth0".to_owned(),
            defaults: CreateDefaults::default(),
        }
    }
}
