//! VPCs become VRFs with one prefix (and VLAN) per subnet, gateway addresses and DHCP ranges;
//! VPCAttachments become VLANs on the switch ports of their connection; VPCPeerings become
//! route targets the two VRFs import from each other.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::mapping::naming::{OBJECT_NAME_MAX, shorten};
use crate::model::vpc::{VPCDhcp, VPCSubnet};
use crate::model::{ObjectKey, VPCSpec};
use crate::netbox::types::{CustomFields, IpRange, NestedVlan, Prefix};

use super::builder::{Builder, by_slug, choice, nested};
use super::connections::Connections;
use super::input::{Input, Typed};

/// The VLAN of every imported VPC subnet, by (VPC, subnet).
pub(crate) type Subnets = HashMap<(String, String), NestedVlan>;

pub(crate) fn import_vpcs(b: &mut Builder, input: &Input) -> Subnets {
    let mut subnets = Subnets::new();
    for vpc in &input.vpcs {
        import_vpc(b, vpc, &mut subnets);
    }
    subnets
}

/// A JSON value, or null when `empty` (null custom fields are left out).
fn json_unless<T: serde::Serialize>(empty: bool, value: &T) -> Value {
    if empty { Value::Null } else { json!(value) }
}

fn import_vpc(b: &mut Builder, vpc: &Typed<VPCSpec>, subnets: &mut Subnets) {
    let s = &vpc.spec;
    let fields = vpc_fields(b, s);
    let vrf = b.vrf(vpc.name(), false, fields);
    let namespace = s.vlan_namespace.as_deref().unwrap_or("default");
    let group = b.find_vlan_group(namespace);
    for (name, subnet) in &s.subnets {
        let Some(vid) = subnet.vlan else {
            b.problems.note(
                &vpc.key,
                format!("subnet {name} has no VLAN; NetBox holds VPC subnets as prefixes with a VLAN, so it is not imported"),
            );
            continue;
        };
        let vlan = b.vlan(vid, &format!("{}-{name}", vpc.name()), group);
        subnets.insert((vpc.name().to_owned(), name.clone()), vlan.clone());
        import_subnet(b, vpc, vrf, vlan, name, subnet);
    }
}

/// The VPC's custom fields: mode, namespaces, isolation, permits and static routes.
fn vpc_fields(b: &Builder, s: &VPCSpec) -> CustomFields {
    let cf = &b.mapping().custom_fields;
    b.fields(&[
        (
            cf.vpc_mode.as_str(),
            json_unless(s.mode.is_empty(), &s.mode),
        ),
        (cf.ipv4_namespace.as_str(), json!(s.ipv4_namespace)),
        (cf.vlan_namespace.as_str(), json!(s.vlan_namespace)),
        (
            cf.isolated.as_str(),
            json_unless(!s.default_isolated, &true),
        ),
        (
            cf.restricted.as_str(),
            json_unless(!s.default_restricted, &true),
        ),
        (
            cf.vpc_permit.as_str(),
            json_unless(s.permit.is_empty(), &s.permit),
        ),
        (
            cf.vpc_static_routes.as_str(),
            json_unless(s.static_routes.is_empty(), &s.static_routes),
        ),
    ])
}

/// A subnet with a VLAN: its prefix in the VPC's VRF, its gateway address and its DHCP range.
fn import_subnet(
    b: &mut Builder,
    vpc: &Typed<VPCSpec>,
    vrf: u64,
    vlan: NestedVlan,
    name: &str,
    subnet: &VPCSubnet,
) {
    let m = b.mapping();
    let cf = &m.custom_fields;
    let dhcp = subnet.dhcp.as_ref();
    let fields = b.fields(&[
        (cf.subnet_name.as_str(), json!(name)),
        (cf.isolated.as_str(), json_unless(!subnet.isolated, &true)),
        (
            cf.restricted.as_str(),
            json_unless(!subnet.restricted, &true),
        ),
        (cf.host_bgp.as_str(), json_unless(!subnet.host_bgp, &true)),
        (cf.dhcp_enable.as_str(), json!(dhcp.map(|d| d.enable))),
        (
            cf.dhcp_relay.as_str(),
            json!(dhcp.and_then(|d| d.relay.clone())),
        ),
        (
            cf.dhcp_options.as_str(),
            json!(dhcp.and_then(|d| d.options.clone())),
        ),
    ]);
    let id = b.next_object_id();
    let prefix_length = subnet
        .subnet
        .split_once('/')
        .map_or("32", |(_, l)| l)
        .to_owned();
    b.snapshot.prefixes.push(Prefix {
        id,
        prefix: subnet.subnet.clone(),
        vrf: nested(vrf),
        vlan: Some(vlan),
        status: choice("active"),
        tags: b.tags(),
        custom_fields: fields,
        ..Prefix::default()
    });
    if let Some(gateway) = &subnet.gateway {
        let fields = b.fields(&[]);
        b.ip(
            &format!("{gateway}/{prefix_length}"),
            None,
            Some(vrf),
            Some(&m.gateway_ip_role),
            &[],
            fields,
        );
    }
    if let Some(dhcp) = dhcp {
        import_dhcp(b, vpc, vrf, name, &prefix_length, dhcp);
    }
}

/// A subnet's DHCP range becomes an IP range; what NetBox cannot hold is reported.
fn import_dhcp(
    b: &mut Builder,
    vpc: &Typed<VPCSpec>,
    vrf: u64,
    name: &str,
    prefix_length: &str,
    dhcp: &VPCDhcp,
) {
    match dhcp.range.as_ref().map(|r| (&r.start, &r.end)) {
        Some((Some(start), Some(end))) => {
            let id = b.next_object_id();
            b.snapshot.ip_ranges.push(IpRange {
                id,
                start_address: format!("{start}/{prefix_length}"),
                end_address: format!("{end}/{prefix_length}"),
                vrf: nested(vrf),
                status: choice("active"),
                role: by_slug(&b.mapping().dhcp_range_role),
                tags: b.tags(),
                custom_fields: b.fields(&[]),
            });
        }
        Some(_) => b.problems.note(
            &vpc.key,
            format!("subnet {name}: a DHCP range needs both start and end in NetBox; the range is not imported"),
        ),
        None => {}
    }
    if dhcp.relay_vpc.is_some() || !dhcp.static_leases.is_empty() {
        b.problems.note(
            &vpc.key,
            format!("subnet {name}: dhcp.relayVPC and dhcp.static have no place in the NetBox model and are not imported"),
        );
    }
}

pub(crate) fn import_vpc_attachments(
    b: &mut Builder,
    input: &Input,
    connections: &Connections,
    subnets: &Subnets,
) {
    // How many subnets of one VPC attach to one connection decides the rendered name.
    let mut per_vpc: HashMap<(&str, &str), usize> = HashMap::new();
    for a in &input.vpc_attachments {
        *per_vpc
            .entry((a.spec.vpc_and_subnet().0, a.spec.connection.as_str()))
            .or_default() += 1;
    }
    for attachment in &input.vpc_attachments {
        let key = &attachment.key;
        let (vpc, subnet) = attachment.spec.vpc_and_subnet();
        let connection = &attachment.spec.connection;
        let Some(vlan) = subnets.get(&(vpc.to_owned(), subnet.to_owned())) else {
            b.problems.error(
                key,
                format!("subnet {subnet} of VPC {vpc} is not among the imported VPCs"),
            );
            continue;
        };
        let Some(info) = connections.get(connection) else {
            b.problems.error(
                key,
                format!("connection {connection} is not among the imported connections"),
            );
            continue;
        };
        if !info.kind.is_server_facing() {
            b.problems.error(
                key,
                format!("connection {connection} is a {} connection; VPCs attach to unbundled, bundled, eslag and mclag connections only", info.kind.as_str()),
            );
            continue;
        }
        for port in &info.switch_ports {
            attach(b, key, *port, vlan, attachment.spec.native_vlan);
        }
        let expected = if per_vpc[&(vpc, connection.as_str())] > 1 {
            format!("{vpc}--{subnet}--{connection}")
        } else {
            format!("{vpc}--{connection}")
        };
        let expected = shorten(&expected, OBJECT_NAME_MAX);
        if attachment.name() != expected {
            b.problems.note(
                key,
                format!(
                    "a VPCAttachment's name has no place in NetBox; it will render as {expected}"
                ),
            );
        }
    }
}

/// Puts `vlan` on a switch port: untagged when native, else tagged; the 802.1Q mode follows.
fn attach(b: &mut Builder, key: &ObjectKey, port: u64, vlan: &NestedVlan, native: bool) {
    let Some(interface) = b.interface_mut(port) else {
        return;
    };
    if native {
        if interface
            .untagged_vlan
            .as_ref()
            .is_some_and(|v| v.id != vlan.id)
        {
            let name = interface.name.clone();
            b.problems.error(
                key,
                format!("port {name} already has another native VLAN; a connection takes one native VLAN"),
            );
            return;
        }
        interface.untagged_vlan = Some(vlan.clone());
    } else if !interface.tagged_vlans.iter().any(|v| v.id == vlan.id) {
        interface.tagged_vlans.push(vlan.clone());
    }
    let mode = if interface.tagged_vlans.is_empty() {
        "access"
    } else {
        "tagged"
    };
    interface.mode = choice(mode);
}

pub(crate) fn import_vpc_peerings(b: &mut Builder, input: &Input) {
    for peering in &input.vpc_peerings {
        let key = &peering.key;
        let vpcs = peering.spec.vpcs();
        let [first, second] = vpcs.as_slice() else {
            b.problems.error(key, "a VPCPeering names exactly two VPCs");
            continue;
        };
        let (Some(a), Some(z)) = (b.find_vrf(first, false), b.find_vrf(second, false)) else {
            b.problems.error(
                key,
                format!("VPCs {first} and {second} must both be among the imported VPCs"),
            );
            continue;
        };
        let (a, z) = (a.id, z.id);
        b.import_target(a, z);
        b.import_target(z, a);
        let expected = shorten(&format!("{first}--{second}"), OBJECT_NAME_MAX);
        if peering.name() != expected {
            b.problems.note(
                key,
                format!("a VPCPeering's name has no place in NetBox; it will render as {expected}"),
            );
        }
        if !permits_everything(input, &peering.spec.permit) || peering.spec.remote.is_some() {
            b.problems.note(
                key,
                "NetBox peers whole VRFs: the peering will render with one permit entry holding all subnets of both VPCs",
            );
        }
    }
}

/// One permit entry naming every subnet of both VPCs (the only form NetBox can represent).
fn permits_everything(
    input: &Input,
    permit: &[BTreeMap<String, crate::model::vpc_peering::PeeringSubnets>],
) -> bool {
    let [entry] = permit else { return false };
    entry
        .iter()
        .all(|(vpc, listed)| input.names_all_subnets(vpc, &listed.subnets))
}
