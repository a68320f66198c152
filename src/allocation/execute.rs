//! Carrying out a plan through NetBox's allocation endpoints. Each value is taken by NetBox
//! itself (`available-asns`, `available-ips`, `available-prefixes`, which lock the pool while
//! they pick), so concurrent allocators never get the same value; every answer is checked
//! against the pool before it is used, and one outside it is deleted again and reported.

use ipnet::Ipv4Net;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::AllocationError;
use super::mirror::PoolIds;
use super::plan::{AsnNeed, LinkNeed, Plan, Slot, SwitchNeeds, Taken};
use super::pools::Pools;
use crate::config::FabricConfig;
use crate::netbox::NetBoxClient;
use crate::netbox::endpoints as ep;

/// One value set on one object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Allocated {
    pub object_type: &'static str,
    pub id: u64,
    pub name: String,
    /// What was set, in words (`ASN 65101`, `protocol IP 10.0.0.1/32 on Loopback0`).
    pub value: String,
}

#[derive(Deserialize)]
struct CreatedIp {
    id: u64,
    address: String,
}

#[derive(Deserialize)]
struct CreatedAsn {
    id: u64,
    asn: u32,
}

#[derive(Deserialize)]
struct CreatedPrefix {
    id: u64,
    prefix: String,
}

#[derive(Deserialize)]
struct CreatedInterface {
    id: u64,
}

struct Executor<'a> {
    client: &'a NetBoxClient,
    taken: &'a Taken,
    fabric: &'a FabricConfig,
    pools: Pools,
    ids: PoolIds,
}

/// Allocates everything `plan` lacks; returns what was set.
pub async fn execute(
    client: &NetBoxClient,
    fabric: &FabricConfig,
    ids: &PoolIds,
    plan: &Plan,
) -> Result<Vec<Allocated>, AllocationError> {
    let executor = Executor {
        client,
        taken: &plan.taken,
        fabric,
        pools: Pools::from_settings(&fabric.mapping.settings),
        ids: *ids,
    };
    // The client bounds the requests in flight; NetBox's locks keep the values distinct.
    let switches = futures::future::try_join_all(plan.switches.iter().map(|n| executor.switch(n)));
    let switches = switches.await?;
    let links = futures::future::try_join_all(plan.links.iter().map(|l| executor.link(l)));
    let links = links.await?;
    Ok(switches.into_iter().chain(links).flatten().collect())
}

impl Executor<'_> {
    fn description(&self, what: &str) -> String {
        format!("{what} {}", allocated_by(&self.fabric.name))
    }

    /// The tags of an allocated object: the allocated tag (see [`super::release`]), then `tag`.
    fn tags(&self, tag: Option<&str>) -> Value {
        let allocated = Some(self.fabric.mapping.pools.allocated_tag.as_str());
        json!(
            [allocated, tag]
                .into_iter()
                .flatten()
                .map(|slug| json!({ "slug": slug }))
                .collect::<Vec<_>>()
        )
    }

    async fn switch(&self, needs: &SwitchNeeds) -> Result<Vec<Allocated>, AllocationError> {
        let mut done = Vec::new();
        let mut patch = Map::new();
        let allocated = |value: String| Allocated {
            object_type: "dcim.device",
            id: needs.device,
            name: needs.name.clone(),
            value,
        };
        let asn = match &needs.asn {
            Some(AsnNeed::Spine(asn)) => Some(*asn),
            Some(AsnNeed::Leaf) => Some(self.leaf_asn(&needs.name).await?),
            None => None,
        };
        if let Some(asn) = asn {
            let field = self.fabric.mapping.custom_fields.asn.clone();
            patch.insert("custom_fields".into(), json!({ field: asn }));
            done.push(allocated(format!("ASN {asn}")));
        }
        if let Some(slot) = &needs.management {
            let ip = self.management_ip(needs, slot).await?;
            patch.insert("primary_ip4".into(), json!(ip.id));
            done.push(allocated(format!(
                "management IP {} on {}",
                ip.address, slot.interface_name
            )));
        }
        let tags = &self.fabric.mapping;
        let loopbacks = [
            (
                "protocol IP",
                &needs.protocol,
                self.ids.protocol,
                self.pools.protocol,
                &tags.tag_protocol_ip,
            ),
            (
                "VTEP IP",
                &needs.vtep,
                self.ids.vtep,
                self.pools.vtep,
                &tags.tag_vtep_ip,
            ),
        ];
        for (what, slot, prefix, pool, tag) in loopbacks {
            if let Some(slot) = slot {
                let address = self
                    .loopback(needs, slot, what, (prefix, pool), tag)
                    .await?;
                done.push(allocated(format!(
                    "{what} {address} on {}",
                    slot.interface_name
                )));
            }
        }
        if !patch.is_empty() {
            let _: Value = self
                .client
                .patch(&ep::DEVICES.detail(needs.device), &patch)
                .await?;
        }
        Ok(done)
    }

    async fn leaf_asn(&self, device: &str) -> Result<u32, AllocationError> {
        let path = format!(
            "{}{}/available-asns/",
            ep::ASN_RANGES.path,
            self.ids.asn_range
        );
        let body = json!({"description": self.description(device), "tags": self.tags(None)});
        loop {
            let created: CreatedAsn = self.client.post(&path, &body).await?;
            if !self.pools.leaf_asns.contains(&created.asn) {
                self.client
                    .delete::<()>(&ep::ASNS.detail(created.id), None)
                    .await?;
                return Err(AllocationError::Refused {
                    object: device.to_owned(),
                    value: format!("ASN {}", created.asn),
                    problem: "is outside the leaf ASN range".into(),
                });
            }
            // Held by a switch already: kept as taken, so the range runs out eventually.
            if !self.taken.asns.contains(&created.asn) {
                return Ok(created.asn);
            }
        }
    }

    async fn management_ip(
        &self,
        needs: &SwitchNeeds,
        slot: &Slot,
    ) -> Result<CreatedIp, AllocationError> {
        let interface = self
            .interface(needs.device, slot, "1000base-t", true)
            .await?;
        let body = json!({
            "assigned_object_type": "dcim.interface", "assigned_object_id": interface,
            "status": "active", "description": self.description(&format!("{} management", needs.name)),
            "tags": self.tags(None),
        });
        let ip = self.available_ip(self.ids.management, &body).await?;
        let problem = parse(&ip.address).and_then(|net| self.pools.management_problem(&net));
        self.refuse_ip(&ip, &needs.name, problem).await?;
        Ok(ip)
    }

    /// A `/32` from a loopback pool on the switch's loopback interface, tagged.
    async fn loopback(
        &self,
        needs: &SwitchNeeds,
        slot: &Slot,
        what: &str,
        (prefix, pool): (u64, Ipv4Net),
        tag: &str,
    ) -> Result<String, AllocationError> {
        let interface = self.interface(needs.device, slot, "virtual", false).await?;
        let body = json!({
            "assigned_object_type": "dcim.interface", "assigned_object_id": interface,
            "status": "active", "tags": self.tags(Some(tag)),
            "description": self.description(&format!("{} {what}", needs.name)),
        });
        let ip = self.available_ip(prefix, &body).await?;
        // NetBox hands out the pool's prefix length; the fabric wants a host route.
        let host = ip.address.split('/').next().unwrap_or_default();
        let address = format!("{host}/32");
        let problem = parse(&address).and_then(|net| Pools::loopback_problem(what, &pool, &net));
        self.refuse_ip(&ip, &needs.name, problem).await?;
        let _: Value = self
            .client
            .patch(
                &ep::IP_ADDRESSES.detail(ip.id),
                &json!({"address": address}),
            )
            .await?;
        Ok(address)
    }

    async fn available_ip(&self, prefix: u64, body: &Value) -> Result<CreatedIp, AllocationError> {
        let path = format!("{}{prefix}/available-ips/", ep::PREFIXES.path);
        Ok(self.client.post(&path, body).await?)
    }

    /// Deletes an address NetBox handed out that breaks the pool's rule, and says so.
    async fn refuse_ip(
        &self,
        ip: &CreatedIp,
        object: &str,
        problem: Option<String>,
    ) -> Result<(), AllocationError> {
        let Some(problem) = problem else {
            return Ok(());
        };
        self.client
            .delete::<()>(&ep::IP_ADDRESSES.detail(ip.id), None)
            .await?;
        Err(AllocationError::Refused {
            object: object.to_owned(),
            value: ip.address.clone(),
            problem,
        })
    }

    /// The slot's interface, created when the switch has none of that name.
    async fn interface(
        &self,
        device: u64,
        slot: &Slot,
        kind: &str,
        mgmt_only: bool,
    ) -> Result<u64, AllocationError> {
        if let Some(id) = slot.interface {
            return Ok(id);
        }
        let body = json!({"device": device, "name": slot.interface_name, "type": kind,
                          "mgmt_only": mgmt_only});
        let created: CreatedInterface = self.client.post(ep::INTERFACES.path, &body).await?;
        Ok(created.id)
    }

    /// A /31 from the fabric link pool, and its two addresses on the cabled interfaces.
    async fn link(&self, link: &LinkNeed) -> Result<Vec<Allocated>, AllocationError> {
        let label = format!("{} -- {}", link.ends[0].1, link.ends[1].1);
        let path = format!(
            "{}{}/available-prefixes/",
            ep::PREFIXES.path,
            self.ids.fabric_links
        );
        let body = json!({
            "prefix_length": 31, "status": "active",
            "role": {"slug": self.fabric.mapping.pools.fabric_link_role}, "tags": self.tags(None),
            "description": self.description(&format!("cable #{}: {label}", link.cable)),
        });
        let net = loop {
            let net: CreatedPrefix = self.client.post(&path, &body).await?;
            let parsed = parse(&net.prefix);
            if !parsed.is_some_and(|n| self.pools.fabric_links.contains(&n.addr())) {
                self.client
                    .delete::<()>(&ep::PREFIXES.detail(net.id), None)
                    .await?;
                return Err(AllocationError::Refused {
                    object: label,
                    value: net.prefix,
                    problem: format!("is outside the fabric subnet {}", self.pools.fabric_links),
                });
            }
            // A link's /31 that was no prefix yet: kept as taken, and another one asked for.
            if !parsed.is_some_and(|n| self.taken.link_nets.contains(&n.network())) {
                break net;
            }
        };
        let ends: Vec<Value> = link
            .ends
            .iter()
            .map(|(interface, name)| {
                json!({"assigned_object_type": "dcim.interface", "assigned_object_id": interface,
                       "status": "active", "description": self.description(name),
                       "tags": self.tags(None)})
            })
            .collect();
        let path = format!("{}{}/available-ips/", ep::PREFIXES.path, net.id);
        let ips: Vec<CreatedIp> = self.client.post(&path, &ends).await?;
        Ok(link
            .ends
            .iter()
            .zip(ips)
            .map(|((interface, name), ip)| Allocated {
                object_type: "dcim.interface",
                id: *interface,
                name: name.clone(),
                value: format!("link address {} (cable #{})", ip.address, link.cable),
            })
            .collect())
    }
}

/// How an allocated object's description ends: it names the fabric the object was taken for.
pub(super) fn allocated_by(fabric: &str) -> String {
    format!("(allocated by hedgehog-sidecar, fabric {fabric})")
}

fn parse(address: &str) -> Option<Ipv4Net> {
    address.parse().ok()
}
