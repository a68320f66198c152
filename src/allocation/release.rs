//! Releasing what deleted switches and cables held, so the pools do not leak. NetBox deletes
//! a deleted interface's addresses itself (a switch's management, protocol and VTEP IPs go
//! with it), but not the ASN object taken for a leaf, nor a link's `/31` prefix and the
//! address on the end that remains (a spine's port; its cable stays too, with that end only,
//! and is no link any more). Everything allocation takes carries the
//! allocated tag and names its fabric in its description; what of it no switch or link of the
//! fabric holds any more is deleted.

use std::collections::BTreeSet;

use ipnet::Ipv4Net;
use serde::Deserialize;
use serde_json::json;

use super::error::AllocationError;
use super::execute::allocated_by;
use super::plan::addressed_links;
use crate::config::FabricConfig;
use crate::mapping::index::{DeviceRole, Index};
use crate::netbox::endpoints::{self as ep, Endpoint};
use crate::netbox::writeback::WRITE_CHUNK;
use crate::netbox::{FabricSnapshot, ListQuery, NetBoxClient};

/// One allocated object deleted (or, in a dry run, to delete) because nothing holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Released {
    pub object_type: &'static str,
    pub id: u64,
    /// What it held, in words (`ASN 65101`, `/31 10.0.4.0/31`, `link address 10.0.4.0/31`).
    pub value: String,
}

#[derive(Deserialize)]
struct AsnObject {
    id: u64,
    asn: u32,
}

#[derive(Deserialize)]
struct PrefixObject {
    id: u64,
    prefix: String,
}

#[derive(Deserialize)]
struct AddressObject {
    id: u64,
    address: String,
}

/// Deletes (unless `dry_run`) the allocated ASNs, link `/31`s and link addresses of `fabric`
/// that no switch or link in `snapshot` holds. `snapshot` must be read after every allocation
/// of the fabric finished (under the allocator lease), or it would miss what they just took.
pub async fn release_orphans(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    snapshot: &FabricSnapshot,
    dry_run: bool,
) -> Result<Vec<Released>, AllocationError> {
    let ours = ListQuery::new()
        .tag(&fabric.mapping.pools.allocated_tag)
        .filter("description__iew", allocated_by(&fabric.name));
    let asn_query = ours.clone().fields(&["id", "asn"]);
    let prefix_query = ours
        .clone()
        .filter("mask_length", 31)
        .fields(&["id", "prefix"]);
    let (asns, prefixes) = tokio::try_join!(
        client.list::<AsnObject>(ep::ASNS.path, &asn_query),
        client.list::<PrefixObject>(ep::PREFIXES.path, &prefix_query),
    )?;
    let held = Held::of(fabric, snapshot);
    let mut released: Vec<Released> = asns
        .into_iter()
        .filter(|a| !held.asns.contains(&a.asn))
        .map(|a| Released {
            object_type: ep::ASNS.object_type,
            id: a.id,
            value: format!("ASN {}", a.asn),
        })
        .collect();
    let orphan_nets: Vec<PrefixObject> = prefixes
        .into_iter()
        .filter(|p| {
            p.prefix
                .parse()
                .is_ok_and(|n: Ipv4Net| !held.link_nets.contains(&n.trunc()))
        })
        .collect();
    if !orphan_nets.is_empty() {
        let parents = orphan_nets.iter().map(|p| p.prefix.as_str());
        let query = parents.fold(ours.fields(&["id", "address"]), |q, p| {
            q.filter("parent", p)
        });
        let ends: Vec<AddressObject> = client.list(ep::IP_ADDRESSES.path, &query).await?;
        released.extend(ends.into_iter().map(|ip| Released {
            object_type: ep::IP_ADDRESSES.object_type,
            id: ip.id,
            value: format!("link address {}", ip.address),
        }));
    }
    released.extend(orphan_nets.into_iter().map(|p| Released {
        object_type: ep::PREFIXES.object_type,
        id: p.id,
        value: format!("/31 {}", p.prefix),
    }));
    if !dry_run {
        delete(client, &released).await?;
    }
    for r in &released {
        tracing::info!(fabric = %fabric.name, object_type = r.object_type, id = r.id,
            value = %r.value, dry_run, "released: nothing holds it any more");
    }
    Ok(released)
}

/// What the fabric's switches and links hold now.
struct Held {
    asns: BTreeSet<u32>,
    /// The `/31`s of the fabric's fabric, mesh and gateway links with an address on either end.
    link_nets: BTreeSet<Ipv4Net>,
}

impl Held {
    fn of(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> Self {
        let index = Index::build(fabric, snapshot);
        let is_switch = |device: u64| matches!(index.role(device), DeviceRole::Switch(_));
        let asn_field = &fabric.mapping.custom_fields.asn;
        let asns = snapshot
            .devices
            .iter()
            .filter(|d| is_switch(d.id))
            .filter_map(|d| d.custom_fields.integer(asn_field))
            .filter_map(|asn| u32::try_from(asn).ok())
            .collect();
        let link_nets = addressed_links(&index)
            .flat_map(|(_, a, b)| [a.id, b.id])
            .flat_map(|interface| index.interface_ips(interface).iter())
            .filter_map(|ip| ip.address.parse::<Ipv4Net>().ok())
            .map(|net| net.trunc())
            .collect();
        Self { asns, link_nets }
    }
}

/// Deletes the released objects, the addresses before the prefixes that hold them.
async fn delete(client: &NetBoxClient, released: &[Released]) -> Result<(), AllocationError> {
    let endpoints: [Endpoint; 3] = [ep::IP_ADDRESSES, ep::PREFIXES, ep::ASNS];
    for endpoint in endpoints {
        let ids: Vec<u64> = released
            .iter()
            .filter(|r| r.object_type == endpoint.object_type)
            .map(|r| r.id)
            .collect();
        for chunk in ids.chunks(WRITE_CHUNK) {
            let body: Vec<_> = chunk.iter().map(|id| json!({ "id": id })).collect();
            client.delete(endpoint.path, Some(&body)).await?;
        }
    }
    Ok(())
}
