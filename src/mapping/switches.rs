//! Switches and SwitchGroups from the fabric's devices.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::SwitchGroupSpec;
use crate::model::switch::{SwitchBoot, SwitchRedundancy, SwitchSpec};
use crate::netbox::types::{Device, Interface, NetBoxObject};

use super::index::{DeviceRole, Index};
use super::naming::{LABEL_NAME_MAX, shorten};
use super::objects::Draft;
use super::ports::{PortNames, RenderedSpeeds, render_speeds};
use super::sources::SourceRef;
use super::validate::Violations;

/// Hedgehog names of devices (switches and servers), by device id.
pub(crate) type DeviceNames = HashMap<u64, String>;

/// The object name of a device: `hedgehog_name` when set, else the device name, shortened.
pub fn device_name(index: &Index, device: &Device) -> String {
    let name = device
        .custom_fields
        .string(&index.mapping().custom_fields.name)
        .unwrap_or_else(|| device.display_name());
    shorten(&name, LABEL_NAME_MAX)
}

pub(crate) fn render_switches(
    index: &Index,
    names: &mut DeviceNames,
    violations: &mut Violations,
) -> Vec<Draft<SwitchSpec>> {
    let mut out = Vec::new();
    for device in &index.snapshot.devices {
        let DeviceRole::Switch(role) = index.role(device.id) else {
            continue;
        };
        let name = device_name(index, device);
        names.insert(device.id, name.clone());
        let spec = switch_spec(index, device, role, violations);
        out.push(Draft::new(name, spec, vec![SourceRef::of(device)]));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn switch_spec(
    index: &Index,
    device: &Device,
    role: &str,
    violations: &mut Violations,
) -> SwitchSpec {
    let mapping = index.mapping();
    let fields = &device.custom_fields;
    let profile = switch_profile(mapping, device);
    let asn = switch_asn(index, device, violations);
    let device_ips = index.device_ips(device.id);
    let tagged = |tag: &str| {
        device_ips
            .iter()
            .find(|a| Index::tagged(&a.tags, tag))
            .map(|a| a.address.clone())
    };
    let (redundancy, groups) = redundancy_and_groups(index, device);
    let mut vlan_namespaces = fields.strings(&mapping.custom_fields.vlan_namespaces);
    if vlan_namespaces.is_empty() {
        vlan_namespaces.push("default".into());
    }
    let port_breakouts = port_breakouts(index, device, violations);
    let speeds = switch_speeds(
        index,
        device,
        profile.as_deref(),
        &port_breakouts,
        violations,
    );
    SwitchSpec {
        role: role.to_owned(),
        description: device.description.clone().filter(|d| !d.is_empty()),
        profile,
        groups,
        redundancy,
        vlan_namespaces,
        asn,
        ip: management_ip(index, device),
        protocol_ip: tagged(&mapping.tag_protocol_ip),
        vtep_ip: tagged(&mapping.tag_vtep_ip),
        port_speeds: speeds.port_speeds,
        port_group_speeds: speeds.port_group_speeds,
        port_breakouts,
        boot: switch_boot(index, device),
        ..SwitchSpec::default()
    }
}

/// The switch's ASN from its custom field; a value out of range is reported and left out.
fn switch_asn(index: &Index, device: &Device, violations: &mut Violations) -> Option<u32> {
    let field = &index.mapping().custom_fields.asn;
    let asn = device.custom_fields.integer(field)?;
    match u32::try_from(asn) {
        Ok(asn) => Some(asn),
        Err(_) => {
            violations.source(
                vec![SourceRef::of(device)],
                format!("custom field {field} = {asn} is not a valid ASN (0–4294967295)"),
            );
            None
        }
    }
}

/// The device's primary IPv4 address, from the nested object or the fabric's addresses.
fn management_ip(index: &Index, device: &Device) -> Option<String> {
    device.primary_ip4.as_ref().and_then(|nested| {
        nested
            .address
            .clone()
            .or_else(|| index.ips_by_id.get(&nested.id).map(|a| a.address.clone()))
    })
}

/// The switch's redundancy and its groups (those it names, and its redundancy group).
fn redundancy_and_groups(index: &Index, device: &Device) -> (SwitchRedundancy, Vec<String>) {
    let cf = &index.mapping().custom_fields;
    let fields = &device.custom_fields;
    let redundancy_group = fields.string(&cf.redundancy_group);
    // A type without a group is kept (and reported by validation), not silently dropped.
    let redundancy = SwitchRedundancy {
        kind: fields
            .string(&cf.redundancy_type)
            .or_else(|| redundancy_group.as_ref().map(|_| "eslag".into())),
        group: redundancy_group.clone(),
    };
    let groups: BTreeSet<String> = fields
        .strings(&cf.groups)
        .into_iter()
        .chain(redundancy_group)
        .collect();
    (redundancy, groups.into_iter().collect())
}

/// The port breakouts custom field; a value that is not a JSON object of strings is reported
/// and taken as no breakouts.
fn port_breakouts(
    index: &Index,
    device: &Device,
    violations: &mut Violations,
) -> BTreeMap<String, String> {
    let field = &index.mapping().custom_fields.port_breakouts;
    let Some(value) = device.custom_fields.raw(field) else {
        return BTreeMap::new();
    };
    serde_json::from_value::<BTreeMap<String, String>>(value.clone()).unwrap_or_else(|_| {
        violations.source(
            vec![SourceRef::of(device)],
            format!(
                "custom field {field} must be a JSON object of port → breakout mode, e.g. {{\"E1/1\": \"4x25G\"}}"
            ),
        );
        BTreeMap::new()
    })
}

fn device_interfaces<'i>(index: &'i Index, device: &Device) -> &'i [&'i Interface] {
    index
        .interfaces_by_device
        .get(&device.id)
        .map_or(&[][..], Vec::as_slice)
}

/// The speeds of the switch's data ports, as its profile names its ports; problems with them
/// are reported.
fn switch_speeds(
    index: &Index,
    device: &Device,
    profile: Option<&str>,
    port_breakouts: &BTreeMap<String, String>,
    violations: &mut Violations,
) -> RenderedSpeeds {
    let speeds: Vec<(&str, String)> = device_interfaces(index, device)
        .iter()
        .filter(|i| i.mgmt_only != Some(true) && i.parent.is_none())
        .filter_map(|i| Some((i.name.as_str(), speed_name(i.speed?)?)))
        .collect();
    let known_profile = profile.and_then(|name| Some((name, index.mapping().profiles.get(name)?)));
    let names = PortNames::new(known_profile.map(|(_, p)| p), port_breakouts);
    let mut speeds = render_speeds(known_profile, port_breakouts, &names, &speeds);
    for problem in std::mem::take(&mut speeds.problems) {
        violations.source(vec![SourceRef::of(device)], problem);
    }
    speeds
}

/// How the fabric boots the switch: by the boot MAC field, else its management interface's
/// MAC, else its serial. A MAC is the more specific, so it wins.
fn switch_boot(index: &Index, device: &Device) -> SwitchBoot {
    let management_mac = device_interfaces(index, device)
        .iter()
        .filter(|i| i.mgmt_only == Some(true))
        .min_by_key(|i| i.id)
        .and_then(|i| {
            index
                .macs_by_interface
                .get(&i.id)?
                .first()
                .map(|m| m.to_string())
        });
    let mac = device
        .custom_fields
        .string(&index.mapping().custom_fields.boot_mac)
        .or(management_mac);
    SwitchBoot {
        serial: if mac.is_none() {
            device.serial.clone().filter(|s| !s.is_empty())
        } else {
            None
        },
        mac: mac.map(|m| m.to_ascii_lowercase()),
    }
}

/// A switch's profile: custom field `hedgehog_profile`, else its device type's slug through
/// the fabric's `device_type_profiles`, else the slug itself when a profile has that name.
fn switch_profile(mapping: &crate::config::MappingConfig, device: &Device) -> Option<String> {
    let from_field = device.custom_fields.string(&mapping.custom_fields.profile);
    from_field.or_else(|| {
        let slug = device.device_type.as_ref()?.slug.as_ref()?;
        match mapping.device_type_profiles.get(slug) {
            Some(profile) => Some(profile.clone()),
            None => mapping.profiles.get(slug).map(|_| slug.clone()),
        }
    })
}

/// NetBox speeds are kbit/s; Hedgehog writes `25G`, `100G`, `100M`.
fn speed_name(kbps: u64) -> Option<String> {
    match kbps {
        0 => None,
        k if k % 1_000_000 == 0 => Some(format!("{}G", k / 1_000_000)),
        k if k % 1_000 == 0 => Some(format!("{}M", k / 1_000)),
        _ => None,
    }
}

/// One SwitchGroup per group a switch names, sourced from the switches that name it.
pub(crate) fn render_switch_groups(switches: &[Draft<SwitchSpec>]) -> Vec<Draft<SwitchGroupSpec>> {
    let mut groups: BTreeMap<&str, Vec<SourceRef>> = BTreeMap::new();
    for switch in switches {
        for group in &switch.spec.groups {
            groups
                .entry(group)
                .or_default()
                .extend(switch.sources.iter().cloned());
        }
    }
    groups
        .into_iter()
        .map(|(name, sources)| Draft::new(name, SwitchGroupSpec {}, sources))
        .collect()
}
