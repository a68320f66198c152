//! Planning what discovery creates: for an observation no NetBox object matches, a new device
//! or virtual machine with its interfaces, MACs and IP addresses (and its primary IP); for a
//! matched one, the interfaces NetBox lacks. Only a source with creation defaults creates; the
//! created object records that source as its owner and what was written, so the ownership rule
//! of later runs applies to it as to any discovered value.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::kind::ObjectKind;
use super::known::KnownDevice;
use super::merge::Merged;
use super::observation::{ClusterRef, Field, ObservedInterface};
use crate::config::{CreateDefaults, CustomFieldNames};

/// One object to create, or an existing one (`existing`) to add interfaces to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Create {
    pub kind: ObjectKind,
    pub object: String,
    pub existing: Option<u64>,
    /// Where a new object goes (`None` for an existing one).
    pub placement: Option<Target>,
    /// The new object's own fields: name, serial, status, facts, owner and discovery record.
    #[serde(skip)]
    pub body: Map<String, Value>,
    pub interfaces: Vec<NewInterface>,
    /// One of the new interfaces' addresses (with prefix length), made the primary IP.
    pub primary_ip: Option<String>,
}

/// A new object's references, by slug (the cluster by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub site: String,
    pub role: String,
    pub manufacturer: String,
    pub device_type: String,
    pub platform: Option<String>,
    pub cluster: Option<ClusterRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewInterface {
    pub name: String,
    /// The interface's fields besides its parent: name, type, primary MAC, facts, owner.
    #[serde(skip)]
    pub body: Map<String, Value>,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
}

/// What creation needs to know of the run.
pub struct Creation<'a> {
    /// Source name → its defaults, for the sources that create.
    pub defaults: &'a BTreeMap<String, CreateDefaults>,
    pub names: &'a CustomFieldNames,
    pub now: DateTime<Utc>,
}

impl Creation<'_> {
    /// The first source of `entry` that creates, with its defaults.
    fn creator<'e>(&self, entry: &'e Merged) -> Option<(&'e str, &CreateDefaults)> {
        entry
            .sources
            .iter()
            .find_map(|s| Some((s.as_str(), self.defaults.get(s)?)))
    }

    /// The new object for an entry no NetBox object matches, when one of its sources creates.
    pub fn new_object(&self, entry: &Merged) -> Option<Create> {
        let (owner, defaults) = self.creator(entry)?;
        let seen = &entry.device;
        let name = seen.name.clone().unwrap_or_else(|| seen.identity.clone());
        let placement = seen.placement.clone();
        let cluster = (seen.kind == ObjectKind::VirtualMachine).then(|| {
            let named = seen.cluster.clone().unwrap_or_else(|| ClusterRef {
                name: owner.to_owned(),
                cluster_type: String::new(),
            });
            ClusterRef {
                cluster_type: Some(named.cluster_type)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| defaults.cluster_type.clone()),
                ..named
            }
        });
        let target = Target {
            site: placement.site.unwrap_or_else(|| defaults.site.clone()),
            role: placement.role.unwrap_or_else(|| defaults.role.clone()),
            manufacturer: placement
                .manufacturer
                .unwrap_or_else(|| defaults.manufacturer.clone()),
            device_type: placement
                .device_type
                .unwrap_or_else(|| defaults.device_type.clone()),
            platform: placement.platform.or_else(|| defaults.platform.clone()),
            cluster,
        };
        let mut body = self.owned_body(owner, &seen.facts);
        if let Some(record) = body["custom_fields"][&self.names.discovery].as_object_mut() {
            record.insert("last_seen".into(), json!(self.now.to_rfc3339()));
        }
        body.insert("name".into(), json!(name));
        if let Some(serial) = seen.serial.as_deref().filter(|s| !s.is_empty()) {
            body.entry("serial").or_insert_with(|| json!(serial));
        }
        let status = placement.status.unwrap_or_else(|| defaults.status.clone());
        body.insert("status".into(), json!(status));
        let interfaces = self.interfaces(seen.kind, owner, seen.interfaces.iter());
        let primary_ip = seen.primary_ip.as_deref().and_then(|ip| {
            interfaces
                .iter()
                .flat_map(|i| &i.ips)
                .find(|a| a.split('/').next() == Some(ip))
                .cloned()
        });
        Some(Create {
            kind: seen.kind,
            object: name,
            existing: None,
            placement: Some(target),
            body,
            interfaces,
            primary_ip,
        })
    }

    /// The interfaces `entry` observes that `known` lacks, when one of its sources creates.
    pub fn new_interfaces(&self, entry: &Merged, known: &KnownDevice) -> Option<Create> {
        let (owner, _) = self.creator(entry)?;
        let missing = entry
            .device
            .interfaces
            .iter()
            .filter(|i| !known.interfaces.iter().any(|k| k.name == i.name));
        let interfaces = self.interfaces(known.kind, owner, missing);
        (!interfaces.is_empty()).then(|| Create {
            kind: known.kind,
            object: known.name.clone(),
            existing: Some(known.id),
            placement: None,
            body: Map::new(),
            interfaces,
            primary_ip: None,
        })
    }

    fn interfaces<'i>(
        &self,
        kind: ObjectKind,
        owner: &str,
        observed: impl Iterator<Item = &'i ObservedInterface>,
    ) -> Vec<NewInterface> {
        observed
            .map(|seen| {
                let mut body = self.owned_body(owner, &seen.facts);
                body.insert("name".into(), json!(seen.name));
                if kind == ObjectKind::Device {
                    let kind = seen.interface_type.as_deref().unwrap_or("other");
                    body.insert("type".into(), json!(kind));
                }
                if let Some(mac) = seen.macs.first() {
                    body.insert("mac_address".into(), json!(mac));
                }
                NewInterface {
                    name: seen.name.clone(),
                    body,
                    macs: seen.macs.clone(),
                    ips: seen.ips.clone(),
                }
            })
            .collect()
    }

    /// `facts` as fields of a new object, with the owner and the discovery record of what
    /// was written (so a later run tells them from values typed by hand).
    fn owned_body(&self, owner: &str, facts: &BTreeMap<Field, Value>) -> Map<String, Value> {
        let mut body = Map::new();
        let mut custom = Map::new();
        let mut written = Map::new();
        for (field, value) in facts {
            written.insert(field.key(), value.clone());
            match field {
                Field::Native(name) => body.insert((*name).to_owned(), value.clone()),
                Field::Custom(name) => custom.insert(name.clone(), value.clone()),
            };
        }
        custom.insert(self.names.discovered_by.clone(), json!(owner));
        custom.insert(self.names.discovery.clone(), json!({"written": written}));
        body.insert("custom_fields".into(), Value::Object(custom));
        body
    }
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;
