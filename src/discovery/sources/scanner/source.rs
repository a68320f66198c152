//! The scanner as a discovery source: probe the targets, then look up the live hosts' MACs in
//! the ARP table and their names in reverse DNS.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use super::arp::read_arp_table;
use super::observe::{FoundHost, observe_host};
use super::probe::{Probe, Prober};
use super::rdns::ReverseDns;
use super::scan::{Pace, probe_all};
use super::targets::ScanTargets;
use crate::config::{CreateDefaults, CustomFieldNames, ScannerSourceSettings};
use crate::discovery::observation::ObservedDevice;
use crate::discovery::source::{Source, SourceError, owned_by};
use crate::netbox::ListQuery;

pub struct ScannerSource {
    name: String,
    targets: ScanTargets,
    settings: ScannerSourceSettings,
    /// Name the owner custom field (the default scope).
    names: CustomFieldNames,
}

impl ScannerSource {
    /// Refused when the prefixes give nothing to scan or too much.
    pub fn new(
        settings: &ScannerSourceSettings,
        names: &CustomFieldNames,
    ) -> Result<ScannerSource, SourceError> {
        let name = format!("scanner:{}", settings.name);
        let targets = ScanTargets::new(&settings.prefixes, &settings.exclude, settings.max_hosts)
            .map_err(|e| SourceError {
            source_name: name.clone(),
            message: e.to_string(),
        })?;
        Ok(ScannerSource {
            name,
            targets,
            settings: settings.clone(),
            names: names.clone(),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    fn error(&self, message: impl ToString) -> SourceError {
        SourceError {
            source_name: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// Every live host with its MAC and name.
    pub async fn scan(&self) -> Result<Vec<FoundHost>, SourceError> {
        let prober = Prober::new(self.settings.icmp, self.timeout());
        let mut probes: Vec<Probe> = self
            .settings
            .tcp_ports
            .iter()
            .map(|p| Probe::Connect(*p))
            .collect();
        if prober.can_echo() {
            probes.insert(0, Probe::Echo);
        }
        if probes.is_empty() {
            return Err(self.error("no ICMP socket and no TCP ports: nothing can be probed"));
        }
        let pace = Pace {
            probes_per_sec: self.settings.probes_per_sec,
            concurrency: self.settings.concurrency,
        };
        let live = probe_all(&self.targets, &prober, &probes, &pace).await;
        let macs = read_arp_table(&self.settings.arp_table).await;
        let mut hosts: Vec<FoundHost> = live
            .into_iter()
            .map(|(ip, live)| {
                let address = self.targets.with_prefix_length(ip).unwrap_or_default();
                let mut host = FoundHost::new(ip, address, live);
                host.mac = macs.get(&ip).cloned();
                host
            })
            .collect();
        if self.settings.reverse_dns {
            self.name_hosts(&mut hosts).await?;
        }
        Ok(hosts)
    }

    async fn name_hosts(&self, hosts: &mut [FoundHost]) -> Result<(), SourceError> {
        let dns = ReverseDns::new(&self.settings.dns_servers, self.timeout())
            .map_err(|e| self.error(format!("reverse DNS: {e}")))?;
        let dns = &dns;
        let ips: Vec<IpAddr> = hosts.iter().map(|h| h.ip).collect();
        let names: BTreeMap<IpAddr, String> = futures::stream::iter(ips)
            .map(|ip| async move { dns.name(ip).await.map(|name| (ip, name)) })
            .buffer_unordered(self.settings.concurrency.max(1))
            .filter_map(std::future::ready)
            .collect()
            .await;
        for host in hosts {
            host.name = names.get(&host.ip).cloned();
        }
        Ok(())
    }
}

#[async_trait]
impl Source for ScannerSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// The configured NetBox filter, or the devices this source owns.
    fn scope(&self) -> ListQuery {
        if self.settings.netbox_filter.is_empty() {
            return owned_by(&self.name, &self.names);
        }
        self.settings
            .netbox_filter
            .iter()
            .fold(ListQuery::new(), |query, (key, value)| {
                query.filter(key, value)
            })
    }

    /// The configured defaults, when the scanner creates the hosts NetBox lacks.
    fn creation(&self) -> Option<&CreateDefaults> {
        self.settings.create.then_some(&self.settings.defaults)
    }

    async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError> {
        let hosts = self.scan().await?;
        tracing::info!(source = %self.name, hosts = hosts.len(), "scanner: scan done");
        let interface = &self.settings.interface_name;
        Ok(hosts
            .iter()
            .map(|h| observe_host(h, &self.name, interface))
            .collect())
    }
}
