//! Connection rules: one type, known switches and servers, no port reuse (breakout aliases
//! included), MTU, /31 link addresses, ESLAG redundancy and static-external routes.
//!
//! The fabric has a single mode, spine-leaf (its configuration's `fabricMode`), whether or not a
//! spine is cabled yet: ESLAG and gateway connections are admitted in a fabric without spines.

use std::collections::{BTreeMap, HashMap};

use crate::config::FabricSettings;
use crate::mapping::naming::canonical_port;
use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::connection::{IpPort, StaticExternal};
use crate::model::{ConnectionSpec, ConnectionType, ServerSpec, SwitchSpec};

use super::{Violations, addr, cidr, overlaps};

pub fn check(settings: &FabricSettings, complete: bool, o: &FabricObjects, out: &mut Violations) {
    let switches = by_name(&o.switches);
    let servers = by_name(&o.servers);
    let mut ports: HashMap<(String, String), &str> = HashMap::new();
    let mut link_ips: HashMap<std::net::Ipv4Addr, &str> = HashMap::new();
    let max_mtu = settings
        .fabric_mtu
        .saturating_sub(settings.server_facing_mtu_offset);
    for conn in &o.connections {
        let spec = &conn.spec;
        let Some(kind) = spec.connection_type() else {
            out.object(conn, "a connection must have exactly one type".into());
            continue;
        };
        check_ports(conn, kind, (&switches, &servers), &mut ports, out);
        let mtu = spec
            .unbundled
            .as_ref()
            .and_then(|u| u.mtu)
            .or(spec.bundled.as_ref().and_then(|b| b.mtu));
        if let Some(mtu) = mtu.filter(|m| *m > max_mtu) {
            out.object(conn, format!("MTU {mtu} is above the server-facing maximum {max_mtu}; lower the switch interface's MTU"));
        }
        let mut ip_ends: Vec<(&IpPort, &IpPort)> = Vec::new();
        if let Some(f) = &spec.fabric {
            ip_ends.extend(f.links.iter().map(|l| (&l.spine, &l.leaf)));
        }
        if let Some(m) = &spec.mesh {
            ip_ends.extend(m.links.iter().map(|l| (&l.leaf1, &l.leaf2)));
        }
        if let Some(g) = &spec.gateway {
            ip_ends.extend(g.links.iter().map(|l| (&l.switch, &l.gateway)));
        }
        for (a, b) in ip_ends {
            check_link_ips(
                settings,
                complete && kind != ConnectionType::Gateway,
                conn,
                a,
                b,
                &mut link_ips,
                out,
            );
        }
        if matches!(kind, ConnectionType::Eslag) {
            check_eslag(o, conn, out);
        }
        if spec.fabric.is_some() {
            check_fabric_roles(conn, &switches, out);
        }
        if let Some(se) = &spec.static_external {
            check_static_external(settings, conn, se, out);
        }
    }
}

type Switches<'a> = BTreeMap<&'a str, &'a Draft<SwitchSpec>>;
type Servers<'a> = BTreeMap<&'a str, &'a Draft<ServerSpec>>;

/// The connection's switch ports are `<device>/<port>` of fabric switches, not used by another
/// connection (breakout aliases included), and its server ports are on fabric servers.
fn check_ports<'a>(
    conn: &'a Draft<ConnectionSpec>,
    kind: ConnectionType,
    (switches, servers): (&Switches, &Servers),
    ports: &mut HashMap<(String, String), &'a str>,
    out: &mut Violations,
) {
    let spec = &conn.spec;
    for port in spec.switch_ports() {
        let Some((device, name)) = port.split_once('/') else {
            out.object(conn, format!("port {port} is not <device>/<port>"));
            continue;
        };
        if !switches.contains_key(device) {
            out.object(
                conn,
                format!("switch {device} is not a switch of the fabric"),
            );
        }
        let key = (device.to_owned(), canonical_port(name).to_owned());
        if let Some(other) = ports.insert(key, &conn.name) {
            if other != conn.name {
                out.object(conn, format!("switch port {port} is already used by connection {other}; a port (and its breakout alias) carries one connection only, so move one of the cables"));
            } else if kind != ConnectionType::VpcLoopback {
                out.object(
                    conn,
                    format!("switch port {port} is cabled twice in this connection"),
                );
            }
        }
    }
    for link in spec.server_links() {
        let device = link.server.port.split_once('/').map_or("", |(d, _)| d);
        if !servers.contains_key(device) {
            out.object(
                conn,
                format!("server {device} is not a server of the fabric"),
            );
        }
    }
}

/// A fabric connection links exactly one spine and one leaf.
fn check_fabric_roles(conn: &Draft<ConnectionSpec>, switches: &Switches, out: &mut Violations) {
    let spec = &conn.spec;
    let names = spec.switch_names();
    let roles: Vec<bool> = names
        .iter()
        .filter_map(|n| switches.get(n))
        .map(|s| s.spec.is_spine())
        .collect();
    if names.len() != 2 || roles != [true, false] {
        out.object(
            conn,
            "a fabric connection links exactly one spine and one leaf".into(),
        );
    }
}

/// A static external's next hop is inside the switch port's subnet, and its prefixes are
/// canonical, apart from each other and from the reserved subnets.
fn check_static_external(
    settings: &FabricSettings,
    conn: &Draft<ConnectionSpec>,
    se: &StaticExternal,
    out: &mut Violations,
) {
    let sw = &se.link.switch;
    let net = sw.ip.as_deref().and_then(cidr);
    match (net, sw.next_hop.as_deref().and_then(addr)) {
        (Some(net), Some(hop)) if !net.contains(&hop) => out.object(conn, format!("next hop {hop} is not inside the switch port's subnet {}; fix the IP addresses on the cable's ends", net.trunc())),
        (None, _) | (_, None) => out.object(conn, "a static external needs an IP address on the switch port and one on the remote port (the next hop)".into()),
        _ => {}
    }
    let subnets: Vec<_> = sw.subnets.iter().map(|s| (s, cidr(s))).collect();
    let fix =
        "fix the custom field hedgehog_static_prefixes of the static-external device on this cable";
    if subnets.iter().any(|(s, _)| s.as_str() == "0.0.0.0/0") && subnets.len() > 1 {
        out.object(
            conn,
            format!("0.0.0.0/0 must be the only static prefix when present; {fix}"),
        );
    }
    for (i, (text, net)) in subnets.iter().enumerate() {
        match net {
            Some(n) if n.trunc() == *n => {
                if n.prefix_len() > 0 && let Some(r) = settings.reserved_subnets.iter().find(|r| overlaps(n, r)) {
                    out.object(conn, format!("static prefix {text} overlaps the reserved subnet {r}; {fix}"));
                }
                if subnets[i + 1..].iter().any(|(_, b)| b.is_some_and(|b| overlaps(n, &b))) {
                    out.object(conn, format!("static prefix {text} overlaps another static prefix; {fix}"));
                }
            }
            _ => out.object(conn, format!("static prefix {text} is not a canonical IPv4 prefix (host bits must be zero); {fix}")),
        }
    }
}

fn check_link_ips<'a>(
    settings: &FabricSettings,
    required: bool,
    conn: &'a crate::mapping::objects::Draft<crate::model::ConnectionSpec>,
    a: &IpPort,
    b: &IpPort,
    seen: &mut HashMap<std::net::Ipv4Addr, &'a str>,
    out: &mut Violations,
) {
    let (Some(ia), Some(ib)) = (&a.ip, &b.ip) else {
        if required {
            out.object(conn, format!("link {} ↔ {} needs a /31 IP address on both interfaces (inside {}); add them in NetBox", a.port, b.port, settings.fabric_subnet));
        }
        return;
    };
    let nets = [(ia, &a.port), (ib, &b.port)].map(|(ip, port)| {
        let net =
            cidr(ip).filter(|n| n.prefix_len() == 31 && settings.fabric_subnet.contains(&n.addr()));
        if net.is_none() {
            out.object(
                conn,
                format!(
                    "IP {ip} on {port} must be a /31 inside the fabric subnet {}; fix the interface's IP address",
                    settings.fabric_subnet
                ),
            );
        }
        net
    });
    if let [Some(na), Some(nb)] = nets {
        if na.trunc() != nb.trunc() {
            out.object(
                conn,
                format!(
                    "IPs {ia} and {ib} on the two ends of {} ↔ {} are not in the same /31; fix the IP addresses on the cable's interfaces",
                    a.port, b.port
                ),
            );
        } else if na.addr() == nb.addr() {
            out.object(
                conn,
                format!("both ends of {} ↔ {} have IP {ia}; give the two interfaces the two addresses of one /31", a.port, b.port),
            );
        }
        for n in [na, nb] {
            if let Some(other) = seen.insert(n.addr(), &conn.name)
                && na.addr() != nb.addr()
            {
                out.object(
                    conn,
                    format!("link IP {} is already used by connection {other}; every link needs its own /31", n.addr()),
                );
            }
        }
    }
}

fn check_eslag(
    o: &FabricObjects,
    conn: &crate::mapping::objects::Draft<crate::model::ConnectionSpec>,
    out: &mut Violations,
) {
    let switches = by_name(&o.switches);
    let names = conn.spec.switch_names();
    if !(1..=4).contains(&names.len()) {
        out.object(
            conn,
            format!(
                "an ESLAG connection spans 1 to 4 switches, this one {}",
                names.len()
            ),
        );
    }
    if conn.spec.eslag.as_ref().is_some_and(|e| e.links.len() < 2) {
        out.object(
            conn,
            "an ESLAG connection needs at least 2 links; cable another member of the server's LAG"
                .into(),
        );
    }
    let groups: Vec<_> = names
        .iter()
        .filter_map(|n| switches.get(n))
        .map(|s| (&s.spec.redundancy.group, &s.spec.redundancy.kind))
        .collect();
    if groups.windows(2).any(|w| w[0] != w[1])
        || groups
            .first()
            .is_some_and(|(_, k)| k.as_deref() != Some("eslag"))
    {
        out.object(
            conn,
            "all switches of an ESLAG connection must share one redundancy group of type eslag"
                .into(),
        );
    }
}
