//! VPCs (VRFs), their attachments to server-facing connections, and VPC peerings (route
//! targets imported both ways).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::vpc::{DhcpOptions, DhcpRange, StaticRoute, VPCDhcp, VPCSubnet};
use crate::model::vpc_peering::PeeringSubnets;
use crate::model::{VPCAttachmentSpec, VPCPeeringSpec, VPCSpec};
use crate::netbox::types::{Prefix, Vrf};

use super::index::Index;
use super::naming::{OBJECT_NAME_MAX, shorten, slugify};
use super::objects::{ConnectionFacts, Draft};
use super::sources::SourceRef;
use super::validate::Violations;

/// The object name of a VRF: `hedgehog_name` when set, else the VRF name.
pub(crate) fn vrf_name(index: &Index, vrf: &Vrf) -> String {
    vrf.custom_fields
        .string(&index.mapping().custom_fields.name)
        .unwrap_or_else(|| vrf.name.clone())
}

/// The fabric's VPC VRFs (in the fabric, not tagged external), in id order.
pub(crate) fn vpc_vrfs<'a>(index: &Index<'a>) -> Vec<&'a Vrf> {
    fabric_vrfs(index, false)
}

/// The fabric's VRFs tagged external (`true`) or not (`false`), in the snapshot's order.
pub(crate) fn fabric_vrfs<'a>(index: &Index<'a>, external: bool) -> Vec<&'a Vrf> {
    index
        .snapshot
        .vrfs
        .iter()
        .filter(|v| {
            index.in_fabric(&v.custom_fields)
                && Index::tagged(&v.tags, &index.mapping().tag_external) == external
        })
        .collect()
}

/// VPCs, plus which VPC subnet each NetBox VLAN (by id) is.
pub(crate) struct RenderedVpcs {
    pub vpcs: Vec<Draft<VPCSpec>>,
    pub subnet_by_vlan: HashMap<u64, (String, String)>,
    pub name_by_vrf: HashMap<u64, String>,
}

pub(crate) fn render_vpcs(index: &Index, violations: &mut Violations) -> RenderedVpcs {
    let cf = &index.mapping().custom_fields;
    let mut out = RenderedVpcs {
        vpcs: Vec::new(),
        subnet_by_vlan: HashMap::new(),
        name_by_vrf: HashMap::new(),
    };
    for vrf in vpc_vrfs(index) {
        let name = vrf_name(index, vrf);
        out.name_by_vrf.insert(vrf.id, name.clone());
        let mut spec = vpc_spec(index, vrf, violations);
        let mut parts = BTreeMap::new();
        let mut prefixes: Vec<&Prefix> = index
            .prefixes_by_vrf
            .get(&vrf.id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|p| p.vlan.is_some())
            .collect();
        prefixes.sort_by_key(|p| p.id);
        for prefix in prefixes {
            let Some(nested) = &prefix.vlan else { continue };
            let vlan = index.vlans.get(&nested.id);
            let subnet_name = prefix
                .custom_fields
                .string(&cf.subnet_name)
                .unwrap_or_else(|| {
                    slugify(
                        vlan.map(|v| v.name.as_str())
                            .or(nested.name.as_deref())
                            .unwrap_or_default(),
                    )
                });
            let subnet = subnet_of(index, vrf, prefix, violations);
            if spec.subnets.insert(subnet_name.clone(), subnet).is_some() {
                violations.source(
                    vec![SourceRef::of(prefix)],
                    format!("VPC {name} has two subnets named {subnet_name}; give one of its prefixes another custom field {} (or its VLAN another name)", cf.subnet_name),
                );
                continue;
            }
            parts.insert(subnet_name.clone(), SourceRef::of(prefix));
            out.subnet_by_vlan
                .insert(nested.id, (name.clone(), subnet_name));
        }
        let mut draft = Draft::new(name, spec, vec![SourceRef::of(vrf)]);
        draft.parts = parts;
        out.vpcs.push(draft);
    }
    out.vpcs.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A VPC's spec from its VRF's custom fields, without subnets.
fn vpc_spec(index: &Index, vrf: &Vrf, violations: &mut Violations) -> VPCSpec {
    let cf = &index.mapping().custom_fields;
    let fields = &vrf.custom_fields;
    let permit: Vec<Vec<String>> = json_field(
        vrf,
        &cf.vpc_permit,
        "a JSON list of lists of subnet names",
        violations,
    )
    .unwrap_or_default();
    let static_routes: Vec<StaticRoute> = json_field(
        vrf,
        &cf.vpc_static_routes,
        "a JSON list of {\"prefix\", \"nextHops\"}",
        violations,
    )
    .unwrap_or_default();
    VPCSpec {
        mode: fields.string(&cf.vpc_mode).unwrap_or_default(),
        ipv4_namespace: Some(
            fields
                .string(&cf.ipv4_namespace)
                .unwrap_or_else(|| "default".into()),
        ),
        vlan_namespace: Some(
            fields
                .string(&cf.vlan_namespace)
                .unwrap_or_else(|| "default".into()),
        ),
        default_isolated: fields.boolean(&cf.isolated).unwrap_or(false),
        default_restricted: fields.boolean(&cf.restricted).unwrap_or(false),
        permit,
        static_routes,
        subnets: BTreeMap::new(),
    }
}

/// A JSON custom field read into `T`; a value of the wrong shape is a violation on `vrf`.
fn json_field<T: serde::de::DeserializeOwned>(
    vrf: &Vrf,
    field: &str,
    what: &str,
    violations: &mut Violations,
) -> Option<T> {
    let value = vrf.custom_fields.raw(field)?;
    serde_json::from_value(value.clone())
        .map_err(|e| {
            violations.source(
                vec![SourceRef::of(vrf)],
                format!("custom field {field} must be {what} ({e})"),
            )
        })
        .ok()
}

fn subnet_of(index: &Index, vrf: &Vrf, prefix: &Prefix, violations: &mut Violations) -> VPCSubnet {
    let mapping = index.mapping();
    let cf = &mapping.custom_fields;
    let fields = &prefix.custom_fields;
    let net = prefix.prefix.parse::<Ipv4Net>().ok();
    let inside = |address: &str| -> bool {
        let host = address.split('/').next().unwrap_or_default();
        match (net, host.parse::<Ipv4Addr>()) {
            (Some(net), Ok(ip)) => net.contains(&ip),
            _ => false,
        }
    };
    let host = |address: &str| address.split('/').next().unwrap_or_default().to_owned();
    let gateway = index
        .ips_by_vrf
        .get(&vrf.id)
        .into_iter()
        .flatten()
        .filter(|a| {
            a.role
                .as_ref()
                .is_some_and(|r| r.value == mapping.gateway_ip_role)
        })
        .filter(|a| inside(&a.address))
        .min_by_key(|a| a.id)
        .map(|a| host(&a.address));
    let range = index
        .ranges_by_vrf
        .get(&vrf.id)
        .into_iter()
        .flatten()
        .filter(|r| {
            r.role.as_ref().and_then(|r| r.slug.as_deref())
                == Some(mapping.dhcp_range_role.as_str())
        })
        .filter(|r| inside(&r.start_address))
        .min_by_key(|r| r.id)
        .map(|r| DhcpRange {
            start: Some(host(&r.start_address)),
            end: Some(host(&r.end_address)),
        });
    let options = fields.raw(&cf.dhcp_options).and_then(|value| {
        serde_json::from_value::<DhcpOptions>(value.clone())
            .map_err(|e| {
                violations.source(
                    vec![SourceRef::of(prefix)],
                    format!("custom field {} must be a JSON object of DHCP options (pxeURL, dnsServers, timeServers, interfaceMTU, leaseTimeSeconds, disableDefaultRoute, advertisedRoutes): {e}", cf.dhcp_options),
                )
            })
            .ok()
    });
    let relay = fields.string(&cf.dhcp_relay);
    let enable = fields.boolean(&cf.dhcp_enable).unwrap_or(range.is_some());
    let dhcp =
        (enable || relay.is_some() || range.is_some() || options.is_some()).then(|| VPCDhcp {
            enable,
            relay,
            range,
            options,
            ..VPCDhcp::default()
        });
    VPCSubnet {
        subnet: prefix.prefix.clone(),
        gateway,
        vlan: prefix.vlan.as_ref().and_then(|v| index.vid(v)),
        isolated: fields.boolean(&cf.isolated).unwrap_or(false),
        restricted: fields.boolean(&cf.restricted).unwrap_or(false),
        host_bgp: fields.boolean(&cf.host_bgp).unwrap_or(false),
        dhcp,
    }
}

/// One attachment per VPC subnet whose VLAN is on a server-facing connection's switch ports.
pub(crate) fn render_vpc_attachments(
    index: &Index,
    facts: &BTreeMap<String, ConnectionFacts>,
    subnet_by_vlan: &HashMap<u64, (String, String)>,
) -> Vec<Draft<VPCAttachmentSpec>> {
    let mut out = Vec::new();
    for (connection, fact) in facts {
        if !fact.kind.is_server_facing() {
            continue;
        }
        // (vpc, subnet) → (native, interfaces carrying it)
        let mut found: BTreeMap<(String, String), (bool, Vec<SourceRef>)> = BTreeMap::new();
        for interface in fact
            .vlan_interfaces
            .iter()
            .filter_map(|id| index.interfaces.get(id))
        {
            let mode = interface
                .mode
                .as_ref()
                .map(|m| m.value.to_ascii_lowercase());
            if !matches!(mode.as_deref(), Some("access" | "tagged")) {
                continue;
            }
            let untagged = interface.untagged_vlan.iter().map(|v| (v.id, true));
            let tagged = interface.tagged_vlans.iter().map(|v| (v.id, false));
            for (vlan, native) in untagged.chain(tagged) {
                if let Some(key) = subnet_by_vlan.get(&vlan) {
                    let entry = found.entry(key.clone()).or_default();
                    entry.0 |= native;
                    entry.1.push(SourceRef::of(*interface));
                }
            }
        }
        let mut per_vpc: HashMap<&str, usize> = HashMap::new();
        for (vpc, _) in found.keys() {
            *per_vpc.entry(vpc).or_default() += 1;
        }
        for ((vpc, subnet), (native, sources)) in &found {
            let name = if per_vpc[vpc.as_str()] > 1 {
                format!("{vpc}--{subnet}--{connection}")
            } else {
                format!("{vpc}--{connection}")
            };
            let spec = VPCAttachmentSpec {
                subnet: format!("{vpc}/{subnet}"),
                connection: connection.clone(),
                native_vlan: *native,
            };
            out.push(Draft::new(
                shorten(&name, OBJECT_NAME_MAX),
                spec,
                sources.clone(),
            ));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Route targets a VRF exports, by route target id → VRF ids.
pub(crate) fn exporters(vrfs: &[&Vrf]) -> HashMap<u64, Vec<u64>> {
    let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
    for vrf in vrfs {
        for rt in &vrf.export_targets {
            out.entry(rt.id).or_default().push(vrf.id);
        }
    }
    out
}

/// A VPCPeering for every pair of VPC VRFs that import a route target the other exports.
pub(crate) fn render_vpc_peerings(
    index: &Index,
    vpcs: &RenderedVpcs,
) -> Vec<Draft<VPCPeeringSpec>> {
    let vrfs = vpc_vrfs(index);
    let exported = exporters(&vrfs);
    let by_id: HashMap<u64, &Vrf> = vrfs.iter().map(|v| (v.id, *v)).collect();
    let imports = |vrf: &Vrf| -> BTreeSet<u64> {
        vrf.import_targets
            .iter()
            .flat_map(|rt| exported.get(&rt.id).into_iter().flatten().copied())
            .filter(|id| *id != vrf.id)
            .collect()
    };
    let subnets: HashMap<&str, Vec<String>> = vpcs
        .vpcs
        .iter()
        .map(|d| (d.name.as_str(), d.spec.subnets.keys().cloned().collect()))
        .collect();
    let mut pairs: BTreeMap<(String, String), Vec<SourceRef>> = BTreeMap::new();
    for vrf in &vrfs {
        for other in imports(vrf) {
            let Some(other_vrf) = by_id.get(&other) else {
                continue;
            };
            if !imports(other_vrf).contains(&vrf.id) {
                continue;
            }
            let (Some(a), Some(b)) = (vpcs.name_by_vrf.get(&vrf.id), vpcs.name_by_vrf.get(&other))
            else {
                continue;
            };
            let key = if a <= b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            pairs
                .entry(key)
                .or_insert_with(|| vec![SourceRef::of(*vrf), SourceRef::of(*other_vrf)]);
        }
    }
    pairs
        .into_iter()
        .map(|((a, b), sources)| {
            let entry = [&a, &b]
                .into_iter()
                .map(|vpc| {
                    let subnets = subnets.get(vpc.as_str()).cloned().unwrap_or_default();
                    (vpc.clone(), PeeringSubnets { subnets })
                })
                .collect();
            let spec = VPCPeeringSpec {
                permit: vec![entry],
                remote: None,
            };
            Draft::new(
                shorten(&format!("{a}--{b}"), OBJECT_NAME_MAX),
                spec,
                sources,
            )
        })
        .collect()
}
