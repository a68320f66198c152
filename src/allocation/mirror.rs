//! The pools mirrored into NetBox as native IPAM objects, so users see them and can reserve
//! inside them: a private RIR and an ASN range for the leaf ASNs, a container prefix per
//! subnet (with the roles of `[fabric.mapping.pools]`), the control VIP as a reserved address
//! and the management DHCP range as a populated IP range (both kept out of allocation).

use serde_json::{Map, Value, json};

use super::error::AllocationError;
use super::pools::Pools;
use crate::config::FabricConfig;
use crate::netbox::NetBoxClient;
use crate::netbox::endpoints::{self as ep, Endpoint};
use crate::netbox::setup::ensure::{Desired, ensure};

/// The NetBox ids of a fabric's pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolIds {
    pub asn_range: u64,
    pub management: u64,
    pub protocol: u64,
    pub vtep: u64,
    pub fabric_links: u64,
}

/// Creates or updates the fabric's pools in NetBox; returns their ids.
pub async fn ensure_pools(
    client: &NetBoxClient,
    fabric: &FabricConfig,
) -> Result<PoolIds, AllocationError> {
    let pools = Pools::from_settings(&fabric.mapping.settings);
    let names = &fabric.mapping.pools;
    let rir = desired(
        ep::RIRS,
        "slug",
        &names.rir,
        json!({"name": names.rir, "slug": names.rir, "is_private": true}),
    );
    ensure(client, &rir).await?;
    let slug = asn_range_slug(&fabric.name);
    let range = desired(
        ep::ASN_RANGES,
        "slug",
        &slug,
        json!({
            "name": slug, "slug": slug, "rir": {"slug": names.rir},
            "start": pools.leaf_asns.start(), "end": pools.leaf_asns.end(),
            "description": format!("Leaf ASNs of Hedgehog fabric {}", fabric.name),
        }),
    );
    let prefix = |net: ipnet::Ipv4Net, role: &str, what: &str| {
        desired(
            ep::PREFIXES,
            "prefix",
            &net.to_string(),
            json!({
                "prefix": net.to_string(), "status": "container", "role": {"slug": role},
                "description": format!("{what} of Hedgehog fabric {}", fabric.name),
            }),
        )
    };
    let prefixes = [
        prefix(pools.management, &names.management_role, "Management IPs"),
        prefix(pools.protocol, &names.protocol_role, "Protocol IPs"),
        prefix(pools.vtep, &names.vtep_role, "VTEP IPs"),
        prefix(
            pools.fabric_links,
            &names.fabric_link_role,
            "Fabric link /31s",
        ),
    ];
    let (range, management, protocol, vtep, links) = futures::try_join!(
        ensure(client, &range),
        ensure(client, &prefixes[0]),
        ensure(client, &prefixes[1]),
        ensure(client, &prefixes[2]),
        ensure(client, &prefixes[3]),
    )?;
    ensure_management_reservations(client, fabric, &pools).await?;
    Ok(PoolIds {
        asn_range: range.0,
        management: management.0,
        protocol: protocol.0,
        vtep: vtep.0,
        fabric_links: links.0,
    })
}

/// The slug of a fabric's leaf ASN range.
pub(crate) fn asn_range_slug(fabric: &str) -> String {
    format!(
        "{}-leaf-asns",
        fabric.to_ascii_lowercase().replace(['_', ' ', '.'], "-")
    )
}

/// The control VIP (reserved) and the DHCP range (populated): `available-ips` skips both.
async fn ensure_management_reservations(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    pools: &Pools,
) -> Result<(), AllocationError> {
    let len = pools.management.prefix_len();
    let vip = format!("{}/{len}", pools.control_vip);
    let vip = desired(
        ep::IP_ADDRESSES,
        "address",
        &vip,
        json!({"address": vip, "status": "reserved",
               "description": format!("Control VIP of Hedgehog fabric {}", fabric.name)}),
    );
    ensure(client, &vip).await?;
    let last = u32::from(pools.management.broadcast()).saturating_sub(1);
    if u32::from(pools.management_dhcp_start) > last {
        return Ok(());
    }
    let start = format!("{}/{len}", pools.management_dhcp_start);
    let dhcp = desired(
        ep::IP_RANGES,
        "start_address",
        &start,
        json!({"start_address": start,
               "end_address": format!("{}/{len}", std::net::Ipv4Addr::from(last)),
               "status": "reserved", "mark_populated": true,
               "description": format!("Switch DHCP range of Hedgehog fabric {}", fabric.name)}),
    );
    ensure(client, &dhcp).await?;
    Ok(())
}

fn desired(endpoint: Endpoint, key: &'static str, value: &str, body: Value) -> Desired {
    let body: Map<String, Value> = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Desired {
        endpoint,
        key,
        value: value.to_owned(),
        body,
        union_fields: &[],
        kept_fields: &[],
    }
}
