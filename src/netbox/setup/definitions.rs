//! What the product needs in NetBox (see `design/netbox-model.md`): custom fields on the right
//! object types, the status choice set, tags, device roles, IPAM roles, the webhook and its
//! event rules (`event_rules.rs`). Names come from the fabrics' [`MappingConfig`], never literals.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::ensure::Desired;
use crate::config::{CustomFieldNames, MappingConfig};
use crate::netbox::endpoints::{self as ep, Endpoint, FABRIC_OBJECT_TYPES};

/// The choice set of the `hedgehog_status` select field.
pub const STATUS_CHOICE_SET: &str = "hedgehog-status";
pub const STATUS_CHOICES: &[(&str, &str)] = &[
    ("synced", "Synced"),
    ("pending", "Pending"),
    ("drifted", "Drifted"),
    ("invalid", "Invalid"),
    ("refused", "Refused"),
    ("error", "Error"),
    ("unknown", "Unknown"),
];
const GROUP: &str = "Hedgehog";

const DEVICE: &[&str] = &["dcim.device"];
const INTERFACE: &[&str] = &["dcim.interface"];
/// What discovery owns and records: devices, virtual machines and their interfaces.
const DISCOVERED: &[&str] = &[
    "dcim.device",
    "dcim.interface",
    "virtualization.virtualmachine",
    "virtualization.vminterface",
];
const PREFIX: &[&str] = &["ipam.prefix"];
const VRF: &[&str] = &["ipam.vrf"];
const PREFIX_VRF: &[&str] = &["ipam.prefix", "ipam.vrf"];
const IP: &[&str] = &["ipam.ipaddress"];
/// Static prefixes: an External's (VRF) and a static-external connection's peer (device).
const VRF_DEVICE: &[&str] = &["ipam.vrf", "dcim.device"];

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(crate) fn status_choice_set() -> Desired {
    let choices: Vec<Value> = STATUS_CHOICES.iter().map(|(v, l)| json!([v, l])).collect();
    Desired {
        endpoint: ep::CHOICE_SETS,
        key: "name",
        value: STATUS_CHOICE_SET.into(),
        body: object(json!({
            "name": STATUS_CHOICE_SET,
            "description": "Sync state written back by hedgehog-sidecar",
            "extra_choices": choices,
        })),
        union_fields: &[],
        kept_fields: &[],
    }
}

/// Custom fields of every fabric's mapping, merged by name (object types unioned).
pub fn custom_fields(mappings: &[MappingConfig]) -> Vec<Desired> {
    // Every fabric object type except MAC addresses (they carry no product data).
    let mapped: Vec<&str> = FABRIC_OBJECT_TYPES
        .iter()
        .copied()
        .filter(|t| *t != "dcim.macaddress")
        .collect();
    // The status fields also sit on each fabric's own record.
    let with_record: Vec<&str> = mapped
        .iter()
        .copied()
        .chain([crate::netbox::fabric_record::RECORD_OBJECT_TYPE])
        .collect();
    let mut by_name: BTreeMap<String, (Map<String, Value>, Vec<String>)> = BTreeMap::new();
    for mapping in mappings {
        let fields = field_definitions(&mapping.custom_fields, &mapped, &with_record);
        for (name, kind, object_types, description) in fields {
            let entry = by_name
                .entry(name.clone())
                .or_insert_with(|| (field_body(mapping, name, kind, description), Vec::new()));
            for object_type in object_types {
                if !entry.1.iter().any(|t| t == object_type) {
                    entry.1.push((*object_type).to_owned());
                }
            }
        }
    }
    by_name
        .into_iter()
        .map(|(name, (mut body, object_types))| {
            body.insert("object_types".into(), json!(object_types));
            // The fabric field may have been made a selection (`fabric_choices`): kept so.
            let is_fabric = mappings.iter().any(|m| m.custom_fields.fabric == name);
            Desired {
                endpoint: ep::CUSTOM_FIELDS,
                key: "name",
                value: name,
                body,
                union_fields: &["object_types"],
                kept_fields: if is_fabric {
                    &["type", "choice_set"]
                } else {
                    &[]
                },
            }
        })
        .collect()
}

/// One custom field: its name, NetBox type, object types and description.
type FieldDefinition<'a> = (&'a String, &'static str, &'a [&'a str], &'static str);

/// The product's custom fields under one mapping's names: a data table. `mapped` is every
/// fabric object type, `with_record` those and the fabric's own record.
fn field_definitions<'a>(
    f: &'a CustomFieldNames,
    mapped: &'a [&'a str],
    with_record: &'a [&'a str],
) -> Vec<FieldDefinition<'a>> {
    vec![
        (
            &f.fabric,
            "text",
            mapped,
            "Hedgehog fabric this object belongs to",
        ),
        (
            &f.role,
            "text",
            DEVICE,
            "Hedgehog switch role, overriding the device role",
        ),
        (
            &f.profile,
            "text",
            DEVICE,
            "Hedgehog SwitchProfile or server profile",
        ),
        (&f.asn, "integer", DEVICE, "Switch ASN"),
        (
            &f.boot_mac,
            "text",
            DEVICE,
            "Boot MAC when not the management interface's",
        ),
        (
            &f.redundancy_group,
            "text",
            DEVICE,
            "Redundancy group (switch group name)",
        ),
        (
            &f.redundancy_type,
            "text",
            DEVICE,
            "Redundancy type (default eslag)",
        ),
        (&f.groups, "text", DEVICE, "Switch groups, comma separated"),
        (
            &f.vlan_namespaces,
            "text",
            DEVICE,
            "VLAN namespaces, comma separated",
        ),
        (
            &f.port_breakouts,
            "json",
            DEVICE,
            "Port breakouts, {\"E1/1\": \"4x25G\"}",
        ),
        (
            &f.ipv4_namespace,
            "text",
            PREFIX_VRF,
            "IPv4Namespace name (default `default`)",
        ),
        (
            &f.vlan_namespace,
            "text",
            VRF,
            "VLANNamespace of a VPC (default `default`)",
        ),
        (
            &f.vpc_mode,
            "text",
            VRF,
            "VPC mode: empty for L2VNI, or l3vni (l3flat is not supported)",
        ),
        (
            &f.subnet_name,
            "text",
            PREFIX,
            "VPC subnet name (default: the VLAN's name)",
        ),
        (
            &f.isolated,
            "boolean",
            PREFIX_VRF,
            "VPC subnet isolated (on a VRF: defaultIsolated)",
        ),
        (
            &f.restricted,
            "boolean",
            PREFIX_VRF,
            "VPC subnet restricted (on a VRF: defaultRestricted)",
        ),
        (
            &f.host_bgp,
            "boolean",
            PREFIX,
            "VPC subnet with host BGP (hostBGP)",
        ),
        (
            &f.vpc_permit,
            "json",
            VRF,
            "VPC permit lists, [[\"subnet-1\", \"subnet-2\"]]",
        ),
        (
            &f.vpc_static_routes,
            "json",
            VRF,
            "VPC static routes, [{\"prefix\": ..., \"nextHops\": [...]}]",
        ),
        (
            &f.dhcp_enable,
            "boolean",
            PREFIX,
            "DHCP enabled on the VPC subnet",
        ),
        (&f.dhcp_relay, "text", PREFIX, "DHCP relay address"),
        (
            &f.dhcp_options,
            "json",
            PREFIX,
            "DHCP options of the VPC subnet",
        ),
        (
            &f.inbound_community,
            "text",
            VRF,
            "External inbound community",
        ),
        (
            &f.outbound_community,
            "text",
            VRF,
            "External outbound community",
        ),
        (
            &f.static_prefixes,
            "text",
            VRF_DEVICE,
            "Static external prefixes, comma separated",
        ),
        (&f.neighbor_ip, "text", IP, "External BGP neighbor IP"),
        (&f.neighbor_asn, "integer", IP, "External BGP neighbor ASN"),
        (&f.static_remote_ip, "text", IP, "Static external remote IP"),
        (&f.static_proxy, "boolean", IP, "Static external proxy"),
        (
            &f.permit_prefixes,
            "text",
            VRF,
            "External peering permitted prefixes",
        ),
        (
            &f.name,
            "text",
            mapped,
            "Hedgehog object name when not the conventional one",
        ),
        (
            &f.status,
            "select",
            with_record,
            "Sync state of the Hedgehog object",
        ),
        (
            &f.synced_at,
            "datetime",
            with_record,
            "When the Hedgehog object last synced",
        ),
        (&f.message, "longtext", with_record, "Last sync message"),
        (
            &f.agent_heartbeat,
            "datetime",
            DEVICE,
            "Switch agent's last heartbeat",
        ),
        (
            &f.agent_generation,
            "text",
            DEVICE,
            "Applied / desired generation",
        ),
        (&f.nos_version, "text", DEVICE, "Switch NOS version"),
        (
            &f.discovered_by,
            "text",
            DISCOVERED,
            "Discovery source owning the discovered fields",
        ),
        (
            &f.discovery,
            "json",
            DISCOVERED,
            "What discovery wrote and when it last saw the object",
        ),
        (
            &f.platform,
            "text",
            DEVICE,
            "Platform as the NOS reports it",
        ),
        (
            &f.hardware,
            "text",
            DEVICE,
            "Hardware as the NOS reports it",
        ),
        (
            &f.storage,
            "json",
            DEVICE,
            "Storage pools and shares as the system reports them",
        ),
        (
            &f.oper_status,
            "text",
            INTERFACE,
            "Operational state as the switch reports it",
        ),
        (
            &f.cabling,
            "longtext",
            INTERFACE,
            "Cabling drift: the LLDP neighbour against the NetBox cable",
        ),
    ]
}

/// A custom field's body as the product creates it.
fn field_body(
    mapping: &MappingConfig,
    name: &str,
    kind: &str,
    description: &str,
) -> Map<String, Value> {
    let mut body = object(json!({
        "name": name,
        "type": kind,
        "group_name": GROUP,
        "description": description,
        // Loose matching would make `cf_hedgehog_fabric=lab` also match `lab2`.
        "filter_logic": "exact",
    }));
    if kind == "select" {
        body.insert("choice_set".into(), json!({"name": STATUS_CHOICE_SET}));
    }
    if is_written_by_sidecar(mapping, name) {
        body.insert("ui_editable".into(), json!("no"));
    }
    body
}

fn is_written_by_sidecar(mapping: &MappingConfig, name: &str) -> bool {
    mapping.custom_fields.written_back().contains(&name)
}

/// Objects found by slug whose name is their slug, each listed once.
fn by_slug<'a>(
    endpoint: Endpoint,
    items: impl IntoIterator<Item = (&'a str, Value)>,
) -> Vec<Desired> {
    let mut out: Vec<Desired> = Vec::new();
    for (slug, extra) in items {
        if out.iter().any(|d| d.value == slug) {
            continue;
        }
        let mut body = object(json!({"name": slug, "slug": slug}));
        body.extend(object(extra));
        out.push(Desired {
            endpoint,
            key: "slug",
            value: slug.into(),
            body,
            union_fields: &[],
            kept_fields: &[],
        });
    }
    out
}

pub fn tags(mappings: &[MappingConfig]) -> Vec<Desired> {
    let items = mappings.iter().flat_map(|m| {
        [
            (m.tag_external.as_str(), "ff9800"),
            (m.tag_protocol_ip.as_str(), "2196f3"),
            (m.tag_vtep_ip.as_str(), "3f51b5"),
            (m.tag_imported.as_str(), "9e9e9e"),
            (m.pools.allocated_tag.as_str(), "795548"),
            (m.tag_stale.as_str(), "9e9e9e"),
        ]
        .map(|(slug, color)| (slug, json!({"color": color})))
    });
    by_slug(ep::TAGS, items)
}

pub(crate) fn device_roles(mappings: &[MappingConfig]) -> Vec<Desired> {
    let items = mappings.iter().flat_map(|m| {
        let role = |color: &str| json!({"color": color, "vm_role": false});
        m.switch_roles
            .keys()
            .map(move |r| (r.as_str(), role("2196f3")))
            .chain(
                m.server_roles
                    .iter()
                    .map(move |r| (r.as_str(), role("4caf50"))),
            )
            .chain(
                m.external_roles
                    .iter()
                    .map(move |r| (r.as_str(), role("ff9800"))),
            )
    });
    by_slug(ep::DEVICE_ROLES, items)
}

/// Prefix and IP range roles (both are `ipam.role`).
pub(crate) fn ipam_roles(mappings: &[MappingConfig]) -> Vec<Desired> {
    let items = mappings.iter().flat_map(|m| {
        let p = &m.pools;
        [
            &m.ipv4_namespace_prefix_role,
            &m.dhcp_range_role,
            &p.management_role,
            &p.protocol_role,
            &p.vtep_role,
            &p.fabric_link_role,
        ]
        .map(|s| (s.as_str(), json!({})))
    });
    by_slug(ep::IPAM_ROLES, items)
}

/// The cluster types of the fabrics' own records (see `netbox::fabric_record`).
pub(crate) fn fabric_record_types(mappings: &[MappingConfig]) -> Vec<Desired> {
    let mut out: Vec<Desired> = Vec::new();
    for mapping in mappings {
        if !out.iter().any(|d| d.value == mapping.fabric_record_type) {
            out.push(crate::netbox::fabric_record::record_type(
                &mapping.fabric_record_type,
            ));
        }
    }
    out
}

/// The webhook that sends NetBox's changes to the sidecar's `/webhooks/netbox`.
pub fn webhook(name: &str, sidecar_url: &str, secret: &str) -> Desired {
    Desired {
        endpoint: ep::WEBHOOKS,
        key: "name",
        value: name.into(),
        body: object(json!({
            "name": name,
            "description": "Sends fabric changes to hedgehog-sidecar",
            "payload_url": format!("{}/webhooks/netbox", sidecar_url.trim_end_matches('/')),
            "http_method": "POST",
            "http_content_type": "application/json",
            "secret": secret,
        })),
        union_fields: &[],
        kept_fields: &[],
    }
}
