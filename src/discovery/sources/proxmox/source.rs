//! Reads a Proxmox VE cluster: its name and nodes, each node's version, network and guests,
//! each guest's configuration and, when it runs, its interfaces (QEMU guest agent, LXC).

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};

use super::api::{
    AgentInterfaces, ClusterStatusEntry, Envelope, GuestConfig, GuestEntry, LxcInterface,
    NodeEntry, NodeNetwork, NodeVersion,
};
use super::observe::{Guest, GuestKind, observe_guest, observe_node};
use crate::config::{CustomFieldNames, HostSourceSettings};
use crate::discovery::sources::host::Host;
use crate::discovery::sources::host_source::{Connection, HostSource, ReadHosts};
use crate::discovery::sources::http::{FetchError, SourceHttp};

/// Guests read at once.
const CONCURRENCY: usize = 8;

/// Reads one Proxmox VE cluster.
pub struct Proxmox {
    http: SourceHttp,
    /// The cluster's name when it has none (a lone node): the instance's name.
    fallback_cluster: String,
}

/// The Proxmox VE source.
pub type ProxmoxSource = HostSource<Proxmox>;

impl ProxmoxSource {
    /// The source for table `index` of `[[discovery.proxmox]]`.
    pub fn new(
        index: usize,
        settings: &HostSourceSettings,
        names: &CustomFieldNames,
    ) -> Result<ProxmoxSource, String> {
        let connection = Connection::open("proxmox", index, settings, names, |token| {
            format!("PVEAPIToken={token}")
        })?;
        let reader = Proxmox {
            http: connection.http,
            fallback_cluster: settings.name.clone(),
        };
        Ok(HostSource::from_parts(connection.owner, reader))
    }
}

impl Proxmox {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        let envelope: Envelope<T> = self
            .http
            .get_json(&format!("api2/json/{path}"), &[])
            .await?;
        Ok(envelope.data)
    }

    /// Every host: the nodes, then their guests.
    async fn read(&self) -> Result<Vec<Host>, FetchError> {
        let status: Vec<ClusterStatusEntry> = self.get("cluster/status").await?;
        let cluster = status
            .iter()
            .find(|e| e.kind == "cluster")
            .map(|e| e.name.clone())
            .unwrap_or_else(|| self.fallback_cluster.clone());
        let nodes: Vec<NodeEntry> = self.get("nodes").await?;
        let mut hosts = Vec::new();
        let mut guests = Vec::new();
        for node in &nodes {
            let ip = status
                .iter()
                .find(|e| e.kind == "node" && e.name == node.node)
                .and_then(|e| e.ip.as_deref());
            if node.status.as_deref() != Some("online") {
                // An offline node answers nothing: it is seen, its guests are not (they turn
                // stale only after `stale_after_secs`).
                let mut host = observe_node(&node.node, &cluster, ip, None, &[]);
                host.active = Some(false);
                hosts.push(host);
                continue;
            }
            let n = &node.node;
            let version: NodeVersion = self.get(&format!("nodes/{n}/version")).await?;
            let network: Vec<NodeNetwork> = self.get(&format!("nodes/{n}/network")).await?;
            let mut host = observe_node(n, &cluster, ip, Some(&version.version), &network);
            host.active = Some(true);
            hosts.push(host);
            for kind in [GuestKind::Qemu, GuestKind::Lxc] {
                let listed: Vec<GuestEntry> =
                    self.get(&format!("nodes/{n}/{}", kind.segment())).await?;
                guests.extend(
                    listed
                        .into_iter()
                        .filter(|g| !g.is_template())
                        .map(|g| (kind, n.clone(), g)),
                );
            }
        }
        let guests: Vec<Guest> = futures::stream::iter(guests)
            .map(|(kind, node, entry)| self.guest(kind, node, entry))
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        hosts.extend(guests.iter().map(|g| observe_guest(g, &cluster)));
        Ok(hosts)
    }

    async fn guest(
        &self,
        kind: GuestKind,
        node: String,
        entry: GuestEntry,
    ) -> Result<Guest, FetchError> {
        let base = format!("nodes/{node}/{}/{}", kind.segment(), entry.vmid);
        let config: GuestConfig = self.get(&format!("{base}/config")).await?;
        let mut guest = Guest {
            kind,
            node,
            entry,
            config,
            agent: Vec::new(),
            lxc: Vec::new(),
        };
        if !guest.entry.is_running() {
            return Ok(guest);
        }
        match kind {
            GuestKind::Qemu if agent_enabled(&guest.config) => {
                let path = format!("{base}/agent/network-get-interfaces");
                let answer: Option<AgentInterfaces> = optional(self.get(&path).await)?;
                guest.agent = answer.map(|a| a.result).unwrap_or_default();
            }
            GuestKind::Qemu => {}
            GuestKind::Lxc => {
                let path = format!("{base}/interfaces");
                let answer: Option<Vec<LxcInterface>> = optional(self.get(&path).await)?;
                guest.lxc = answer.unwrap_or_default();
            }
        }
        Ok(guest)
    }
}

/// `agent: 1` or `agent: enabled=1,fstrim_cloned_disks=1`.
fn agent_enabled(config: &GuestConfig) -> bool {
    let value = match config.get("agent") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return false,
    };
    value
        .split(',')
        .any(|part| part == "1" || part == "enabled=1")
}

/// A guest's interfaces are extra: the server failing to ask the guest (a 5xx: the agent is
/// not running, the container has just stopped) leaves them out; anything else (credentials,
/// permissions, the connection) fails the source.
fn optional<T>(answer: Result<T, FetchError>) -> Result<Option<T>, FetchError> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(FetchError::Status {
            status, message, ..
        }) if status.is_server_error() => {
            tracing::debug!(%status, message = message.as_deref().unwrap_or(""),
                "guest interfaces not available");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

#[async_trait]
impl ReadHosts for Proxmox {
    const VIRTUAL_MACHINES: bool = true;
    type Error = FetchError;

    async fn hosts(&self) -> Result<Vec<Host>, FetchError> {
        self.read().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_setting_is_read_in_both_forms() {
        let config = |v: serde_json::Value| -> GuestConfig {
            serde_json::from_value(serde_json::json!({ "agent": v })).unwrap()
        };
        assert!(agent_enabled(&config("1".into())));
        assert!(agent_enabled(&config(1.into())));
        assert!(agent_enabled(&config(
            "enabled=1,fstrim_cloned_disks=1".into()
        )));
        assert!(!agent_enabled(&config("0".into())));
        assert!(!agent_enabled(&GuestConfig::new()));
    }
}
