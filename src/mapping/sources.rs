//! Back-references from rendered objects to the NetBox objects they came from. The reconciler
//! writes status onto these; violations name them.

use serde::{Deserialize, Serialize};

use crate::netbox::types::NetBoxObject;

/// One NetBox object: its type (`dcim.device`), id and a human name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    pub object_type: String,
    pub id: u64,
    pub name: String,
}

impl SourceRef {
    pub fn of<T: NetBoxObject>(object: &T) -> Self {
        Self {
            object_type: T::OBJECT_TYPE.to_owned(),
            id: object.id(),
            name: object.display_name(),
        }
    }

    /// The object's path below NetBox's root (`/dcim/devices/12/`).
    pub(crate) fn ui_path(&self) -> String {
        format!("/{}/{}/", ui_collection(&self.object_type), self.id)
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} #{} \"{}\"", self.object_type, self.id, self.name)
    }
}

/// `dcim.device` → `dcim/devices`, as NetBox's UI and REST paths name the collection.
pub(crate) fn ui_collection(object_type: &str) -> String {
    let (app, model) = object_type.split_once('.').unwrap_or(("", object_type));
    let plural = match model {
        "vlangroup" => "vlan-groups".to_owned(),
        "ipaddress" => "ip-addresses".to_owned(),
        "iprange" => "ip-ranges".to_owned(),
        "macaddress" => "mac-addresses".to_owned(),
        "routetarget" => "route-targets".to_owned(),
        "prefix" => "prefixes".to_owned(),
        other => format!("{other}s"),
    };
    format!("{app}/{plural}")
}

/// Sorts and deduplicates a source list so annotations are stable.
pub(crate) fn normalise(sources: &mut Vec<SourceRef>) {
    sources.sort();
    sources.dedup();
}
