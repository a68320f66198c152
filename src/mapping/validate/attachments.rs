//! VPCAttachment and ExternalAttachment rules.

use std::collections::{HashMap, HashSet};

use crate::mapping::objects::{Draft, FabricObjects, by_name};
use crate::model::{
    ConnectionSpec, ConnectionType, ExternalAttachmentSpec, VPCAttachmentSpec, VPCSpec,
};

use super::{Violations, addr, cidr};

/// `complete`: the fabric is a running cluster (validation level `cluster`), not a wiring file.
pub fn check(o: &FabricObjects, complete: bool, out: &mut Violations) {
    check_vpc_attachments(o, complete, out);
    check_external_attachments(o, out);
}

/// VPC attachments: an existing subnet on an existing server-facing connection whose switches
/// carry the VPC's VLAN namespace, attached once, with one native VLAN per connection.
fn check_vpc_attachments(o: &FabricObjects, complete: bool, out: &mut Violations) {
    let vpcs = by_name(&o.vpcs);
    let switches = by_name(&o.switches);
    let connections = by_name(&o.connections);
    let mut attached: HashSet<(&str, &str)> = HashSet::new();
    let mut native: HashMap<&str, &str> = HashMap::new();
    for att in &o.vpc_attachments {
        let (vpc_name, subnet) = att.spec.vpc_and_subnet();
        let connection = att.spec.connection.as_str();
        let Some(vpc) = vpcs.get(vpc_name) else {
            out.object(att, format!("VPC {vpc_name} does not exist"));
            continue;
        };
        let subnet_spec = vpc.spec.subnets.get(subnet);
        if subnet_spec.is_none() {
            out.object(att, format!("VPC {vpc_name} has no subnet {subnet}"));
        }
        let Some(conn) = connections.get(connection) else {
            out.object(att, format!("connection {connection} does not exist"));
            continue;
        };
        check_connection_kind(att, vpc, conn, subnet_spec.is_some_and(|s| s.host_bgp), out);
        check_mclag(att, conn, complete, out);
        let vlan_ns = vpc.spec.vlan_namespace.as_deref().unwrap_or("default");
        for switch in conn.spec.switch_names() {
            if let Some(sw) = switches.get(switch)
                && !sw.spec.vlan_namespaces.iter().any(|n| n == vlan_ns)
            {
                out.object(att, format!("switch {switch} does not carry VLAN namespace {vlan_ns} of VPC {vpc_name}; add it to the switch's custom field hedgehog_vlan_namespaces"));
            }
        }
        if !attached.insert((connection, att.spec.subnet.as_str())) {
            out.object(
                att,
                format!(
                    "connection {connection} is attached to {} twice",
                    att.spec.subnet
                ),
            );
        }
        if att.spec.native_vlan
            && let Some(other) = native.insert(connection, &att.name)
        {
            out.object(att, format!("connection {connection} already has a native VLAN (attachment {other}); untag only one VLAN on its switch ports"));
        }
    }
}

/// The connection a VPC attaches through: server-facing, ESLAG only for L2VNI VPCs, unbundled
/// for a hostBGP subnet.
fn check_connection_kind(
    att: &Draft<VPCAttachmentSpec>,
    vpc: &Draft<VPCSpec>,
    conn: &Draft<ConnectionSpec>,
    host_bgp: bool,
    out: &mut Violations,
) {
    let connection = conn.name.as_str();
    let vpc_name = vpc.name.as_str();
    let kind = conn.spec.connection_type();
    if !kind.is_some_and(ConnectionType::is_server_facing) {
        out.object(att, format!("connection {connection} is not server-facing (unbundled, bundled or eslag); VLANs on that port cannot attach a VPC"));
    }
    if kind == Some(ConnectionType::Eslag) && !vpc.spec.mode.is_empty() {
        out.object(att, format!("ESLAG connection {connection} can only attach an L2VNI VPC, and VPC {vpc_name} is {}; take the VLAN off the ESLAG ports or clear the VRF's custom field hedgehog_vpc_mode", vpc.spec.mode));
    }
    if host_bgp && kind != Some(ConnectionType::Unbundled) {
        out.object(
            att,
            format!("a hostBGP subnet can only be attached through an unbundled connection, and {connection} is not; take the VLAN off these ports or clear the prefix's custom field hedgehog_host_bgp"),
        );
    }
}

/// The fabric attaches no VPC to an MCLAG connection any more: a running fabric refuses it. A
/// wiring file may still hold one (the published demo-gitops sample, from the MCLAG era), so
/// at wiring level it is only a warning.
fn check_mclag(
    att: &Draft<VPCAttachmentSpec>,
    conn: &Draft<ConnectionSpec>,
    complete: bool,
    out: &mut Violations,
) {
    if conn.spec.connection_type() != Some(ConnectionType::Mclag) {
        return;
    }
    let message = format!(
        "connection {} is an MCLAG connection, and the fabric attaches VPCs only to unbundled, bundled and ESLAG connections; make the switches' redundancy group an ESLAG group",
        conn.name
    );
    if complete {
        out.object(att, message);
    } else {
        out.warn(att.blame(""), message);
    }
}

/// External attachments: on an external connection, to an existing external of the same kind
/// (static or BGP), one per connection and VLAN.
fn check_external_attachments(o: &FabricObjects, out: &mut Violations) {
    let connections = by_name(&o.connections);
    let externals = by_name(&o.externals);
    let mut vlans: HashSet<(&str, u16)> = HashSet::new();
    for att in &o.external_attachments {
        let s = &att.spec;
        match connections
            .get(s.connection.as_str())
            .and_then(|c| c.spec.connection_type())
        {
            Some(ConnectionType::External) => {}
            _ => out.object(
                att,
                format!("connection {} is not an external connection", s.connection),
            ),
        }
        let Some(ext) = externals.get(s.external.as_str()) else {
            out.object(att, format!("external {} does not exist", s.external));
            continue;
        };
        let ext_static = ext.spec.static_external.is_some();
        if ext_static != s.static_attachment.is_some() {
            out.object(
                att,
                format!(
                    "external {} is {} but the attachment is not",
                    s.external,
                    if ext_static { "static" } else { "BGP" }
                ),
            );
        }
        let vlan = attachment_vlan(att, out);
        if !vlans.insert((s.connection.as_str(), vlan.unwrap_or(0))) {
            out.object(att, format!("connection {} already has an external attachment on VLAN {}; use another sub-interface VLAN", s.connection, vlan.unwrap_or(0)));
        }
    }
}

/// Checks the static or BGP settings of an external attachment and returns its VLAN.
fn attachment_vlan(att: &Draft<ExternalAttachmentSpec>, out: &mut Violations) -> Option<u16> {
    let s = &att.spec;
    match &s.static_attachment {
        Some(st) => {
            if !s.switch.is_empty() || !s.neighbor.is_empty() {
                out.object(
                    att,
                    "a static attachment has no switch or neighbor BGP settings".into(),
                );
            }
            if st.ip.is_some() == st.proxy {
                out.object(att, "a static attachment needs exactly one of an IP address or proxy (custom field hedgehog_static_proxy)".into());
            }
            if addr(&st.remote_ip).is_none() {
                out.object(att, format!("remote IP {:?} is not an IPv4 address; fix custom field hedgehog_static_remote_ip", st.remote_ip));
            }
            st.vlan
        }
        None => {
            if s.switch.ip.as_deref().and_then(cidr).is_none() {
                out.object(
                    att,
                    "the switch side needs an IPv4 address with prefix length".into(),
                );
            }
            if s.neighbor.asn.is_none() || s.neighbor.ip.as_deref().and_then(addr).is_none() {
                out.object(att, "a BGP attachment needs the neighbor's ASN and IP: set custom fields hedgehog_neighbor_asn and hedgehog_neighbor_ip on the IP address".into());
            }
            s.switch.vlan
        }
    }
}
