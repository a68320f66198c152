//! What NetBox already holds for a discovery run: the devices and virtual machines in the
//! sources' scopes, their interfaces with their cable peers, the objects unmatched observations
//! name (by name or serial), and the devices LLDP neighbours name.

use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::kind::ObjectKind;
use super::observation::normalize_mac;
use crate::netbox::{ListQuery, NetBoxClient, NetBoxError};

/// A NetBox device or virtual machine (`kind`), with its interfaces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownDevice {
    pub kind: ObjectKind,
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
    #[serde(alias = "virtual_machine")]
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
const VM_INTERFACE_FIELDS: &[&str] = &[
    "id",
    "virtual_machine",
    "name",
    "mac_address",
    "custom_fields",
];

/// The objects of `kind` matching any of `scopes` (each once), with their interfaces.
pub async fn load(
    client: &NetBoxClient,
    kind: ObjectKind,
    scopes: &[ListQuery],
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let mut rows: Vec<DeviceRow> = Vec::new();
    for scope in scopes {
        let query = scope.clone().fields(DEVICE_FIELDS);
        for row in client
            .list::<DeviceRow>(kind.endpoint().path, &query)
            .await?
        {
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row);
            }
        }
    }
    with_interfaces(client, kind, rows).await
}

/// The objects of `kind` whose `key` (`name`, `serial`) is one of `values`, with their
/// interfaces.
pub async fn load_by(
    client: &NetBoxClient,
    kind: ObjectKind,
    key: &str,
    values: &BTreeSet<String>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    let queries: Vec<ListQuery> = by_length(values, key)
        .into_iter()
        .map(|chunk| {
            let query = ListQuery::new().fields(DEVICE_FIELDS);
            chunk
                .into_iter()
                .fold(query, |q, value| q.filter(key, value))
        })
        .collect();
    let path = kind.endpoint().path;
    let pages: Vec<Vec<DeviceRow>> = stream::iter(queries)
        .map(|query| async move { client.list::<DeviceRow>(path, &query).await })
        .buffer_unordered(client.concurrency())
        .try_collect()
        .await?;
    with_interfaces(client, kind, pages.into_iter().flatten().collect()).await
}

/// Query characters of one request's `key=value` filters: web servers in front of NetBox
/// refuse request lines much over 4 KiB (gunicorn's default limit is 4094 bytes).
const QUERY_BUDGET: usize = 2_500;

/// `values` in chunks whose `key=value&` filters (percent-encoded) fit [`QUERY_BUDGET`], at
/// most `ID_CHUNK` values each.
fn by_length<'v>(values: &'v BTreeSet<String>, key: &str) -> Vec<Vec<&'v String>> {
    let mut chunks: Vec<Vec<&String>> = Vec::new();
    let mut used = 0;
    for value in values {
        let encoded: usize = url::form_urlencoded::byte_serialize(value.as_bytes())
            .map(str::len)
            .sum();
        let cost = key.len() + 2 + encoded;
        let full = chunks.last().is_none_or(|c| {
            c.len() >= crate::netbox::pagination::ID_CHUNK || used + cost > QUERY_BUDGET
        });
        if full {
            chunks.push(Vec::new());
            used = 0;
        }
        used += cost;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(value);
        }
    }
    chunks
}

/// The devices named `names` (LLDP neighbours outside the scopes), with their interfaces.
pub async fn load_named(
    client: &NetBoxClient,
    names: &BTreeSet<String>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    load_by(client, ObjectKind::Device, "name", names).await
}

async fn with_interfaces(
    client: &NetBoxClient,
    kind: ObjectKind,
    rows: Vec<DeviceRow>,
) -> Result<Vec<KnownDevice>, NetBoxError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
    let (fields, parent) = match kind {
        ObjectKind::Device => (INTERFACE_FIELDS, "device_id"),
        ObjectKind::VirtualMachine => (VM_INTERFACE_FIELDS, "virtual_machine_id"),
    };
    let query = ListQuery::new().fields(fields);
    let interfaces: Vec<InterfaceRow> = client
        .list_by_ids(kind.interface_endpoint().path, parent, &ids, &query)
        .await?;
    let mut devices: Vec<KnownDevice> = rows.into_iter().map(|r| device(kind, r)).collect();
    for row in interfaces {
        if let Some(device) = devices.iter_mut().find(|d| d.id == row.device.id) {
            device.interfaces.push(interface(row));
        }
    }
    Ok(devices)
}

fn device(kind: ObjectKind, row: DeviceRow) -> KnownDevice {
    KnownDevice {
        kind,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_looked_up_in_requests_that_fit_a_request_line() {
        let names: BTreeSet<String> = (0..1000).map(|i| format!("{i:0>40} é")).collect();
        let chunks = by_length(&names, "name");
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 1000);
        for chunk in &chunks {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(chunk.iter().map(|n| ("name", n.as_str())));
            assert!(query.finish().len() <= QUERY_BUDGET);
        }
        let short: BTreeSet<String> = (0..400).map(|i| i.to_string()).collect();
        assert!(by_length(&short, "name").iter().all(|c| c.len() <= 150));
    }
}
