//! Writing the creations of a plan, in bulk and in dependency order: the references (sites,
//! roles, types, clusters), the devices and virtual machines, their interfaces (each with its
//! first MAC as primary), the further MACs, the IP addresses assigned to the interfaces, and
//! last each new object's primary IP.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::create::{Create, Target};
use super::kind::ObjectKind;
use super::references;
use crate::netbox::endpoints::{IP_ADDRESSES, MAC_ADDRESSES};
use crate::netbox::writeback::WRITE_CHUNK;
use crate::netbox::{NetBoxClient, NetBoxError};

/// What creating wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Created {
    pub objects: usize,
    pub interfaces: usize,
    pub macs: usize,
    pub ips: usize,
}

#[derive(Deserialize)]
struct Row {
    id: u64,
}

pub async fn create(client: &NetBoxClient, creates: &[Create]) -> Result<Created, NetBoxError> {
    if creates.is_empty() {
        return Ok(Created::default());
    }
    let clusters = references::ensure(client, creates).await?;
    let parents = objects(client, creates, &clusters).await?;
    let mut created = Created {
        objects: creates.iter().filter(|c| c.existing.is_none()).count(),
        ..Created::default()
    };
    // (create index, interface index, interface id)
    let mut interfaces = Vec::new();
    for kind in [ObjectKind::Device, ObjectKind::VirtualMachine] {
        let mut at = Vec::new();
        let mut bodies = Vec::new();
        for (c, create) in creates.iter().enumerate().filter(|(_, c)| c.kind == kind) {
            for (i, interface) in create.interfaces.iter().enumerate() {
                let mut body = interface.body.clone();
                body.insert(kind.parent_field().into(), json!(parents[c]));
                bodies.push(Value::Object(body));
                at.push((c, i));
            }
        }
        let ids = post_all(client, kind.interface_endpoint().path, bodies).await?;
        interfaces.extend(at.into_iter().zip(ids).map(|((c, i), id)| (c, i, id)));
    }
    created.interfaces = interfaces.len();
    let assign = |c: usize, id: u64| {
        let object_type = creates[c].kind.interface_endpoint().object_type;
        json!({"assigned_object_type": object_type, "assigned_object_id": id})
    };
    let mut macs = Vec::new();
    let mut ips = Vec::new();
    for &(c, i, id) in &interfaces {
        let interface = &creates[c].interfaces[i];
        for mac in interface.macs.iter().skip(1) {
            let mut body = assign(c, id);
            body["mac_address"] = json!(mac);
            macs.push(body);
        }
        for address in &interface.ips {
            let mut body = assign(c, id);
            body["address"] = json!(address);
            body["status"] = json!("active");
            ips.push(((c, address.clone()), body));
        }
    }
    created.macs = post_all(client, MAC_ADDRESSES.path, macs).await?.len();
    let (owners, bodies): (Vec<_>, Vec<_>) = ips.into_iter().unzip();
    let ip_ids = post_all(client, IP_ADDRESSES.path, bodies).await?;
    created.ips = ip_ids.len();
    let by_address: BTreeMap<(usize, String), u64> = owners.into_iter().zip(ip_ids).collect();
    primary_ips(client, creates, &parents, &by_address).await?;
    Ok(created)
}

/// The NetBox id of each create's object: the existing one, or the one created now.
async fn objects(
    client: &NetBoxClient,
    creates: &[Create],
    clusters: &BTreeMap<String, u64>,
) -> Result<Vec<u64>, NetBoxError> {
    let mut parents: Vec<u64> = creates.iter().map(|c| c.existing.unwrap_or(0)).collect();
    for kind in [ObjectKind::Device, ObjectKind::VirtualMachine] {
        let new: Vec<(usize, Value)> = creates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind && c.existing.is_none())
            .filter_map(|(index, c)| {
                let target = c.placement.as_ref()?;
                Some((
                    index,
                    Value::Object(with_references(&c.body, target, clusters)),
                ))
            })
            .collect();
        let (indexes, bodies): (Vec<_>, Vec<_>) = new.into_iter().unzip();
        let ids = post_all(client, kind.endpoint().path, bodies).await?;
        for (index, id) in indexes.into_iter().zip(ids) {
            parents[index] = id;
        }
    }
    Ok(parents)
}

/// A new object's body with its site, role, type or cluster, and platform.
fn with_references(
    body: &Map<String, Value>,
    target: &Target,
    clusters: &BTreeMap<String, u64>,
) -> Map<String, Value> {
    let mut body = body.clone();
    body.insert("role".into(), json!({"slug": target.role}));
    if let Some(platform) = &target.platform {
        body.insert("platform".into(), json!({"slug": platform}));
    }
    match &target.cluster {
        Some(cluster) => {
            body.insert("cluster".into(), json!(clusters.get(&cluster.name)));
        }
        None => {
            body.insert("site".into(), json!({"slug": target.site}));
            body.insert("device_type".into(), json!({"slug": target.device_type}));
        }
    }
    body
}

async fn primary_ips(
    client: &NetBoxClient,
    creates: &[Create],
    parents: &[u64],
    by_address: &BTreeMap<(usize, String), u64>,
) -> Result<(), NetBoxError> {
    for kind in [ObjectKind::Device, ObjectKind::VirtualMachine] {
        let bodies: Vec<Value> = creates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .filter_map(|(index, c)| {
                let address = c.primary_ip.as_ref()?;
                let ip = by_address.get(&(index, address.clone()))?;
                let field = if address.contains(':') {
                    "primary_ip6"
                } else {
                    "primary_ip4"
                };
                Some(json!({"id": parents[index], field: ip}))
            })
            .collect();
        for chunk in bodies.chunks(WRITE_CHUNK) {
            let _: Vec<Value> = client.patch(kind.endpoint().path, chunk).await?;
        }
    }
    Ok(())
}

/// Bulk-creates `bodies` on `path` in chunks (concurrently, answers kept in order); the new
/// objects' ids in the order of `bodies`.
async fn post_all(
    client: &NetBoxClient,
    path: &str,
    bodies: Vec<Value>,
) -> Result<Vec<u64>, NetBoxError> {
    let chunks: Vec<Vec<Value>> = bodies.chunks(WRITE_CHUNK).map(<[Value]>::to_vec).collect();
    let answers: Vec<Vec<Row>> = stream::iter(chunks)
        .map(|chunk| async move { client.post::<_, Vec<Row>>(path, &chunk).await })
        .buffered(client.concurrency())
        .try_collect()
        .await?;
    Ok(answers.into_iter().flatten().map(|r| r.id).collect())
}
