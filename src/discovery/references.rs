//! What created objects point at, made to exist before they are created: sites, device roles,
//! manufacturers, device types, platforms, cluster types (by slug) and clusters (by name).
//! Each missing one is created, named after its slug; existing ones are used as they are.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use super::create::Create;
use crate::netbox::endpoints::{
    CLUSTER_TYPES, CLUSTERS, DEVICE_ROLES, DEVICE_TYPES, Endpoint, MANUFACTURERS, PLATFORMS, SITES,
};
use crate::netbox::{ListQuery, NetBoxClient, NetBoxError};

#[derive(Deserialize)]
struct Row {
    id: u64,
}

/// Makes every reference of `creates` exist; returns the clusters' ids by name.
pub async fn ensure(
    client: &NetBoxClient,
    creates: &[Create],
) -> Result<BTreeMap<String, u64>, NetBoxError> {
    let targets: Vec<_> = creates
        .iter()
        .filter_map(|c| c.placement.as_ref())
        .collect();
    let mut sites = BTreeSet::new();
    let mut types = BTreeSet::new();
    // Virtual machines (with a cluster) need neither a site nor a device type.
    for target in targets.iter().filter(|t| t.cluster.is_none()) {
        sites.insert(target.site.clone());
        types.insert((target.manufacturer.clone(), target.device_type.clone()));
    }
    for site in &sites {
        by_slug(client, SITES, site, json!({})).await?;
    }
    for role in targets.iter().map(|t| &t.role).collect::<BTreeSet<_>>() {
        by_slug(client, DEVICE_ROLES, role, json!({"vm_role": true})).await?;
    }
    for platform in targets
        .iter()
        .filter_map(|t| t.platform.as_ref())
        .collect::<BTreeSet<_>>()
    {
        by_slug(client, PLATFORMS, platform, json!({})).await?;
    }
    for (manufacturer, device_type) in &types {
        by_slug(client, MANUFACTURERS, manufacturer, json!({})).await?;
        let body = json!({"manufacturer": {"slug": manufacturer}, "model": device_type});
        by_slug(client, DEVICE_TYPES, device_type, body).await?;
    }
    let mut clusters = BTreeMap::new();
    for cluster in targets
        .iter()
        .filter_map(|t| t.cluster.as_ref())
        .collect::<BTreeSet<_>>()
    {
        by_slug(client, CLUSTER_TYPES, &cluster.cluster_type, json!({})).await?;
        let query = ListQuery::new().filter("name", &cluster.name);
        let id = match client.list::<Row>(CLUSTERS.path, &query).await?.first() {
            Some(row) => row.id,
            None => {
                let body = json!({"name": cluster.name, "type": {"slug": cluster.cluster_type}});
                client.post::<_, Row>(CLUSTERS.path, &body).await?.id
            }
        };
        clusters.insert(cluster.name.clone(), id);
    }
    Ok(clusters)
}

/// The object of `endpoint` with `slug`, created with `extra` fields when missing
/// (`model` for device types, `name` otherwise).
async fn by_slug(
    client: &NetBoxClient,
    endpoint: Endpoint,
    slug: &str,
    extra: Value,
) -> Result<u64, NetBoxError> {
    let query = ListQuery::new().filter("slug", slug);
    if let Some(row) = client.list::<Row>(endpoint.path, &query).await?.first() {
        return Ok(row.id);
    }
    let mut body = json!({"slug": slug});
    if extra.get("model").is_none() {
        body["name"] = json!(slug);
    }
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    Ok(client.post::<_, Row>(endpoint.path, &body).await?.id)
}
