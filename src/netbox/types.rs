//! NetBox 4.7 REST objects, in the shape the REST API (and a webhook's `data`) returns them.
//!
//! These are the mapping's input: the client fills them from the live API, a snapshot file from
//! disk, tests from recorded payloads. Every field that NetBox may omit is optional, because the
//! payload shape varies (brief vs full, `?fields=`, created vs updated webhooks).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A nested reference to another NetBox object (`{"id": 2, "name": "spine-01", ...}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedRef {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// A nested VLAN reference also carries its VLAN id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedVlan {
    pub id: u64,
    #[serde(default)]
    pub vid: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A nested IP address reference (`primary_ip4`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedIp {
    pub id: u64,
    #[serde(default)]
    pub address: Option<String>,
}

/// A choice field. The API returns `{value, label}`; snapshots written by hand may use the bare
/// value, so both forms are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl<'de> Deserialize<'de> for Choice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        choice_from_value(&value).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a NetBox choice, got {value}"))
        })
    }
}

fn choice_from_value(value: &Value) -> Option<Choice> {
    match value {
        Value::String(s) => Some(Choice {
            value: s.clone(),
            label: None,
        }),
        Value::Number(n) => Some(Choice {
            value: n.to_string(),
            label: None,
        }),
        Value::Object(map) => {
            let value = match map.get("value")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let label = map.get("label").and_then(Value::as_str).map(str::to_owned);
            Some(Choice { value, label })
        }
        _ => None,
    }
}

/// A tag as returned on objects (`{"id", "name", "slug", "color"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
}

/// Custom field values keyed by field name. Select fields read as `{value, label}` in 4.7.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomFields(pub BTreeMap<String, Value>);

impl CustomFields {
    /// The raw JSON value of a field, `None` when absent or null.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A text or select field as a string (select fields unwrap their `value`). Empty is `None`.
    pub fn string(&self, name: &str) -> Option<String> {
        let value = self.raw(name)?;
        let text = match value {
            Value::Object(_) => choice_from_value(value)?.value,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        (!text.is_empty()).then_some(text)
    }

    /// An integer field (also accepts a numeric string).
    pub(crate) fn integer(&self, name: &str) -> Option<i64> {
        match self.raw(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean field.
    pub(crate) fn boolean(&self, name: &str) -> Option<bool> {
        match self.raw(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A multi-select or list field as strings; a comma-separated text field is split.
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.raw(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    other => choice_from_value(other).map(|c| c.value),
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Fields every NetBox object in a snapshot carries.
pub trait NetBoxObject {
    /// The object type as NetBox names it (`dcim.device`).
    const OBJECT_TYPE: &'static str;
    fn id(&self) -> u64;
    /// A human name for messages.
    fn display_name(&self) -> String;
}

macro_rules! netbox_object {
    ($ty:ty, $object_type:literal, |$s:ident| $display:expr) => {
        impl NetBoxObject for $ty {
            const OBJECT_TYPE: &'static str = $object_type;
            fn id(&self) -> u64 {
                self.id
            }
            fn display_name(&self) -> String {
                let $s = self;
                $display
            }
        }
    };
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub device_type: Option<NestedRef>,
    #[serde(default)]
    pub role: Option<NestedRef>,
    #[serde(default)]
    pub site: Option<NestedRef>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub primary_ip4: Option<NestedIp>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Device, "dcim.device", |d| d
    .name
    .clone()
    .unwrap_or_else(|| format!("device #{}", d.id)));

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    pub id: u64,
    pub device: NestedRef,
    pub name: String,
    #[serde(default)]
    pub r#type: Option<Choice>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub parent: Option<NestedRef>,
    #[serde(default)]
    pub lag: Option<NestedRef>,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Speed in kbit/s, as NetBox stores it.
    #[serde(default)]
    pub speed: Option<u64>,
    #[serde(default)]
    pub mgmt_only: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mode: Option<Choice>,
    #[serde(default)]
    pub untagged_vlan: Option<NestedVlan>,
    #[serde(default)]
    pub tagged_vlans: Vec<NestedVlan>,
    #[serde(default)]
    pub cable: Option<NestedRef>,
    #[serde(default)]
    pub vrf: Option<NestedRef>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Interface, "dcim.interface", |i| format!(
    "{} {}",
    i.device.name.as_deref().unwrap_or("?"),
    i.name
));

/// One end of a cable (`{"object_type": "dcim.interface", "object_id": 1}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CableTermination {
    pub object_type: String,
    pub object_id: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cable {
    pub id: u64,
    #[serde(default)]
    pub a_terminations: Vec<CableTermination>,
    #[serde(default)]
    pub b_terminations: Vec<CableTermination>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Cable, "dcim.cable", |c| match c.label.as_deref() {
    Some(label) if !label.is_empty() => format!("cable {label}"),
    _ => format!("cable #{}", c.id),
});

/// A MAC address object (4.2+: MACs are objects assigned to interfaces).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MacAddress {
    pub id: u64,
    pub mac_address: String,
    #[serde(default)]
    pub assigned_object_type: Option<String>,
    #[serde(default)]
    pub assigned_object_id: Option<u64>,
}
netbox_object!(MacAddress, "dcim.macaddress", |m| m.mac_address.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpAddress {
    pub id: u64,
    /// CIDR notation, `10.0.1.1/24`.
    pub address: String,
    #[serde(default)]
    pub vrf: Option<NestedRef>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub role: Option<Choice>,
    #[serde(default)]
    pub assigned_object_type: Option<String>,
    #[serde(default)]
    pub assigned_object_id: Option<u64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(IpAddress, "ipam.ipaddress", |a| a.address.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VlanGroup {
    pub id: u64,
    pub name: String,
    pub slug: String,
    /// Inclusive `[from, to]` pairs.
    #[serde(default)]
    pub vid_ranges: Vec<[u16; 2]>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(VlanGroup, "ipam.vlangroup", |g| g.name.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vlan {
    pub id: u64,
    pub vid: u16,
    pub name: String,
    #[serde(default)]
    pub group: Option<NestedRef>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Vlan, "ipam.vlan", |v| format!("{} ({})", v.name, v.vid));

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteTarget {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(RouteTarget, "ipam.routetarget", |r| r.name.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vrf {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub rd: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub import_targets: Vec<NestedRef>,
    #[serde(default)]
    pub export_targets: Vec<NestedRef>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Vrf, "ipam.vrf", |v| v.name.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Prefix {
    pub id: u64,
    pub prefix: String,
    #[serde(default)]
    pub vrf: Option<NestedRef>,
    #[serde(default)]
    pub vlan: Option<NestedVlan>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub role: Option<NestedRef>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(Prefix, "ipam.prefix", |p| p.prefix.clone());

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpRange {
    pub id: u64,
    pub start_address: String,
    pub end_address: String,
    #[serde(default)]
    pub vrf: Option<NestedRef>,
    #[serde(default)]
    pub status: Option<Choice>,
    #[serde(default)]
    pub role: Option<NestedRef>,
    #[serde(default)]
    pub tags: Vec<TagRef>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}
netbox_object!(IpRange, "ipam.iprange", |r| format!(
    "{}-{}",
    r.start_address, r.end_address
));

/// Does this object carry a tag with the given slug?
pub(crate) fn has_tag(tags: &[TagRef], slug: &str) -> bool {
    tags.iter()
        .any(|t| t.slug.as_deref() == Some(slug) || t.name.as_deref() == Some(slug))
}
