//! Externals (VRFs tagged external), their attachments (IP addresses on external connections'
//! switch ports) and their peerings with VPCs (route targets).

use std::collections::{BTreeMap, HashMap};

use crate::model::ConnectionType;
use crate::model::external::ExternalStatic;
use crate::model::external_attachment::{AttachmentNeighbor, AttachmentStatic, AttachmentSwitch};
use crate::model::external_peering::{
    ExternalPeeringPermit, PeeringExternal, PeeringPrefix, PeeringVpc,
};
use crate::model::{ExternalAttachmentSpec, ExternalPeeringSpec, ExternalSpec, VPCSpec};
use crate::netbox::types::{Interface, IpAddress, Vrf};

use super::index::Index;
use super::naming::{OBJECT_NAME_MAX, shorten};
use super::objects::{ConnectionFacts, Draft};
use super::sources::SourceRef;
use super::switches::DeviceNames;
use super::validate::Violations;
use super::vpcs::{RenderedVpcs, exporters, fabric_vrfs, vpc_vrfs, vrf_name};

fn external_vrfs<'a>(index: &Index<'a>) -> Vec<&'a Vrf> {
    fabric_vrfs(index, true)
}

pub(crate) fn render_externals(index: &Index) -> Vec<Draft<ExternalSpec>> {
    let cf = &index.mapping().custom_fields;
    let mut out: Vec<_> = external_vrfs(index)
        .into_iter()
        .map(|vrf| {
            let fields = &vrf.custom_fields;
            let prefixes = fields.strings(&cf.static_prefixes);
            let spec = ExternalSpec {
                ipv4_namespace: Some(
                    fields
                        .string(&cf.ipv4_namespace)
                        .unwrap_or_else(|| "default".into()),
                ),
                inbound_community: fields.string(&cf.inbound_community),
                outbound_community: fields.string(&cf.outbound_community),
                static_external: (!prefixes.is_empty()).then_some(ExternalStatic { prefixes }),
            };
            Draft::new(vrf_name(index, vrf), spec, vec![SourceRef::of(vrf)])
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// An attachment per IP address of an External's VRF on an external connection's switch port
/// or on a VLAN sub-interface of it.
pub(crate) fn render_external_attachments(
    index: &Index,
    facts: &BTreeMap<String, ConnectionFacts>,
    names: &DeviceNames,
    violations: &mut Violations,
) -> Vec<Draft<ExternalAttachmentSpec>> {
    let cf = &index.mapping().custom_fields;
    let connection_by_port: HashMap<u64, &str> = facts
        .iter()
        .filter(|(_, f)| f.kind == ConnectionType::External)
        .flat_map(|(name, f)| {
            f.switch_interfaces
                .iter()
                .map(move |id| (*id, name.as_str()))
        })
        .collect();
    let mut pending: Vec<(String, Option<u16>, Draft<ExternalAttachmentSpec>)> = Vec::new();
    for vrf in external_vrfs(index) {
        let external = vrf_name(index, vrf);
        let mut addresses: Vec<&IpAddress> =
            index.ips_by_vrf.get(&vrf.id).cloned().unwrap_or_default();
        addresses.sort_by_key(|a| a.id);
        for address in addresses {
            let Some(interface) = address
                .assigned_object_id
                .and_then(|id| index.interfaces.get(&id))
            else {
                continue;
            };
            let (port, vlan) = match connection_by_port.get(&interface.id) {
                Some(_) => (interface.id, None),
                None => match interface.parent.as_ref() {
                    Some(parent) if connection_by_port.contains_key(&parent.id) => {
                        (parent.id, sub_interface_vlan(index, interface))
                    }
                    _ => continue,
                },
            };
            let connection = connection_by_port[&port].to_owned();
            let switch = names.get(&interface.device.id).cloned().unwrap_or_default();
            let spec =
                attachment_spec(index, vrf, &external, connection, vlan, address, violations);
            let fields = &address.custom_fields;
            let name = fields.string(&cf.name);
            let base = format!("{switch}--{external}");
            let draft = Draft::new(name.unwrap_or_default(), spec, vec![SourceRef::of(address)]);
            pending.push((base, vlan, draft));
        }
    }
    name_attachments(pending)
}

/// An attachment's spec: static (remote IP, proxy) when the external has static prefixes,
/// else BGP (switch address, neighbor ASN and IP).
fn attachment_spec(
    index: &Index,
    vrf: &Vrf,
    external: &str,
    connection: String,
    vlan: Option<u16>,
    address: &IpAddress,
    violations: &mut Violations,
) -> ExternalAttachmentSpec {
    let cf = &index.mapping().custom_fields;
    let is_static = vrf.custom_fields.raw(&cf.static_prefixes).is_some();
    let fields = &address.custom_fields;
    let asn = fields
        .integer(&cf.neighbor_asn)
        .and_then(|a| u32::try_from(a).ok());
    if is_static {
        let proxy = fields.boolean(&cf.static_proxy).unwrap_or(false);
        let remote_ip = fields.string(&cf.static_remote_ip).unwrap_or_default();
        if remote_ip.is_empty() {
            violations.source(vec![SourceRef::of(address)], format!("IP address {} attaches static external {external}: set its custom field {} to the remote IP", address.address, cf.static_remote_ip));
        }
        ExternalAttachmentSpec {
            external: external.to_owned(),
            connection,
            static_attachment: Some(AttachmentStatic {
                remote_ip,
                vlan,
                ip: (!proxy).then(|| address.address.clone()),
                proxy,
            }),
            ..ExternalAttachmentSpec::default()
        }
    } else {
        ExternalAttachmentSpec {
            external: external.to_owned(),
            connection,
            switch: AttachmentSwitch {
                vlan,
                ip: Some(address.address.clone()),
            },
            neighbor: AttachmentNeighbor {
                asn,
                ip: fields.string(&cf.neighbor_ip),
            },
            static_attachment: None,
        }
    }
}

/// Attachments without a kept name are named `<switch>--<external>`, with the VLAN (or the
/// address's id) added where that name is shared.
fn name_attachments(
    pending: Vec<(String, Option<u16>, Draft<ExternalAttachmentSpec>)>,
) -> Vec<Draft<ExternalAttachmentSpec>> {
    let mut count: HashMap<String, usize> = HashMap::new();
    for (base, _, _) in &pending {
        *count.entry(base.clone()).or_default() += 1;
    }
    let mut out: Vec<_> = pending
        .into_iter()
        .map(|(base, vlan, mut draft)| {
            if draft.name.is_empty() {
                draft.name = match vlan {
                    Some(vlan) if count[&base] > 1 => format!("{base}--{vlan}"),
                    _ if count[&base] > 1 => format!("{base}--{}", draft.sources[0].id),
                    _ => base,
                };
                draft.name = shorten(&draft.name, OBJECT_NAME_MAX);
            }
            draft
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A sub-interface's VLAN: its untagged VLAN, else the number after the dot (`E1/5.100`).
fn sub_interface_vlan(index: &Index, interface: &Interface) -> Option<u16> {
    interface
        .untagged_vlan
        .as_ref()
        .and_then(|v| index.vid(v))
        .or_else(|| {
            interface
                .name
                .rsplit_once('.')
                .and_then(|(_, v)| v.parse().ok())
        })
}

/// An ExternalPeering for each VPC VRF that imports a route target an External VRF exports.
pub(crate) fn render_external_peerings(
    index: &Index,
    vpcs: &RenderedVpcs,
) -> Vec<Draft<ExternalPeeringSpec>> {
    let cf = &index.mapping().custom_fields;
    let externals = external_vrfs(index);
    let exported = exporters(&externals);
    let by_id: HashMap<u64, &Vrf> = externals.iter().map(|v| (v.id, *v)).collect();
    let specs: HashMap<&str, &VPCSpec> = vpcs
        .vpcs
        .iter()
        .map(|d| (d.name.as_str(), &d.spec))
        .collect();
    let mut out: BTreeMap<String, Draft<ExternalPeeringSpec>> = BTreeMap::new();
    for vrf in vpc_vrfs(index) {
        let Some(vpc) = vpcs.name_by_vrf.get(&vrf.id) else {
            continue;
        };
        for rt in &vrf.import_targets {
            for ext_id in exported.get(&rt.id).into_iter().flatten() {
                let Some(ext) = by_id.get(ext_id) else {
                    continue;
                };
                let external = vrf_name(index, ext);
                let mut prefixes = ext.custom_fields.strings(&cf.permit_prefixes);
                if prefixes.is_empty() {
                    prefixes.push("0.0.0.0/0".into());
                }
                let spec = ExternalPeeringSpec {
                    permit: ExternalPeeringPermit {
                        vpc: PeeringVpc {
                            name: vpc.clone(),
                            subnets: specs
                                .get(vpc.as_str())
                                .map(|s| s.subnets.keys().cloned().collect())
                                .unwrap_or_default(),
                        },
                        external: PeeringExternal {
                            name: external.clone(),
                            prefixes: prefixes
                                .into_iter()
                                .map(|prefix| PeeringPrefix { prefix })
                                .collect(),
                        },
                    },
                };
                let name = shorten(&format!("{vpc}--{external}"), OBJECT_NAME_MAX);
                out.entry(name.clone()).or_insert_with(|| {
                    Draft::new(name, spec, vec![SourceRef::of(vrf), SourceRef::of(*ext)])
                });
            }
        }
    }
    out.into_values().collect()
}
