//! Connections become cables between interfaces (design doc, "Connections from cables"): LAG
//! membership on the server side for bundled, ESLAG and MCLAG links, /31 addresses on fabric,
//! mesh and gateway ends, peer devices for external and gateway links. A connection whose name
//! is not the one rendering would give it keeps its name in `hedgehog_name` on its cables.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::mapping::naming::{LABEL_NAME_MAX, shorten};
use crate::model::ObjectKey;
use crate::model::connection::{
    Bundled, ConnectionSpec, ConnectionType, External, IpPort, StaticExternal, VpcLoopback,
};

use super::builder::{Builder, DeviceKind, choice, nested};
use super::input::{Input, Typed};

const SWITCH: &[DeviceKind] = &[DeviceKind::Switch];
const SERVER: &[DeviceKind] = &[DeviceKind::Server];
const GATEWAY: &[DeviceKind] = &[DeviceKind::Gateway];

/// What later steps need of an imported connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionInfo {
    pub kind: ConnectionType,
    /// The switch-side interfaces, in link order.
    pub switch_ports: Vec<u64>,
}

/// Imported connections by name.
pub type Connections = BTreeMap<String, ConnectionInfo>;

/// A connection whose cables exist, before its name is settled.
struct Made {
    name: String,
    /// The name rendering derives from the cables (before disambiguation and shortening).
    base: String,
    cables: Vec<u64>,
}

pub(crate) fn import_connections(b: &mut Builder, input: &Input) -> Connections {
    let mut out = Connections::new();
    let mut made = Vec::new();
    for connection in &input.connections {
        let Some((kind, base, cables, switch_ports)) = import_connection(b, connection) else {
            continue;
        };
        out.insert(
            connection.name().to_owned(),
            ConnectionInfo { kind, switch_ports },
        );
        made.push(Made {
            name: connection.name().to_owned(),
            base,
            cables,
        });
    }
    keep_names(b, &made);
    out
}

/// Sets `hedgehog_name` on the cables of every connection rendering would name otherwise: its
/// name is not the conventional one, or another connection shares that conventional name.
fn keep_names(b: &mut Builder, made: &[Made]) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in made {
        *count.entry(&m.base).or_default() += 1;
    }
    let field = b.mapping().custom_fields.name.clone();
    for m in made {
        if m.name == shorten(&m.base, LABEL_NAME_MAX) && count[m.base.as_str()] == 1 {
            continue;
        }
        for cable in &m.cables {
            if let Some(c) = b.cable_mut(*cable) {
                c.custom_fields.0.insert(field.clone(), json!(m.name));
            }
        }
    }
}

type Imported = (ConnectionType, String, Vec<u64>, Vec<u64>);

fn import_connection(b: &mut Builder, connection: &Typed<ConnectionSpec>) -> Option<Imported> {
    let key = &connection.key;
    let s = &connection.spec;
    if types_set(s) != 1 {
        b.problems
            .error(key, "a Connection must set exactly one connection type");
        return None;
    }
    if let Some(u) = &s.unbundled {
        let bundle = Bundled {
            links: vec![u.link.clone()],
            mtu: u.mtu,
            fallback: false,
        };
        return server_links(b, key, ConnectionType::Unbundled, &bundle);
    }
    for (kind, bundle) in [
        (ConnectionType::Bundled, &s.bundled),
        (ConnectionType::Eslag, &s.eslag),
        (ConnectionType::Mclag, &s.mclag),
    ] {
        if let Some(bundle) = bundle {
            return server_links(b, key, kind, bundle);
        }
    }
    if s.mclag_domain.is_some() {
        b.problems.error(
            key,
            "mclagDomain connections are deprecated and have no NetBox representation",
        );
        return None;
    }
    if let Some(f) = &s.fabric {
        let pairs = f.links.iter().map(|l| (&l.spine, &l.leaf)).collect();
        return ip_links(b, key, ConnectionType::Fabric, pairs, SWITCH, "fabric");
    }
    if let Some(m) = &s.mesh {
        let pairs = m.links.iter().map(|l| (&l.leaf1, &l.leaf2)).collect();
        return ip_links(b, key, ConnectionType::Mesh, pairs, SWITCH, "mesh");
    }
    if let Some(g) = &s.gateway {
        for link in &g.links {
            peer_device(b, key, &link.gateway.port, DeviceKind::Gateway);
        }
        let pairs = g.links.iter().map(|l| (&l.switch, &l.gateway)).collect();
        return ip_links(b, key, ConnectionType::Gateway, pairs, GATEWAY, "gateway");
    }
    if let Some(l) = &s.vpc_loopback {
        return vpc_loopback_links(b, key, l);
    }
    if let Some(e) = &s.external {
        return external_link(b, key, e);
    }
    let st = s.static_external.as_ref()?;
    static_external(b, key, st)
}

/// How many connection types a Connection sets (exactly one is valid).
fn types_set(s: &ConnectionSpec) -> usize {
    [
        s.unbundled.is_some(),
        s.bundled.is_some(),
        s.eslag.is_some(),
        s.mclag.is_some(),
        s.mclag_domain.is_some(),
        s.fabric.is_some(),
        s.mesh.is_some(),
        s.gateway.is_some(),
        s.vpc_loopback.is_some(),
        s.external.is_some(),
        s.static_external.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count()
}

/// VPC loopback links: cables between two ports of the same switch.
fn vpc_loopback_links(b: &mut Builder, key: &ObjectKey, l: &VpcLoopback) -> Option<Imported> {
    let mut cables = Vec::new();
    let mut ports = Vec::new();
    let mut switch = String::new();
    for link in &l.links {
        let a = b.port(key, &link.switch1.port, SWITCH)?;
        let z = b.port(key, &link.switch2.port, SWITCH)?;
        if b.device_name_of(a) != b.device_name_of(z) {
            b.problems.error(
                key,
                "both ends of a vpcLoopback link must be on the same switch",
            );
            return None;
        }
        switch = b.device_name_of(a);
        cables.push(b.cable(key, a, z)?);
        ports.extend([a, z]);
    }
    let base = format!("{switch}--vpc-loopback");
    Some((ConnectionType::VpcLoopback, base, cables, ports))
}

/// An external link: a switch port cabled to an external peer device.
fn external_link(b: &mut Builder, key: &ObjectKey, e: &External) -> Option<Imported> {
    let switch_port = b.port(key, &e.link.switch.port, SWITCH)?;
    let peer = peer_link(
        b,
        key,
        switch_port,
        &e.link.switch.port,
        DeviceKind::External,
    )?;
    Some((
        ConnectionType::External,
        peer.base,
        vec![peer.cable],
        vec![switch_port],
    ))
}

/// Unbundled, bundled, ESLAG and MCLAG links: one server, its ports in a LAG unless unbundled.
fn server_links(
    b: &mut Builder,
    key: &ObjectKey,
    kind: ConnectionType,
    bundle: &Bundled,
) -> Option<Imported> {
    if bundle.links.is_empty() {
        b.problems.error(key, "the connection has no links");
        return None;
    }
    if bundle.fallback {
        b.problems.note(
            key,
            "fallback has no place in the NetBox model and is not imported",
        );
    }
    let mut pairs = Vec::new();
    for link in &bundle.links {
        let server = b.port(key, &link.server.port, SERVER)?;
        let switch = b.port(key, &link.switch.port, SWITCH)?;
        pairs.push((server, switch));
    }
    let servers: Vec<String> = dedup(pairs.iter().map(|(v, _)| b.device_name_of(*v)));
    let [server] = servers.as_slice() else {
        b.problems.error(
            key,
            "all server ports of one connection must be on one server",
        );
        return None;
    };
    if kind != ConnectionType::Unbundled {
        let device = b.find_device(server)?.0;
        let name = b.free_interface_name(device, "bond");
        let lag = b.interface(device, &name, "lag");
        for (member, _) in &pairs {
            if let Some(i) = b.interface_mut(*member) {
                i.lag = nested(lag);
            }
        }
    }
    let mut cables = Vec::new();
    for (server_port, switch_port) in &pairs {
        if let Some(i) = b.interface_mut(*switch_port) {
            i.mtu = bundle.mtu;
        }
        cables.push(b.cable(key, *switch_port, *server_port)?);
    }
    let mut switches: Vec<String> = dedup(pairs.iter().map(|(_, s)| b.device_name_of(*s)));
    switches.sort();
    let base = [server.clone(), kind.as_str().to_owned()]
        .into_iter()
        .chain(switches)
        .collect::<Vec<_>>()
        .join("--");
    let ports = pairs.iter().map(|(_, s)| *s).collect();
    Some((kind, base, cables, ports))
}

/// Fabric, mesh and gateway links: two ends with optional /31 addresses.
fn ip_links(
    b: &mut Builder,
    key: &ObjectKey,
    kind: ConnectionType,
    pairs: Vec<(&IpPort, &IpPort)>,
    right: &[DeviceKind],
    label: &str,
) -> Option<Imported> {
    if pairs.is_empty() {
        b.problems.error(key, "the connection has no links");
        return None;
    }
    let mut cables = Vec::new();
    let mut ports = Vec::new();
    let mut ends = Vec::new();
    for (left, right_end) in pairs {
        let a = b.port(key, &left.port, SWITCH)?;
        let z = b.port(key, &right_end.port, right)?;
        for (interface, end) in [(a, left), (z, right_end)] {
            if let Some(ip) = &end.ip {
                let fields = b.fields(&[]);
                b.ip(ip, Some(interface), None, None, &[], fields);
            }
        }
        cables.push(b.cable(key, a, z)?);
        ports.push(a);
        if kind != ConnectionType::Gateway {
            ports.push(z);
        }
        ends.push((b.device_name_of(a), b.device_name_of(z)));
    }
    let (mut first, mut second) = ends[0].clone();
    if kind == ConnectionType::Mesh && second < first {
        std::mem::swap(&mut first, &mut second);
    }
    Some((kind, format!("{first}--{label}--{second}"), cables, ports))
}

/// The device at the far end of a gateway port, created on first use.
fn peer_device(b: &mut Builder, key: &ObjectKey, port: &str, kind: DeviceKind) -> Option<u64> {
    let device = port.split_once('/').map_or(port, |(d, _)| d);
    if let Some((id, _)) = b.find_device(device) {
        return Some(id);
    }
    let fields = b.fields(&[]);
    b.device(key, device, kind, "generic-gateway", None, fields)
}

/// The peer of an external or static-external link: the device named in the connection's name
/// (`<switch>--external--<peer>`), else one named after the connection, cabled to the switch
/// port.
fn peer_link(
    b: &mut Builder,
    key: &ObjectKey,
    switch_port: u64,
    switch_ref: &str,
    kind: DeviceKind,
) -> Option<PeerLink> {
    let switch = b.device_name_of(switch_port);
    let label = match kind {
        DeviceKind::StaticExternal => "static-external",
        _ => "external",
    };
    let peer = key
        .name
        .strip_prefix(&format!("{switch}--{label}--"))
        .filter(|p| !p.is_empty())
        .unwrap_or(&key.name)
        .to_owned();
    let device = match b.find_device(&peer) {
        Some((id, k)) if k == kind => id,
        Some(_) => {
            b.problems.error(
                key,
                format!("its peer device name {peer} is already used by another device"),
            );
            return None;
        }
        None => {
            let fields = b.fields(&[]);
            b.device(key, &peer, kind, "generic-router", None, fields)?
        }
    };
    let remote = b.interface(device, switch_ref, "other");
    let cable = b.cable(key, switch_port, remote)?;
    Some(PeerLink {
        base: format!("{switch}--{label}--{peer}"),
        cable,
        device,
        remote,
    })
}

struct PeerLink {
    /// The conventional connection name.
    base: String,
    cable: u64,
    device: u64,
    /// The peer's interface.
    remote: u64,
}

fn static_external(b: &mut Builder, key: &ObjectKey, st: &StaticExternal) -> Option<Imported> {
    let sw = &st.link.switch;
    let switch_port = b.port(key, &sw.port, SWITCH)?;
    let peer = peer_link(b, key, switch_port, &sw.port, DeviceKind::StaticExternal)?;
    let vrf = match &st.within_vpc {
        Some(vpc) => match b.find_vrf(vpc, false) {
            Some(v) => Some(v.id),
            None => {
                b.problems.error(
                    key,
                    format!("withinVPC {vpc} is not among the imported VPCs"),
                );
                return None;
            }
        },
        None => None,
    };
    if let Some(ip) = &sw.ip {
        let fields = b.fields(&[]);
        b.ip(ip, Some(switch_port), vrf, None, &[], fields);
    }
    if let Some(next_hop) = &sw.next_hop {
        let length = sw
            .ip
            .as_deref()
            .and_then(|ip| ip.split_once('/'))
            .map_or("32", |(_, l)| l);
        let fields = b.fields(&[]);
        b.ip(
            &format!("{next_hop}/{length}"),
            Some(peer.remote),
            None,
            None,
            &[],
            fields,
        );
    }
    if !sw.subnets.is_empty() {
        let field = b.mapping().custom_fields.static_prefixes.clone();
        if let Some(d) = b.device_mut(peer.device) {
            d.custom_fields.0.insert(field, json!(sw.subnets.join(",")));
        }
    }
    if let Some(vid) = sw.vlan {
        let vlan = b.vlan(vid, &format!("static-external-{vid}"), None);
        if let Some(i) = b.interface_mut(switch_port) {
            i.mode = choice("access");
            i.untagged_vlan = Some(vlan);
        }
    }
    Some((
        ConnectionType::StaticExternal,
        peer.base,
        vec![peer.cable],
        vec![switch_port],
    ))
}

/// Distinct values in first-seen order.
fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
