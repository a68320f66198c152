//! Features a switch's profile must have for what is attached to it: L2VNI and L3VNI for a VPC
//! attachment (the fabric's VPCAttachment webhook), subinterfaces for an external attachment
//! on a VLAN (checked by the sidecar only: the fabric's webhooks admit it, and the switch then
//! cannot configure it).

use crate::mapping::objects::{FabricObjects, by_name};
use crate::profiles::SwitchProfiles;

use super::Violations;

pub fn check(catalog: &SwitchProfiles, o: &FabricObjects, out: &mut Violations) {
    let switches = by_name(&o.switches);
    let connections = by_name(&o.connections);
    let vpcs = by_name(&o.vpcs);
    let profile_of = |switch: &str| {
        let name = switches.get(switch)?.spec.profile.as_deref()?;
        Some((name, catalog.get(name)?))
    };
    for att in &o.vpc_attachments {
        let (vpc_name, _) = att.spec.vpc_and_subnet();
        let (Some(vpc), Some(conn)) = (
            vpcs.get(vpc_name),
            connections.get(att.spec.connection.as_str()),
        ) else {
            continue; // reported by the attachment rules
        };
        let l3vni_only = vpc.spec.mode == "l3vni";
        for switch in conn.spec.switch_names() {
            let Some((name, profile)) = profile_of(switch) else {
                continue;
            };
            let f = &profile.features;
            let (supported, needs) = if l3vni_only {
                (f.l3vni, "L3VNI")
            } else {
                (f.l2vni && f.l3vni, "L2VNI and L3VNI")
            };
            if !supported {
                out.object(att, format!("VPC {vpc_name} needs {needs} on switch {switch}, and its switch profile {name} does not support it (L2VNI: {}, L3VNI: {}); attach the VLAN on another switch{}", f.l2vni, f.l3vni, if l3vni_only { "" } else { ", or make the VPC l3vni (custom field hedgehog_vpc_mode) if the profile has L3VNI" }));
            }
        }
    }
    for att in &o.external_attachments {
        let vlan = att.spec.switch.vlan.or(att
            .spec
            .static_attachment
            .as_ref()
            .and_then(|s| s.vlan));
        if vlan.is_none_or(|v| v == 0) {
            continue;
        }
        let Some(conn) = connections.get(att.spec.connection.as_str()) else {
            continue;
        };
        for switch in conn.spec.switch_names() {
            if let Some((name, profile)) = profile_of(switch)
                && !profile.features.subinterfaces
            {
                out.object(att, format!("an external attachment on VLAN {} needs a subinterface on switch {switch}, and its switch profile {name} does not support subinterfaces; attach the external without a VLAN (the IP address on the interface itself)", vlan.unwrap_or_default()));
            }
        }
    }
}
