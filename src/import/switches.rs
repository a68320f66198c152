//! Switches become devices of the fabric (role, profile, ASN, addresses, boot MAC, breakouts
//! and port speeds); servers become server devices; SwitchGroups need nothing of their own.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::config::MappingConfig;
use crate::model::SwitchSpec;
use crate::netbox::types::CustomFields;

use super::builder::{Builder, DeviceKind};
use super::input::{Input, Typed};

/// The management port: holds the switch's IP (primary IPv4) and boot MAC.
pub(crate) const MANAGEMENT_PORT: &str = "M1";
/// A virtual interface holding the protocol and VTEP addresses.
pub(crate) const LOOPBACK: &str = "lo";

pub(crate) fn import_switches(b: &mut Builder, input: &Input) {
    for switch in &input.switches {
        import_switch(b, switch);
    }
    check_switch_groups(b, input);
}

fn import_switch(b: &mut Builder, switch: &Typed<SwitchSpec>) {
    let m = b.mapping();
    let s = &switch.spec;
    let key = &switch.key;
    let (role_slug, role_field) = switch_role(m, &s.role);
    let fields = switch_fields(b, s, role_field);
    let device_type = device_type(m, s.profile.as_deref());
    let Some(device) = b.device(
        key,
        switch.name(),
        DeviceKind::Switch,
        &device_type,
        s.description.as_deref(),
        fields,
    ) else {
        return;
    };
    if let Some(d) = b.device_mut(device) {
        d.role = super::builder::by_slug(&role_slug);
        d.serial = s.boot.serial.clone();
    }
    if s.boot.serial.is_some() && s.boot.mac.is_some() {
        b.problems.note(
            key,
            "boot has both serial and mac; NetBox keeps both, but the switch renders with mac only",
        );
    }
    import_addresses(b, device, s);
    import_port_speeds(b, device, switch);
    note_unrepresented(b, switch);
}

/// The switch's custom fields: role (when no role slug stands for it), profile, ASN,
/// redundancy, groups, VLAN namespaces and breakouts.
fn switch_fields(b: &Builder, s: &SwitchSpec, role_field: Option<String>) -> CustomFields {
    let cf = &b.mapping().custom_fields;
    let redundancy_group = s.redundancy.group.clone();
    let groups: Vec<&str> = s
        .groups
        .iter()
        .filter(|g| Some(*g) != redundancy_group.as_ref())
        .map(String::as_str)
        .collect();
    let namespaces = match s.vlan_namespaces.as_slice() {
        [] => Value::Null,
        [only] if only == "default" => Value::Null,
        many => json!(many.join(",")),
    };
    let groups = if groups.is_empty() {
        Value::Null
    } else {
        json!(groups.join(","))
    };
    let breakouts = if s.port_breakouts.is_empty() {
        Value::Null
    } else {
        json!(s.port_breakouts)
    };
    b.fields(&[
        (
            cf.role.as_str(),
            role_field.map_or(Value::Null, |r| json!(r)),
        ),
        (cf.profile.as_str(), json!(s.profile)),
        (cf.asn.as_str(), json!(s.asn)),
        (cf.redundancy_group.as_str(), json!(redundancy_group)),
        (cf.redundancy_type.as_str(), json!(s.redundancy.kind)),
        (cf.groups.as_str(), groups),
        (cf.vlan_namespaces.as_str(), namespaces),
        (cf.port_breakouts.as_str(), breakouts),
    ])
}

/// The management port with the switch's IP and boot MAC, and the loopback with its protocol
/// and VTEP addresses.
fn import_addresses(b: &mut Builder, device: u64, s: &SwitchSpec) {
    let m = b.mapping();
    if s.ip.is_some() || s.boot.mac.is_some() {
        let management = b.interface(device, MANAGEMENT_PORT, "1000base-t");
        if let Some(i) = b.interface_mut(management) {
            i.mgmt_only = Some(true);
        }
        if let Some(mac) = &s.boot.mac {
            b.mac(management, mac);
        }
        if let Some(ip) = &s.ip {
            let fields = b.fields(&[]);
            let address = b.ip(ip, Some(management), None, None, &[], fields);
            b.set_primary_ip(device, address);
        }
    }
    for (address, tag) in [
        (&s.protocol_ip, m.tag_protocol_ip.as_str()),
        (&s.vtep_ip, m.tag_vtep_ip.as_str()),
    ] {
        if let Some(address) = address {
            let lo = b.interface(device, LOOPBACK, "virtual");
            let fields = b.fields(&[]);
            b.ip(address, Some(lo), None, None, &[tag], fields);
        }
    }
}

/// Port speeds become the interfaces' speeds; a speed NetBox cannot store is reported.
fn import_port_speeds(b: &mut Builder, device: u64, switch: &Typed<SwitchSpec>) {
    for (port, speed) in &switch.spec.port_speeds {
        match speed_kbps(speed) {
            Some(kbps) => {
                let interface = b.interface(device, port, "other");
                if let Some(i) = b.interface_mut(interface) {
                    i.speed = Some(kbps);
                }
            }
            None => b.problems.note(
                &switch.key,
                format!(
                    "port speed {port}: {speed} is not a speed NetBox can store (e.g. 25G, 100M)"
                ),
            ),
        }
    }
}

/// Reports the switch settings the NetBox model has no place for.
fn note_unrepresented(b: &mut Builder, switch: &Typed<SwitchSpec>) {
    let s = &switch.spec;
    let unrepresented = [
        ("portGroupSpeeds", !s.port_group_speeds.is_empty()),
        ("portAutoNegs", !s.port_auto_negs.is_empty()),
        ("portFECs", !s.port_fecs.is_empty()),
        ("enableAllPorts", s.enable_all_ports),
        ("roce", s.roce),
    ];
    for (field, set) in unrepresented {
        if set {
            b.problems.note(
                &switch.key,
                format!("{field} has no place in the NetBox model and is not imported"),
            );
        }
    }
}

/// The device role slug of a Hedgehog switch role, and the `hedgehog_role` value when no role
/// slug of the mapping stands for it.
fn switch_role(m: &MappingConfig, role: &str) -> (String, Option<String>) {
    if m.switch_roles.get(role).is_some_and(|r| r == role) {
        return (role.to_owned(), None);
    }
    match m.switch_roles.iter().find(|(_, r)| *r == role) {
        Some((slug, _)) => (slug.clone(), None),
        None => (role.to_owned(), Some(role.to_owned())),
    }
}

/// The device type slug of a switch: the mapping's slug for its profile, else the profile.
fn device_type(m: &MappingConfig, profile: Option<&str>) -> String {
    let Some(profile) = profile else {
        return "hedgehog-switch".into();
    };
    m.device_type_profiles
        .iter()
        .find(|(_, p)| p.as_str() == profile)
        .map_or_else(|| super::builder::slug(profile), |(slug, _)| slug.clone())
}

/// `25G` → 25 000 000 kbit/s, `100M` → 100 000 (NetBox stores kbit/s).
pub(crate) fn speed_kbps(speed: &str) -> Option<u64> {
    let (number, unit) = speed.split_at(speed.len().checked_sub(1)?);
    let number: u64 = number.parse().ok()?;
    match unit {
        "G" => number.checked_mul(1_000_000),
        "M" => number.checked_mul(1_000),
        _ => None,
    }
    .filter(|k| *k > 0)
}

/// A SwitchGroup exists in NetBox only as a name a switch carries.
fn check_switch_groups(b: &mut Builder, input: &Input) {
    let named: BTreeSet<&str> = input
        .switches
        .iter()
        .flat_map(|s| {
            s.spec
                .groups
                .iter()
                .chain(s.spec.redundancy.group.iter())
                .map(String::as_str)
        })
        .collect();
    for group in &input.switch_groups {
        if !named.contains(group.name.as_str()) {
            b.problems.note(
                group,
                "no switch names this group; a group no switch names cannot be represented in NetBox",
            );
        }
    }
}

pub(crate) fn import_servers(b: &mut Builder, input: &Input) {
    let profile_field = b.mapping().custom_fields.profile.clone();
    for server in &input.servers {
        let fields = b.fields(&[(profile_field.as_str(), json!(server.spec.profile))]);
        b.device(
            &server.key,
            server.name(),
            DeviceKind::Server,
            "generic-server",
            server.spec.description.as_deref(),
            fields,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_convert_to_kbps_and_reject_what_netbox_cannot_hold() {
        assert_eq!(speed_kbps("25G"), Some(25_000_000));
        assert_eq!(speed_kbps("100M"), Some(100_000));
        assert_eq!(speed_kbps("0G"), None);
        assert_eq!(speed_kbps("fast"), None);
        assert_eq!(speed_kbps(""), None);
    }

    #[test]
    fn switch_roles_prefer_the_slug_of_the_same_name_and_fall_back_to_the_custom_field() {
        let m = MappingConfig::default();
        assert_eq!(switch_role(&m, "server-leaf"), ("server-leaf".into(), None));
        assert_eq!(switch_role(&m, "spine"), ("spine".into(), None));
        assert_eq!(
            switch_role(&m, "virtual-edge"),
            ("virtual-edge".into(), Some("virtual-edge".into()))
        );
    }
}
