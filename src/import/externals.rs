//! Externals become VRFs tagged external; ExternalAttachments become IP addresses in them on
//! the switch port (or a VLAN sub-interface) of an external connection; ExternalPeerings become
//! the VPC's VRF importing the External's route target.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::mapping::naming::{OBJECT_NAME_MAX, shorten};
use crate::model::{ConnectionType, ExternalAttachmentSpec, ObjectKey};

use super::builder::{Builder, nested};
use super::connections::Connections;
use super::input::Input;

/// The prefix an ExternalPeering permits when its External names none.
const ANY: &str = "0.0.0.0/0";

pub(crate) fn import_externals(b: &mut Builder, input: &Input) {
    let cf = &b.mapping().custom_fields;
    for external in &input.externals {
        let s = &external.spec;
        let prefixes = s
            .static_external
            .as_ref()
            .map(|st| json!(st.prefixes.join(",")));
        let fields = b.fields(&[
            (cf.ipv4_namespace.as_str(), json!(s.ipv4_namespace)),
            (cf.inbound_community.as_str(), json!(s.inbound_community)),
            (cf.outbound_community.as_str(), json!(s.outbound_community)),
            (cf.static_prefixes.as_str(), prefixes.unwrap_or_default()),
        ]);
        b.vrf(external.name(), true, fields);
    }
}

pub(crate) fn import_external_attachments(
    b: &mut Builder,
    input: &Input,
    connections: &Connections,
) {
    let mut pending: Vec<(&ObjectKey, String, u64)> = Vec::new();
    for attachment in &input.external_attachments {
        let key = &attachment.key;
        let s = &attachment.spec;
        let Some(vrf) = b.find_vrf(&s.external, true).map(|v| v.id) else {
            b.problems.error(
                key,
                format!(
                    "External {} is not among the imported Externals",
                    s.external
                ),
            );
            continue;
        };
        let port = match connections.get(&s.connection) {
            Some(info) if info.kind == ConnectionType::External => info.switch_ports[0],
            Some(info) => {
                b.problems.error(
                    key,
                    format!(
                        "connection {} is a {} connection, not an external one",
                        s.connection,
                        info.kind.as_str()
                    ),
                );
                continue;
            }
            None => {
                b.problems.error(
                    key,
                    format!(
                        "connection {} is not among the imported connections",
                        s.connection
                    ),
                );
                continue;
            }
        };
        let Some((address, fields)) = address_of(b, key, s) else {
            continue;
        };
        let vlan = s
            .static_attachment
            .as_ref()
            .map_or(s.switch.vlan, |st| st.vlan);
        let interface = match vlan {
            Some(vid) => sub_interface(b, port, vid),
            None => port,
        };
        let ip = b.ip(&address, Some(interface), Some(vrf), None, &[], fields);
        let switch = b.device_name_of(port);
        pending.push((key, format!("{switch}--{}", s.external), ip));
    }
    keep_names(b, &pending);
}

/// The address and custom fields of an attachment's IP address.
fn address_of(
    b: &mut Builder,
    key: &ObjectKey,
    s: &ExternalAttachmentSpec,
) -> Option<(String, crate::netbox::types::CustomFields)> {
    let cf = &b.mapping().custom_fields;
    match &s.static_attachment {
        None => {
            let Some(address) = s.switch.ip.clone() else {
                b.problems
                    .error(key, "a BGP ExternalAttachment needs switch.ip");
                return None;
            };
            let fields = b.fields(&[
                (cf.neighbor_ip.as_str(), json!(s.neighbor.ip)),
                (cf.neighbor_asn.as_str(), json!(s.neighbor.asn)),
            ]);
            Some((address, fields))
        }
        Some(st) => {
            let Some(address) = st.ip.clone() else {
                b.problems.note(
                    key,
                    "a static attachment with proxy and no ip has no address to hold it in NetBox; not imported",
                );
                return None;
            };
            let fields = b.fields(&[
                (cf.static_remote_ip.as_str(), json!(st.remote_ip)),
                (
                    cf.static_proxy.as_str(),
                    if st.proxy { json!(true) } else { Value::Null },
                ),
            ]);
            Some((address, fields))
        }
    }
}

/// The VLAN sub-interface `<port>.<vid>` of a switch port.
fn sub_interface(b: &mut Builder, port: u64, vid: u16) -> u64 {
    let Some((device, name)) = b
        .snapshot
        .interfaces
        .iter()
        .find(|i| i.id == port)
        .map(|i| (i.device.id, i.name.clone()))
    else {
        return port;
    };
    let sub = b.interface(device, &format!("{name}.{vid}"), "virtual");
    if let Some(i) = b.interface_mut(sub) {
        i.parent = nested(port);
    }
    sub
}

/// Sets `hedgehog_name` on the address of every attachment whose name rendering would not give.
fn keep_names(b: &mut Builder, pending: &[(&ObjectKey, String, u64)]) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, base, _) in pending {
        *count.entry(base).or_default() += 1;
    }
    let field = b.mapping().custom_fields.name.clone();
    for (key, base, ip) in pending {
        if key.name == shorten(base, OBJECT_NAME_MAX) && count[base.as_str()] == 1 {
            continue;
        }
        if let Some(address) = b.snapshot.ip_addresses.iter_mut().find(|a| a.id == *ip) {
            address
                .custom_fields
                .0
                .insert(field.clone(), json!(key.name));
        }
    }
}

pub(crate) fn import_external_peerings(b: &mut Builder, input: &Input) {
    let field = b.mapping().custom_fields.permit_prefixes.clone();
    for peering in &input.external_peerings {
        let key = &peering.key;
        let permit = &peering.spec.permit;
        let (vpc, external) = (&permit.vpc.name, &permit.external.name);
        let (Some(v), Some(e)) = (b.find_vrf(vpc, false), b.find_vrf(external, true)) else {
            b.problems.error(
                key,
                format!(
                    "VPC {vpc} and External {external} must both be among the imported objects"
                ),
            );
            continue;
        };
        let (v, e) = (v.id, e.id);
        b.import_target(v, e);
        let prefixes: Vec<&str> = permit
            .external
            .prefixes
            .iter()
            .map(|p| p.prefix.as_str())
            .collect();
        if prefixes != [ANY] {
            let value = json!(prefixes.join(","));
            if let Some(vrf) = b.snapshot.vrfs.iter_mut().find(|x| x.id == e) {
                let previous = vrf.custom_fields.0.insert(field.clone(), value.clone());
                if previous.is_some_and(|p| p != value) {
                    b.problems.note(
                        key,
                        format!("NetBox keeps one prefix list per External; {external}'s peerings list different prefixes, the last one wins"),
                    );
                }
            }
        }
        let expected = shorten(&format!("{vpc}--{external}"), OBJECT_NAME_MAX);
        if peering.name() != expected {
            b.problems.note(
                key,
                format!(
                    "an ExternalPeering's name has no place in NetBox; it will render as {expected}"
                ),
            );
        }
        if !input.names_all_subnets(vpc, &permit.vpc.subnets) {
            b.problems.note(
                key,
                "NetBox peers whole VRFs: the peering will render with all subnets of the VPC",
            );
        }
    }
}
