//! Reverse DNS (PTR) names for the hosts found, through hickory-resolver: the configured
//! servers, or the system's resolv.conf when none are.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

pub struct ReverseDns {
    resolver: TokioResolver,
}

impl ReverseDns {
    /// A resolver asking `servers` (UDP, then TCP, on each one's port), or the system's
    /// resolvers when `servers` is empty; each query waits at most `timeout`, once.
    pub fn new(servers: &[SocketAddr], timeout: Duration) -> Result<ReverseDns, String> {
        let mut builder = if servers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| e.to_string())?
        } else {
            let servers = servers.iter().map(|server| {
                let connection = |mut c: ConnectionConfig| {
                    c.port = server.port();
                    c
                };
                let connections = vec![
                    connection(ConnectionConfig::udp()),
                    connection(ConnectionConfig::tcp()),
                ];
                NameServerConfig::new(server.ip(), true, connections)
            });
            let config = ResolverConfig::from_name_servers(servers.collect());
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        };
        let options = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        let resolver = builder.build().map_err(|e| e.to_string())?;
        Ok(ReverseDns { resolver })
    }

    /// The first PTR name of `ip` without its final dot; `None` when there is none or the
    /// lookup fails (a host without a name is still a host).
    pub async fn name(&self, ip: IpAddr) -> Option<String> {
        let lookup = self.resolver.reverse_lookup(ip).await.ok()?;
        lookup
            .answers()
            .iter()
            .find_map(|record| match &record.data {
                RData::PTR(name) => Some(name.0.to_utf8().trim_end_matches('.').to_owned()),
                _ => None,
            })
    }
}
