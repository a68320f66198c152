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

/// Declares a NetBox object type: the fields NetBox always sends, then those it may omit (each
/// defaults when absent), and its `NetBoxObject` identity.
macro_rules! netbox_record {
    (
        $(#[$meta:meta])*
        $name:ident = $object_type:literal, |$s:ident| $display:expr;
        required { $($(#[$rmeta:meta])* $req:ident: $rty:ty,)* }
        optional { $($(#[$ometa:meta])* $opt:ident: $oty:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$rmeta])* pub $req: $rty,)*
            $($(#[$ometa])* #[serde(default)] pub $opt: $oty,)*
        }
        netbox_object!($name, $object_type, |$s| $display);
    };
}

netbox_record! {
    Device = "dcim.device",
        |d| d.name.clone().unwrap_or_else(|| format!("device #{}", d.id));
    required {
        id: u64,
    }
    optional {
        name: Option<String>,
        device_type: Option<NestedRef>,
        role: Option<NestedRef>,
        site: Option<NestedRef>,
        status: Option<Choice>,
        serial: Option<String>,
        description: Option<String>,
        primary_ip4: Option<NestedIp>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    Interface = "dcim.interface",
        |i| format!("{} {}", i.device.name.as_deref().unwrap_or("?"), i.name);
    required {
        id: u64,
        device: NestedRef,
        name: String,
    }
    optional {
        r#type: Option<Choice>,
        enabled: Option<bool>,
        parent: Option<NestedRef>,
        lag: Option<NestedRef>,
        mtu: Option<u32>,
        mac_address: Option<String>,
        /// Speed in kbit/s, as NetBox stores it.
        speed: Option<u64>,
        mgmt_only: Option<bool>,
        description: Option<String>,
        mode: Option<Choice>,
        untagged_vlan: Option<NestedVlan>,
        tagged_vlans: Vec<NestedVlan>,
        cable: Option<NestedRef>,
        vrf: Option<NestedRef>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

/// One end of a cable (`{"object_type": "dcim.interface", "object_id": 1}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CableTermination {
    pub object_type: String,
    pub object_id: u64,
}

netbox_record! {
    Cable = "dcim.cable", |c| match c.label.as_deref() {
        Some(label) if !label.is_empty() => format!("cable {label}"),
        _ => format!("cable #{}", c.id),
    };
    required {
        id: u64,
    }
    optional {
        a_terminations: Vec<CableTermination>,
        b_terminations: Vec<CableTermination>,
        status: Option<Choice>,
        label: Option<String>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    /// A MAC address object (4.2+: MACs are objects assigned to interfaces).
    MacAddress = "dcim.macaddress", |m| m.mac_address.clone();
    required {
        id: u64,
        mac_address: String,
    }
    optional {
        assigned_object_type: Option<String>,
        assigned_object_id: Option<u64>,
    }
}

netbox_record! {
    IpAddress = "ipam.ipaddress", |a| a.address.clone();
    required {
        id: u64,
        /// CIDR notation, `10.0.1.1/24`.
        address: String,
    }
    optional {
        vrf: Option<NestedRef>,
        status: Option<Choice>,
        role: Option<Choice>,
        assigned_object_type: Option<String>,
        assigned_object_id: Option<u64>,
        description: Option<String>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    VlanGroup = "ipam.vlangroup", |g| g.name.clone();
    required {
        id: u64,
        name: String,
        slug: String,
    }
    optional {
        /// Inclusive `[from, to]` pairs.
        vid_ranges: Vec<[u16; 2]>,
        description: Option<String>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    Vlan = "ipam.vlan", |v| format!("{} ({})", v.name, v.vid);
    required {
        id: u64,
        vid: u16,
        name: String,
    }
    optional {
        group: Option<NestedRef>,
        status: Option<Choice>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    RouteTarget = "ipam.routetarget", |r| r.name.clone();
    required {
        id: u64,
        name: String,
    }
    optional {
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    Vrf = "ipam.vrf", |v| v.name.clone();
    required {
        id: u64,
        name: String,
    }
    optional {
        rd: Option<String>,
        description: Option<String>,
        import_targets: Vec<NestedRef>,
        export_targets: Vec<NestedRef>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    Prefix = "ipam.prefix", |p| p.prefix.clone();
    required {
        id: u64,
        prefix: String,
    }
    optional {
        vrf: Option<NestedRef>,
        vlan: Option<NestedVlan>,
        status: Option<Choice>,
        role: Option<NestedRef>,
        description: Option<String>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

netbox_record! {
    IpRange = "ipam.iprange", |r| format!("{}-{}", r.start_address, r.end_address);
    required {
        id: u64,
        start_address: String,
        end_address: String,
    }
    optional {
        vrf: Option<NestedRef>,
        status: Option<Choice>,
        role: Option<NestedRef>,
        tags: Vec<TagRef>,
        custom_fields: CustomFields,
    }
}

/// Does this object carry a tag with the given slug?
pub(crate) fn has_tag(tags: &[TagRef], slug: &str) -> bool {
    tags.iter()
        .any(|t| t.slug.as_deref() == Some(slug) || t.name.as_deref() == Some(slug))
}
