//! What NetBox already holds for a discovery run: the devices in the sources' scopes, their
//! interfaces with their cable peers, and the devices LLDP neighbours name.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::observation::normalize_mac;
use crate::netbox::endpoints::{DEVICES, INTERFACES};
use crate::netbox::{ListQuery, NetBoxClient, NetBoxError};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownDevice {
    pub id: u64,
    pub name: String,
    pub serial: String,
    pub primary_ip: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub tags: Vec<String>,
    pub interfaces: Vec<KnownInterface>,
}

impl KnownDevice {
    pub fn macs(&self) -> impl Iterator<Item = &str> {
        self.interfaces.iter().filter_map(|i| i.mac.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownInterface {
    pub id: u64,
    pub name: String,
    pub speed: Option<u64>,
    pub mac: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub cable: Option<u64>,
    /// The far ends of its cable: (device name, interface name).
    pub peers: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct DeviceRow {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    primary_ip: Option<Address>,
    #[serde(default)]
    custom_fields: Map<String, Value>,
    #[serde(default)]
    tags: Vec<Slug>,
}

#[derive(Deserialize)]
struct Address {
    address: String,
}

#[derive(Deserialize)]
struct Slug {
    slug: String,
}

#[derive(Deserialize)]
struct Id {
    id: u64,
}

#[derive(Deserialize)]
struct InterfaceRow {
    id: u64,
    device: Id,
    name: String,
    #[serde(default)]
    speed: Option<u64>,
    #[serde(default)]
    mac_address: Option<String>,
    #[serde(default)]
    custom_fields: Map<String, Value>,
    #[serde(default)]
    cable: Option<Id>,
    #[serde(default)]
    link_peers: Vec<Value>,
}

const DEVICE_FIELDS: &[&str] = &[
    "id",
    "name",
    "serial",
    "primary_ip",
    "custom_fields",
    "tags",
];
const INTERFACE_FIELDS: &[&str] = &[
    "id",
    "device",
    "name",
    "speed",
    "mac_address",
    "custom_fields",
    "cable",
    "link_peers",
];

/// The devices matching any of `scopes` (each once), with their interfaces.
pub async fn load(
    client: &NetBoxClient,
    scopes: &[ListQuery],
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let mut rows: Vec<DeviceRow> = Vec::new();
    for scope in scopes {
        let query = scope.clone().fields(DEVICE_FIELDS);
        for row in client.list::<DeviceRow>(DEVICES.path, &query).await? {
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row);
            }
        }
    }
    with_interfaces(client, rows).await
}

/// The devices named `names` (LLDP neighbours outside the scopes), with their interfaces.
pub async fn load_named(
    client: &NetBoxClient,
    names: &BTreeSet<String>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    let names: Vec<&String> = names.iter().collect();
    for chunk in names.chunks(crate::netbox::pagination::ID_CHUNK) {
        let mut query = ListQuery::new().fields(DEVICE_FIELDS);
        for name in chunk {
            query = query.filter("name", name);
        }
        rows.extend(client.list::<DeviceRow>(DEVICES.path, &query).await?);
    }
    with_interfaces(client, rows).await
}

async fn with_interfaces(
    client: &NetBoxClient,
    rows: Vec<DeviceRow>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
    let query = ListQuery::new().fields(INTERFACE_FIELDS);
    let interfaces: Vec<InterfaceRow> = client
        .list_by_ids(INTERFACES.path, "device_id", &ids, &query)
        .await?;
    let mut devices: Vec<KnownDevice> = rows.into_iter().map(device).collect();
    for row in interfaces {
        if let Some(device) = devices.iter_mut().find(|d| d.id == row.device.id) {
            device.interfaces.push(interface(row));
        }
    }
    Ok(devices)
}

fn device(row: DeviceRow) -> KnownDevice {
    KnownDevice {
        id: row.id,
        name: row.name.unwrap_or_default(),
        serial: row.serial,
        primary_ip: row
            .primary_ip
            .map(|a| a.address.split('/').next().unwrap_or_default().to_owned()),
        custom_fields: row.custom_fields,
        tags: row.tags.into_iter().map(|t| t.slug).collect(),
        interfaces: Vec::new(),
    }
}

fn interface(row: InterfaceRow) -> KnownInterface {
    let peers = row
        .link_peers
        .iter()
        .filter_map(|p| {
            let device = p["device"]["name"].as_str()?;
            let name = p["name"].as_str()?;
            Some((device.to_owned(), name.to_owned()))
        })
        .collect();
    KnownInterface {
        id: row.id,
        name: row.name,
        speed: row.speed,
        mac: row.mac_address.as_deref().and_then(normalize_mac),
        custom_fields: row.custom_fields,
        cable: row.cable.map(|c| c.id),
        peers,
    }
}
