//! Connections: cables grouped into one Connection per logical link (design doc, "Connections
//! from cables").

use std::collections::{BTreeMap, HashMap};

use crate::model::connection::{
    Bundled, ConnectionSpec, ConnectionType, External, ExternalSwitchPort, Fabric, FabricLink,
    Gateway, GatewayLink, IpPort, Mesh, MeshLink, Port, ServerLink, StaticExternal,
    StaticExternalLink, StaticExternalSwitch, SwitchPair, Unbundled, VpcLoopback,
};
use crate::model::switch::SwitchSpec;
use crate::netbox::types::{Cable, Interface, NetBoxObject};

use super::index::{CableLink, DeviceRole, Index};
use super::naming::{LABEL_NAME_MAX, natural_cmp, shorten, slugify};
use super::objects::{ConnectionFacts, Draft};
use super::ports::PortNames;
use super::sources::SourceRef;
use super::switches::{DeviceNames, device_name};
use super::validate::Violations;

/// How cables are grouped: one key per logical link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Fabric {
        spine: u64,
        leaf: u64,
    },
    Mesh {
        leaf1: u64,
        leaf2: u64,
    },
    Loopback {
        switch: u64,
    },
    /// `bundle` is the server's LAG interface id, or its only interface when not in a LAG.
    Server {
        server: u64,
        bundle: u64,
        lag: bool,
    },
    External {
        switch_interface: u64,
        device: u64,
    },
    StaticExternal {
        switch_interface: u64,
        device: u64,
    },
    Gateway {
        switch: u64,
        gateway: u64,
    },
}

/// The cabled interface pairs of one group, each oriented as its key says (switch or spine or
/// first leaf on the left).
#[derive(Default)]
struct Group<'a> {
    links: Vec<(&'a Interface, &'a Interface)>,
    cables: Vec<&'a Cable>,
}

/// A connection before its name is final.
struct Pending<'a> {
    base: Vec<String>,
    disambiguator: Option<String>,
    spec: ConnectionSpec,
    facts: ConnectionFacts,
    cables: Vec<&'a Cable>,
}

pub(crate) fn render_connections(
    index: &Index,
    switches: &[Draft<SwitchSpec>],
    names: &DeviceNames,
    violations: &mut Violations,
) -> (
    Vec<Draft<ConnectionSpec>>,
    BTreeMap<String, ConnectionFacts>,
) {
    let groups = group_cables(index, violations);
    let switch_specs: HashMap<u64, &SwitchSpec> = switches
        .iter()
        .filter_map(|d| Some((d.sources.first()?.id, &d.spec)))
        .collect();
    let profiles = &index.mapping().profiles;
    let port_names = switch_specs
        .iter()
        .map(|(&device, spec)| {
            let profile = spec.profile.as_deref().and_then(|p| profiles.get(p));
            (device, PortNames::new(profile, &spec.port_breakouts))
        })
        .collect();
    let ctx = Ctx {
        index,
        names,
        switch_specs,
        port_names,
    };
    let pending: Vec<Pending> = groups
        .into_iter()
        .filter_map(|(key, group)| ctx.build(key, group, violations))
        .collect();
    finish_names(index, pending, violations)
}

fn group_cables<'a>(
    index: &Index<'a>,
    violations: &mut Violations,
) -> BTreeMap<GroupKey, Group<'a>> {
    let spine_leaf = index
        .roles
        .values()
        .any(|r| matches!(r, DeviceRole::Switch(role) if role == "spine"));
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for link in &index.links {
        let Some((key, a, b)) = group_key(index, spine_leaf, link, violations) else {
            continue;
        };
        let group = groups.entry(key).or_default();
        group.links.push((a, b));
        if !group.cables.iter().any(|c| c.id == link.cable.id) {
            group.cables.push(link.cable);
        }
    }
    groups
}

/// The group of one cabled link, with its ends oriented as the key says; `None` (with a warning
/// where the cable is the fabric's but cannot be rendered) when the link forms no connection.
fn group_key<'a>(
    index: &Index<'a>,
    spine_leaf: bool,
    link: &CableLink<'a>,
    violations: &mut Violations,
) -> Option<(GroupKey, &'a Interface, &'a Interface)> {
    let (mut a, mut b) = (link.a, link.b);
    let (mut ra, mut rb) = (index.role(a.device.id), index.role(b.device.id));
    if !matches!(ra, DeviceRole::Switch(_)) {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut ra, &mut rb);
    }
    // Neither end is a switch of this fabric.
    let DeviceRole::Switch(role_a) = ra else {
        return None;
    };
    let key = match rb {
        DeviceRole::Switch(role_b) => {
            return switch_pair_key(
                index,
                spine_leaf,
                link,
                (a, role_a),
                (b, role_b),
                violations,
            );
        }
        DeviceRole::Server => GroupKey::Server {
            server: b.device.id,
            bundle: b.lag.as_ref().map_or(b.id, |l| l.id),
            lag: b.lag.is_some(),
        },
        DeviceRole::External => GroupKey::External {
            switch_interface: a.id,
            device: b.device.id,
        },
        DeviceRole::StaticExternal => GroupKey::StaticExternal {
            switch_interface: a.id,
            device: b.device.id,
        },
        DeviceRole::Gateway => GroupKey::Gateway {
            switch: a.device.id,
            gateway: b.device.id,
        },
        DeviceRole::Other => {
            violations.warn(
                vec![SourceRef::of(link.cable)],
                format!(
                    "cable from switch port {} to {} is not rendered: that device's role is not a server, external or gateway role of the fabric's mapping",
                    a.display_name(),
                    b.display_name()
                ),
            );
            return None;
        }
    };
    Some((key, a, b))
}

/// The group of a cable between two switches: a loopback, a spine↔leaf fabric link, or (with
/// no spine in the fabric) a mesh link.
fn switch_pair_key<'a>(
    index: &Index<'a>,
    spine_leaf: bool,
    link: &CableLink<'a>,
    (mut a, role_a): (&'a Interface, &str),
    (mut b, role_b): (&'a Interface, &str),
    violations: &mut Violations,
) -> Option<(GroupKey, &'a Interface, &'a Interface)> {
    let key = if a.device.id == b.device.id {
        if natural_cmp(&b.name, &a.name).is_lt() {
            std::mem::swap(&mut a, &mut b);
        }
        GroupKey::Loopback {
            switch: a.device.id,
        }
    } else {
        match (role_a == "spine", role_b == "spine") {
            (true, false) => GroupKey::Fabric {
                spine: a.device.id,
                leaf: b.device.id,
            },
            (false, true) => {
                std::mem::swap(&mut a, &mut b);
                GroupKey::Fabric {
                    spine: a.device.id,
                    leaf: b.device.id,
                }
            }
            (false, false) if !spine_leaf => {
                if device_label(index, b) < device_label(index, a) {
                    std::mem::swap(&mut a, &mut b);
                }
                GroupKey::Mesh {
                    leaf1: a.device.id,
                    leaf2: b.device.id,
                }
            }
            _ => {
                violations.warn(
                    vec![SourceRef::of(link.cable)],
                    format!(
                        "cable between {} and {} is not rendered: in a spine-leaf fabric only spine↔leaf cables form fabric connections (MCLAG domains are not supported)",
                        a.display_name(),
                        b.display_name()
                    ),
                );
                return None;
            }
        }
    };
    Some((key, a, b))
}

fn device_label(index: &Index, interface: &Interface) -> String {
    index
        .devices
        .get(&interface.device.id)
        .map(|d| device_name(index, d))
        .unwrap_or_default()
}

struct Ctx<'i, 'a> {
    index: &'i Index<'a>,
    names: &'i DeviceNames,
    switch_specs: HashMap<u64, &'i SwitchSpec>,
    /// Each switch's NetBox interface names as its profile's port names.
    port_names: HashMap<u64, PortNames>,
}

impl<'a> Ctx<'_, 'a> {
    fn name(&self, device: u64) -> String {
        self.names.get(&device).cloned().unwrap_or_else(|| {
            self.index
                .devices
                .get(&device)
                .map(|d| device_name(self.index, d))
                .unwrap_or_else(|| format!("device-{device}"))
        })
    }

    /// `<device>/<port>`: a switch's interface by its profile's port name.
    fn port(&self, interface: &Interface) -> String {
        let device = interface.device.id;
        let port = self
            .port_names
            .get(&device)
            .map_or(interface.name.as_str(), |names| names.port(&interface.name));
        format!("{}/{port}", self.name(device))
    }

    fn ip_port(&self, interface: &Interface) -> IpPort {
        IpPort {
            port: self.port(interface),
            ip: self
                .index
                .interface_ips(interface.id)
                .first()
                .map(|a| a.address.clone()),
        }
    }

    fn build(
        &self,
        key: GroupKey,
        mut group: Group<'a>,
        violations: &mut Violations,
    ) -> Option<Pending<'a>> {
        // The switch interfaces in cabling order, before the links are sorted for the spec.
        let switch_interfaces: Vec<u64> = group.links.iter().map(|(s, _)| s.id).collect();
        let rendered = match key {
            GroupKey::Fabric { spine, leaf } => self.fabric(spine, leaf, &mut group),
            GroupKey::Mesh { leaf1, leaf2 } => self.mesh(leaf1, leaf2, &mut group),
            GroupKey::Loopback { switch } => self.loopback(switch, &mut group),
            GroupKey::Gateway { switch, gateway } => self.gateway(switch, gateway, &mut group),
            GroupKey::External { device, .. } => self.external(device, &group),
            GroupKey::StaticExternal { device, .. } => self.static_external_link(device, &group),
            GroupKey::Server {
                server,
                bundle,
                lag,
            } => {
                return self.server_connection(server, bundle, lag, group, violations);
            }
        };
        Some(Pending {
            base: rendered.base,
            disambiguator: rendered.disambiguator,
            spec: rendered.spec,
            facts: ConnectionFacts {
                kind: rendered.kind,
                vlan_interfaces: Vec::new(),
                switch_interfaces,
            },
            cables: group.cables,
        })
    }

    fn fabric(&self, spine: u64, leaf: u64, group: &mut Group) -> Rendered {
        group.links.sort_by(|x, y| {
            natural_cmp(&x.0.name, &y.0.name).then(natural_cmp(&x.1.name, &y.1.name))
        });
        let spec = ConnectionSpec {
            fabric: Some(Fabric {
                links: self.links(group, |spine, leaf| FabricLink { spine, leaf }),
            }),
            ..ConnectionSpec::default()
        };
        let base = vec![self.name(spine), "fabric".into(), self.name(leaf)];
        Rendered::new(spec, base, None, ConnectionType::Fabric)
    }

    fn mesh(&self, leaf1: u64, leaf2: u64, group: &mut Group) -> Rendered {
        sort_by_first_port(group);
        let spec = ConnectionSpec {
            mesh: Some(Mesh {
                links: self.links(group, |leaf1, leaf2| MeshLink { leaf1, leaf2 }),
            }),
            ..ConnectionSpec::default()
        };
        let base = vec![self.name(leaf1), "mesh".into(), self.name(leaf2)];
        Rendered::new(spec, base, None, ConnectionType::Mesh)
    }

    fn loopback(&self, switch: u64, group: &mut Group) -> Rendered {
        sort_by_first_port(group);
        let links = group
            .links
            .iter()
            .map(|(a, b)| SwitchPair {
                switch1: Port { port: self.port(a) },
                switch2: Port { port: self.port(b) },
            })
            .collect();
        let spec = ConnectionSpec {
            vpc_loopback: Some(VpcLoopback { links }),
            ..ConnectionSpec::default()
        };
        let base = vec![self.name(switch), "vpc-loopback".into()];
        Rendered::new(spec, base, None, ConnectionType::VpcLoopback)
    }

    fn gateway(&self, switch: u64, gateway: u64, group: &mut Group) -> Rendered {
        sort_by_first_port(group);
        let spec = ConnectionSpec {
            gateway: Some(Gateway {
                links: self.links(group, |switch, gateway| GatewayLink { switch, gateway }),
            }),
            ..ConnectionSpec::default()
        };
        let base = vec![self.name(switch), "gateway".into(), self.name(gateway)];
        Rendered::new(spec, base, None, ConnectionType::Gateway)
    }

    /// An external connection: its one switch port, named after it where names collide.
    fn external(&self, device: u64, group: &Group) -> Rendered {
        let (switch, _) = group.links[0];
        let spec = ConnectionSpec {
            external: Some(External {
                link: ExternalSwitchPort {
                    switch: Port {
                        port: self.port(switch),
                    },
                },
            }),
            ..ConnectionSpec::default()
        };
        let base = vec![
            self.name(switch.device.id),
            "external".into(),
            self.name(device),
        ];
        let disambiguator = Some(slugify(&switch.name));
        Rendered::new(spec, base, disambiguator, ConnectionType::External)
    }

    fn static_external_link(&self, device: u64, group: &Group) -> Rendered {
        let (switch, remote) = group.links[0];
        let spec = ConnectionSpec {
            static_external: Some(self.static_external(switch, remote, device)),
            ..ConnectionSpec::default()
        };
        let base = vec![
            self.name(switch.device.id),
            "static-external".into(),
            self.name(device),
        ];
        let disambiguator = Some(slugify(&switch.name));
        Rendered::new(spec, base, disambiguator, ConnectionType::StaticExternal)
    }

    /// The group's links with both ends as addressed ports, in the group's order.
    fn links<T>(&self, group: &Group, link: impl Fn(IpPort, IpPort) -> T) -> Vec<T> {
        group
            .links
            .iter()
            .map(|(a, b)| link(self.ip_port(a), self.ip_port(b)))
            .collect()
    }

    fn server_connection(
        &self,
        server: u64,
        bundle: u64,
        lag: bool,
        mut group: Group<'a>,
        violations: &mut Violations,
    ) -> Option<Pending<'a>> {
        group.links.sort_by(|x, y| {
            self.name(x.0.device.id)
                .cmp(&self.name(y.0.device.id))
                .then(natural_cmp(&x.0.name, &y.0.name))
        });
        let mut switch_ids: Vec<u64> = Vec::new();
        for (s, _) in &group.links {
            if !switch_ids.contains(&s.device.id) {
                switch_ids.push(s.device.id);
            }
        }
        let server = ServerLinks {
            name: self.name(server),
            switch_names: switch_ids.iter().map(|id| self.name(*id)).collect(),
            switch_ids,
            bundle_name: self.index.interfaces.get(&bundle).map(|i| slugify(&i.name)),
            cables: &group.cables,
        };
        let (spec, kind) = self.server_spec(&server, lag, self.bundled(&group), violations)?;
        let ServerLinks {
            name,
            switch_names,
            bundle_name,
            ..
        } = server;
        let mut base = vec![name, kind.as_str().to_owned()];
        base.extend(switch_names);
        let vlan_interfaces = {
            let mut ids: Vec<u64> = group
                .links
                .iter()
                .map(|(s, _)| s.lag.as_ref().map_or(s.id, |l| l.id))
                .collect();
            ids.dedup();
            ids
        };
        let facts = ConnectionFacts {
            kind,
            vlan_interfaces,
            switch_interfaces: group.links.iter().map(|(s, _)| s.id).collect(),
        };
        Some(Pending {
            base,
            disambiguator: bundle_name,
            spec,
            facts,
            cables: group.cables,
        })
    }

    /// A server's links as one bundle, in the group's order.
    fn bundled(&self, group: &Group) -> Bundled {
        Bundled {
            links: group
                .links
                .iter()
                .map(|(s, v)| ServerLink {
                    server: Port { port: self.port(v) },
                    switch: Port { port: self.port(s) },
                })
                .collect(),
            mtu: group.links.iter().find_map(|(s, _)| s.mtu),
            fallback: false,
        }
    }

    /// The connection a server's cables form: unbundled (one interface, one cable), bundled (a
    /// LAG to one switch), or ESLAG/MCLAG (a LAG to switches of one redundancy group); `None`,
    /// reported, when they form none.
    fn server_spec(
        &self,
        server: &ServerLinks,
        lag: bool,
        bundled: Bundled,
        violations: &mut Violations,
    ) -> Option<(ConnectionSpec, ConnectionType)> {
        let mut spec = ConnectionSpec::default();
        if !lag {
            let mtu = bundled.mtu;
            let mut links = bundled.links;
            spec.unbundled = Some(Unbundled {
                link: links.remove(0),
                mtu,
            });
            if !links.is_empty() {
                violations.source(server.sources(), format!("server interface {} of {} has several cables; an interface not in a LAG takes exactly one", server.bundle_name.clone().unwrap_or_default(), server.name));
                return None;
            }
            return Some((spec, ConnectionType::Unbundled));
        }
        if server.switch_ids.len() == 1 {
            spec.bundled = Some(bundled);
            return Some((spec, ConnectionType::Bundled));
        }
        let fields = &self.index.mapping().custom_fields;
        let redundancy: Vec<(Option<&str>, Option<&str>)> = server
            .switch_ids
            .iter()
            .map(|id| {
                let r = self.switch_specs.get(id).map(|s| &s.redundancy);
                (
                    r.and_then(|r| r.group.as_deref()),
                    r.and_then(|r| r.kind.as_deref()),
                )
            })
            .collect();
        let shared = redundancy.windows(2).all(|w| w[0] == w[1]);
        let switches = server.switch_names.join(", ");
        match (shared, redundancy[0]) {
            (true, (Some(_), Some("eslag"))) => {
                spec.eslag = Some(bundled);
                Some((spec, ConnectionType::Eslag))
            }
            (true, (Some(_), Some("mclag"))) if self.index.mapping().render_mclag => {
                spec.mclag = Some(bundled);
                Some((spec, ConnectionType::Mclag))
            }
            (true, (Some(_), Some("mclag"))) => {
                violations.warn(server.sources(), format!("the LAG of {} to {switches} is an MCLAG connection, which is deprecated and not rendered; set render_mclag = true in the fabric's mapping to render it, or change the switches' custom field {} to eslag", server.name, fields.redundancy_type));
                None
            }
            _ => {
                violations.source(server.sources(), format!("the LAG of {} is cabled to switches {switches} that do not share one redundancy group; set the same custom field {} (and {} = eslag) on those switches, or cable the LAG to one switch", server.name, fields.redundancy_group, fields.redundancy_type));
                None
            }
        }
    }

    fn static_external(
        &self,
        switch: &Interface,
        remote: &Interface,
        device: u64,
    ) -> StaticExternal {
        let index = self.index;
        let switch_ip = index.interface_ips(switch.id).first().copied();
        let next_hop = index
            .interface_ips(remote.id)
            .first()
            .map(|a| a.address.split('/').next().unwrap_or_default().to_owned());
        let subnets = index
            .devices
            .get(&device)
            .map(|d| {
                d.custom_fields
                    .strings(&index.mapping().custom_fields.static_prefixes)
            })
            .unwrap_or_default();
        let within_vpc = switch_ip
            .and_then(|a| a.vrf.as_ref())
            .and_then(|v| index.vrfs.get(&v.id))
            .filter(|vrf| {
                index.in_fabric(&vrf.custom_fields)
                    && !Index::tagged(&vrf.tags, &index.mapping().tag_external)
            })
            .map(|vrf| super::vpcs::vrf_name(index, vrf));
        StaticExternal {
            link: StaticExternalLink {
                switch: StaticExternalSwitch {
                    port: self.port(switch),
                    ip: switch_ip.map(|a| a.address.clone()),
                    next_hop,
                    subnets,
                    vlan: switch.untagged_vlan.as_ref().and_then(|v| index.vid(v)),
                },
            },
            within_vpc,
        }
    }
}

/// One connection's spec and the parts of its name, before its cables are added.
struct Rendered {
    spec: ConnectionSpec,
    base: Vec<String>,
    disambiguator: Option<String>,
    kind: ConnectionType,
}

impl Rendered {
    fn new(
        spec: ConnectionSpec,
        base: Vec<String>,
        disambiguator: Option<String>,
        kind: ConnectionType,
    ) -> Self {
        Self {
            spec,
            base,
            disambiguator,
            kind,
        }
    }
}

/// A server's side of its cables, as the connection's name and messages name it.
struct ServerLinks<'g, 'a> {
    name: String,
    /// The switches cabled to, in the links' order, each once.
    switch_ids: Vec<u64>,
    switch_names: Vec<String>,
    bundle_name: Option<String>,
    cables: &'g [&'a Cable],
}

impl ServerLinks<'_, '_> {
    fn sources(&self) -> Vec<SourceRef> {
        self.cables.iter().map(|c| SourceRef::of(*c)).collect()
    }
}

/// Orders a group's links by their first end's port name.
fn sort_by_first_port(group: &mut Group) {
    group
        .links
        .sort_by(|x, y| natural_cmp(&x.0.name, &y.0.name));
}

/// Names every connection: the cables' `hedgehog_name`, else the convention, with the
/// disambiguator added where two would collide, shortened to 63 characters.
fn finish_names(
    index: &Index,
    pending: Vec<Pending>,
    violations: &mut Violations,
) -> (
    Vec<Draft<ConnectionSpec>>,
    BTreeMap<String, ConnectionFacts>,
) {
    let name_field = &index.mapping().custom_fields.name;
    let mut base_count: HashMap<String, usize> = HashMap::new();
    for p in &pending {
        *base_count.entry(p.base.join("--")).or_default() += 1;
    }
    let mut drafts = Vec::with_capacity(pending.len());
    let mut facts = BTreeMap::new();
    for p in pending {
        let base = p.base.join("--");
        let override_name = p
            .cables
            .iter()
            .find_map(|c| c.custom_fields.string(name_field));
        let name = match (override_name, &p.disambiguator) {
            (Some(name), _) => name,
            (None, Some(extra)) if base_count[&base] > 1 && !extra.is_empty() => {
                let mut parts = p.base.clone();
                parts.insert(1, extra.clone());
                shorten(&parts.join("--"), LABEL_NAME_MAX)
            }
            (None, _) => shorten(&base, LABEL_NAME_MAX),
        };
        let sources = p.cables.iter().map(|c| SourceRef::of(*c)).collect();
        let draft = Draft::new(name, p.spec, sources);
        if facts.insert(draft.name.clone(), p.facts).is_some() {
            violations.object(
                &draft,
                format!("two connections are both named {}; set custom field {name_field} on the cables of one of them", draft.name),
            );
            continue;
        }
        drafts.push(draft);
    }
    drafts.sort_by(|a, b| a.name.cmp(&b.name));
    (drafts, facts)
}
