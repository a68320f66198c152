//! Creating a [`FabricSnapshot`]'s objects in NetBox (end-to-end tests, benchmarks, import):
//! the sites, device types, roles and tags they refer to are ensured first, then every object
//! is bulk-created in dependency order with its references remapped to the new ids.
//! [`delete_snapshot_objects`] removes what a (loaded) snapshot holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::client::NetBoxClient;
use super::endpoints::{self as ep, Endpoint};
use super::error::NetBoxError;
use super::setup::ensure::{Desired, ensure};
use super::snapshot::FabricSnapshot;
use super::types::{Choice, CustomFields, Interface, NestedRef, NetBoxObject, TagRef};
use super::writeback::WRITE_CHUNK;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    NetBox(#[from] NetBoxError),
    #[error("the snapshot's {from} refers to {object_type} #{id}, which it does not contain")]
    MissingReference {
        from: String,
        object_type: &'static str,
        id: u64,
    },
}

/// Old (snapshot) id → new (NetBox) id, per object type.
#[derive(Debug, Clone, Default)]
pub struct IdMap(HashMap<(&'static str, u64), u64>);

impl IdMap {
    pub fn get(&self, object_type: &'static str, old: u64) -> Option<u64> {
        self.0.get(&(object_type, old)).copied()
    }

    pub fn insert(&mut self, object_type: &'static str, old: u64, new: u64) {
        self.0.insert((object_type, old), new);
    }

    fn need(&self, object_type: &'static str, old: u64, from: &str) -> Result<u64, SeedError> {
        self.get(object_type, old)
            .ok_or_else(|| SeedError::MissingReference {
                from: from.to_owned(),
                object_type,
                id: old,
            })
    }

    fn opt(
        &self,
        object_type: &'static str,
        reference: Option<u64>,
        from: &str,
    ) -> Result<Value, SeedError> {
        match reference {
            Some(old) => Ok(json!(self.need(object_type, old, from)?)),
            None => Ok(Value::Null),
        }
    }
}

/// Where objects without a site go, and what prerequisites are called.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Slug of the site for devices whose `site` has no slug or name.
    pub default_site: String,
    /// Manufacturer slug for device types the snapshot names.
    pub manufacturer: String,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            default_site: "hedgehog".into(),
            manufacturer: "hedgehog".into(),
        }
    }
}

/// Creates every object of `snapshot` in NetBox and returns the id mapping.
pub async fn create_snapshot_objects(
    client: &NetBoxClient,
    snapshot: &FabricSnapshot,
    options: &SeedOptions,
) -> Result<IdMap, SeedError> {
    create_snapshot_objects_with(client, snapshot, options, IdMap::default()).await
}

/// Like [`create_snapshot_objects`], for a snapshot whose objects may also refer to objects
/// already in NetBox: `ids` maps those references (snapshot id → NetBox id). Returns `ids`
/// with the created objects added.
pub(crate) async fn create_snapshot_objects_with(
    client: &NetBoxClient,
    snapshot: &FabricSnapshot,
    options: &SeedOptions,
    mut ids: IdMap,
) -> Result<IdMap, SeedError> {
    let refs = Prerequisites::ensure(client, snapshot, options).await?;
    let s = snapshot;
    let bodies = route_target_bodies(s);
    create(
        client,
        ep::ROUTE_TARGETS,
        &s.route_targets,
        bodies,
        &mut ids,
    )
    .await?;
    let bodies = vrf_bodies(s, &ids)?;
    create(client, ep::VRFS, &s.vrfs, bodies, &mut ids).await?;
    let bodies = vlan_group_bodies(s);
    create(client, ep::VLAN_GROUPS, &s.vlan_groups, bodies, &mut ids).await?;
    let bodies = vlan_bodies(s, &ids)?;
    create(client, ep::VLANS, &s.vlans, bodies, &mut ids).await?;
    let bodies = device_bodies(s, &refs);
    create(client, ep::DEVICES, &s.devices, bodies, &mut ids).await?;
    // LAGs and parents before the interfaces that point at them.
    let (first, second): (Vec<&Interface>, Vec<&Interface>) = s
        .interfaces
        .iter()
        .partition(|i| i.lag.is_none() && i.parent.is_none());
    for pass in [first, second] {
        let bodies = pass
            .iter()
            .map(|i| interface_body(i, &ids))
            .collect::<Result<Vec<_>, _>>()?;
        let objects: Vec<Interface> = pass.into_iter().cloned().collect();
        create(client, ep::INTERFACES, &objects, bodies, &mut ids).await?;
    }
    let bodies = mac_address_bodies(s, &ids)?;
    create(
        client,
        ep::MAC_ADDRESSES,
        &s.mac_addresses,
        bodies,
        &mut ids,
    )
    .await?;
    let bodies = ip_address_bodies(s, &ids)?;
    create(client, ep::IP_ADDRESSES, &s.ip_addresses, bodies, &mut ids).await?;
    let bodies = cable_bodies(s, &ids)?;
    create(client, ep::CABLES, &s.cables, bodies, &mut ids).await?;
    let bodies = prefix_bodies(s, &ids, &refs)?;
    create(client, ep::PREFIXES, &s.prefixes, bodies, &mut ids).await?;
    let bodies = ip_range_bodies(s, &ids, &refs)?;
    create(client, ep::IP_RANGES, &s.ip_ranges, bodies, &mut ids).await?;
    link_primaries(client, snapshot, &ids).await?;
    Ok(ids)
}

fn route_target_bodies(s: &FabricSnapshot) -> Vec<Value> {
    s.route_targets
        .iter()
        .map(|r| with_meta(json!({"name": r.name}), &r.tags, &r.custom_fields))
        .collect()
}

fn vrf_bodies(s: &FabricSnapshot, ids: &IdMap) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for v in &s.vrfs {
        let from = v.display_name();
        let targets = |list: &[NestedRef]| -> Result<Vec<u64>, SeedError> {
            list.iter()
                .map(|r| ids.need("ipam.routetarget", r.id, &from))
                .collect()
        };
        bodies.push(with_meta(
            json!({"name": v.name, "rd": v.rd, "description": v.description.clone().unwrap_or_default(),
                   "import_targets": targets(&v.import_targets)?, "export_targets": targets(&v.export_targets)?}),
            &v.tags,
            &v.custom_fields,
        ));
    }
    Ok(bodies)
}

fn vlan_group_bodies(s: &FabricSnapshot) -> Vec<Value> {
    s.vlan_groups
        .iter()
        .map(|g| {
            with_meta(
                json!({"name": g.name, "slug": g.slug, "vid_ranges": g.vid_ranges,
                       "description": g.description.clone().unwrap_or_default()}),
                &g.tags,
                &g.custom_fields,
            )
        })
        .collect()
}

fn vlan_bodies(s: &FabricSnapshot, ids: &IdMap) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for v in &s.vlans {
        let from = v.display_name();
        let group = ids.opt("ipam.vlangroup", v.group.as_ref().map(|g| g.id), &from)?;
        bodies.push(with_meta(
            json!({"vid": v.vid, "name": v.name, "group": group, "status": choice(&v.status, "active")}),
            &v.tags,
            &v.custom_fields,
        ));
    }
    Ok(bodies)
}

fn device_bodies(s: &FabricSnapshot, refs: &Prerequisites) -> Vec<Value> {
    s.devices
        .iter()
        .map(|d| {
            with_meta(
                json!({"name": d.name, "device_type": refs.device_type(d.device_type.as_ref()),
                       "role": refs.device_role(d.role.as_ref()), "site": refs.site(d.site.as_ref()),
                       "status": choice(&d.status, "active"), "serial": d.serial.clone().unwrap_or_default(),
                       "description": d.description.clone().unwrap_or_default()}),
                &d.tags,
                &d.custom_fields,
            )
        })
        .collect()
}

fn mac_address_bodies(s: &FabricSnapshot, ids: &IdMap) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for m in &s.mac_addresses {
        let (kind, id) = assigned(
            ids,
            &m.assigned_object_type,
            m.assigned_object_id,
            &m.mac_address,
        )?;
        bodies.push(json!({"mac_address": m.mac_address, "assigned_object_type": kind, "assigned_object_id": id}));
    }
    Ok(bodies)
}

fn ip_address_bodies(s: &FabricSnapshot, ids: &IdMap) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for a in &s.ip_addresses {
        let from = a.display_name();
        let (kind, id) = assigned(ids, &a.assigned_object_type, a.assigned_object_id, &from)?;
        let mut body = json!({"address": a.address, "vrf": ids.opt("ipam.vrf", a.vrf.as_ref().map(|v| v.id), &from)?,
            "status": choice(&a.status, "active"), "description": a.description.clone().unwrap_or_default(),
            "assigned_object_type": kind, "assigned_object_id": id});
        if let Some(role) = &a.role {
            body["role"] = json!(role.value);
        }
        bodies.push(with_meta(body, &a.tags, &a.custom_fields));
    }
    Ok(bodies)
}

fn cable_bodies(s: &FabricSnapshot, ids: &IdMap) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for c in &s.cables {
        let from = c.display_name();
        let ends = |list: &[super::types::CableTermination]| -> Result<Vec<Value>, SeedError> {
            list.iter()
                .map(|t| {
                    let object_type = static_type(&t.object_type);
                    Ok(json!({"object_type": t.object_type, "object_id": ids.need(object_type, t.object_id, &from)?}))
                })
                .collect()
        };
        bodies.push(with_meta(
            json!({"a_terminations": ends(&c.a_terminations)?, "b_terminations": ends(&c.b_terminations)?,
                   "status": choice(&c.status, "connected"), "label": c.label.clone().unwrap_or_default()}),
            &c.tags,
            &c.custom_fields,
        ));
    }
    Ok(bodies)
}

fn prefix_bodies(
    s: &FabricSnapshot,
    ids: &IdMap,
    refs: &Prerequisites,
) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for p in &s.prefixes {
        let from = p.display_name();
        bodies.push(with_meta(
            json!({"prefix": p.prefix, "vrf": ids.opt("ipam.vrf", p.vrf.as_ref().map(|v| v.id), &from)?,
                   "vlan": ids.opt("ipam.vlan", p.vlan.as_ref().map(|v| v.id), &from)?,
                   "status": choice(&p.status, "active"), "role": refs.ipam_role(p.role.as_ref()),
                   "description": p.description.clone().unwrap_or_default()}),
            &p.tags,
            &p.custom_fields,
        ));
    }
    Ok(bodies)
}

fn ip_range_bodies(
    s: &FabricSnapshot,
    ids: &IdMap,
    refs: &Prerequisites,
) -> Result<Vec<Value>, SeedError> {
    let mut bodies = Vec::new();
    for r in &s.ip_ranges {
        let from = r.display_name();
        bodies.push(with_meta(
            json!({"start_address": r.start_address, "end_address": r.end_address,
                   "vrf": ids.opt("ipam.vrf", r.vrf.as_ref().map(|v| v.id), &from)?,
                   "status": choice(&r.status, "active"), "role": refs.ipam_role(r.role.as_ref())}),
            &r.tags,
            &r.custom_fields,
        ));
    }
    Ok(bodies)
}

/// Sets devices' primary IPv4 and interfaces' primary MAC, which need the addresses to exist.
async fn link_primaries(
    client: &NetBoxClient,
    s: &FabricSnapshot,
    ids: &IdMap,
) -> Result<(), SeedError> {
    let mut devices = Vec::new();
    for d in &s.devices {
        if let Some(ip) = &d.primary_ip4 {
            let from = d.display_name();
            devices.push(json!({"id": ids.need("dcim.device", d.id, &from)?,
                                "primary_ip4": ids.need("ipam.ipaddress", ip.id, &from)?}));
        }
    }
    let macs: BTreeMap<(u64, String), u64> = s
        .mac_addresses
        .iter()
        .filter(|m| m.assigned_object_type.as_deref() == Some("dcim.interface"))
        .filter_map(|m| Some(((m.assigned_object_id?, m.mac_address.to_lowercase()), m.id)))
        .collect();
    let mut interfaces = Vec::new();
    for i in &s.interfaces {
        let Some(mac) = &i.mac_address else { continue };
        if let Some(mac_id) = macs.get(&(i.id, mac.to_lowercase())) {
            let from = i.display_name();
            interfaces.push(json!({"id": ids.need("dcim.interface", i.id, &from)?,
                                   "primary_mac_address": ids.need("dcim.macaddress", *mac_id, &from)?}));
        }
    }
    for (endpoint, bodies) in [(ep::DEVICES, devices), (ep::INTERFACES, interfaces)] {
        for chunk in bodies.chunks(WRITE_CHUNK) {
            let _: Vec<Value> = client.patch(endpoint.path, chunk).await?;
        }
    }
    Ok(())
}

fn interface_body(i: &Interface, ids: &IdMap) -> Result<Value, SeedError> {
    let from = i.display_name();
    let tagged = i
        .tagged_vlans
        .iter()
        .map(|v| ids.need("ipam.vlan", v.id, &from))
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = json!({
        "device": ids.need("dcim.device", i.device.id, &from)?,
        "name": i.name,
        "type": choice(&i.r#type, "other"),
        "enabled": i.enabled.unwrap_or(true),
        "parent": ids.opt("dcim.interface", i.parent.as_ref().map(|p| p.id), &from)?,
        "lag": ids.opt("dcim.interface", i.lag.as_ref().map(|l| l.id), &from)?,
        "mtu": i.mtu,
        "speed": i.speed,
        "mgmt_only": i.mgmt_only.unwrap_or(false),
        "description": i.description.clone().unwrap_or_default(),
        "untagged_vlan": ids.opt("ipam.vlan", i.untagged_vlan.as_ref().map(|v| v.id), &from)?,
        "vrf": ids.opt("ipam.vrf", i.vrf.as_ref().map(|v| v.id), &from)?,
    });
    if let Some(mode) = &i.mode {
        body["mode"] = json!(mode.value);
    }
    if !tagged.is_empty() {
        body["tagged_vlans"] = json!(tagged);
    }
    Ok(with_meta(body, &i.tags, &i.custom_fields))
}

fn assigned(
    ids: &IdMap,
    kind: &Option<String>,
    id: Option<u64>,
    from: &str,
) -> Result<(Value, Value), SeedError> {
    match (kind.as_deref(), id) {
        (Some(kind), Some(id)) => Ok((json!(kind), json!(ids.need(static_type(kind), id, from)?))),
        _ => Ok((Value::Null, Value::Null)),
    }
}

/// The `'static` object type name used as [`IdMap`] key.
fn static_type(object_type: &str) -> &'static str {
    ep::for_object_type(object_type).map_or("unknown", |e| e.object_type)
}

fn choice(value: &Option<Choice>, default: &str) -> String {
    value
        .as_ref()
        .map_or_else(|| default.to_owned(), |c| c.value.clone())
}

/// Adds tags (by slug) and custom fields in their write form (a select's raw value).
fn with_meta(mut body: Value, tags: &[TagRef], custom_fields: &CustomFields) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .filter_map(|t| t.slug.as_ref().or(t.name.as_ref()))
        .map(|slug| json!({"slug": slug}))
        .collect();
    let fields: Map<String, Value> = custom_fields
        .0
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), custom_field_write_value(v)))
        .collect();
    if let Value::Object(map) = &mut body {
        if !tags.is_empty() {
            map.insert("tags".into(), json!(tags));
        }
        if !fields.is_empty() {
            map.insert("custom_fields".into(), Value::Object(fields));
        }
        map.retain(|_, v| !v.is_null());
    }
    body
}

/// Select fields read as `{value, label}` but are written as the value.
pub(crate) fn custom_field_write_value(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("value") && map.contains_key("label") => {
            map["value"].clone()
        }
        Value::Array(items) => Value::Array(items.iter().map(custom_field_write_value).collect()),
        other => other.clone(),
    }
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// Bulk-creates `bodies` (one per object, same order) in chunks and records the new ids.
async fn create<T: NetBoxObject>(
    client: &NetBoxClient,
    endpoint: Endpoint,
    objects: &[T],
    bodies: Vec<Value>,
    ids: &mut IdMap,
) -> Result<(), SeedError> {
    let chunks: Vec<Vec<Created>> = stream::iter(bodies.chunks(WRITE_CHUNK))
        .map(|chunk| client.post::<_, Vec<Created>>(endpoint.path, chunk))
        .buffered(client.concurrency())
        .try_collect()
        .await?;
    for (object, created) in objects.iter().zip(chunks.into_iter().flatten()) {
        ids.insert(T::OBJECT_TYPE, object.id(), created.id);
    }
    Ok(())
}

/// Ids of the sites, device types, roles and tags a snapshot names, created when missing.
struct Prerequisites {
    sites: BTreeMap<String, u64>,
    device_types: BTreeMap<String, u64>,
    device_roles: BTreeMap<String, u64>,
    ipam_roles: BTreeMap<String, u64>,
    default_site: String,
}

fn slug_of(reference: Option<&NestedRef>) -> Option<String> {
    let r = reference?;
    r.slug.clone().or_else(|| r.name.clone())
}

/// The prerequisites a snapshot names, by kind.
struct Named {
    sites: BTreeSet<String>,
    device_roles: BTreeSet<String>,
    device_types: BTreeSet<String>,
    ipam_roles: BTreeSet<String>,
    tags: BTreeSet<String>,
}

impl Named {
    fn of(s: &FabricSnapshot, options: &SeedOptions) -> Self {
        let mut sites: BTreeSet<String> = s
            .devices
            .iter()
            .filter_map(|d| slug_of(d.site.as_ref()))
            .collect();
        sites.insert(options.default_site.clone());
        Named {
            sites,
            device_roles: s
                .devices
                .iter()
                .filter_map(|d| slug_of(d.role.as_ref()))
                .collect(),
            device_types: s
                .devices
                .iter()
                .filter_map(|d| slug_of(d.device_type.as_ref()))
                .collect(),
            ipam_roles: s
                .prefixes
                .iter()
                .filter_map(|p| slug_of(p.role.as_ref()))
                .chain(s.ip_ranges.iter().filter_map(|r| slug_of(r.role.as_ref())))
                .collect(),
            tags: all_tags(s),
        }
    }
}

/// Prerequisites ensured by slug.
fn by_slug(desired: &[(Endpoint, String, Value)]) -> Vec<Desired> {
    desired
        .iter()
        .map(|(endpoint, slug, body)| Desired {
            endpoint: *endpoint,
            key: "slug",
            value: slug.clone(),
            body: body.as_object().cloned().unwrap_or_default(),
            union_fields: &[],
            kept_fields: &[],
        })
        .collect()
}

fn simple_body(slug: &str) -> Value {
    json!({"name": slug, "slug": slug})
}

impl Prerequisites {
    async fn ensure(
        client: &NetBoxClient,
        s: &FabricSnapshot,
        options: &SeedOptions,
    ) -> Result<Self, SeedError> {
        let named = Named::of(s, options);
        let by_type = Self::ensure_independent(client, &named, options).await?;
        let manufacturer = by_type[&(ep::MANUFACTURERS.object_type, options.manufacturer.clone())];
        let types: Vec<(Endpoint, String, Value)> = named
            .device_types
            .iter()
            .map(|t| {
                (
                    ep::DEVICE_TYPES,
                    t.clone(),
                    json!({"model": t, "slug": t, "manufacturer": manufacturer}),
                )
            })
            .collect();
        let types = by_slug(&types);
        let type_ids =
            futures::future::try_join_all(types.iter().map(|d| ensure(client, d))).await?;
        let pick = |object_type: &str| -> BTreeMap<String, u64> {
            by_type
                .iter()
                .filter(|((t, _), _)| *t == object_type)
                .map(|((_, slug), id)| (slug.clone(), *id))
                .collect()
        };
        Ok(Self {
            sites: pick(ep::SITES.object_type),
            device_roles: pick(ep::DEVICE_ROLES.object_type),
            ipam_roles: pick(ep::IPAM_ROLES.object_type),
            device_types: types
                .iter()
                .zip(type_ids)
                .map(|(d, (id, _))| (d.value.clone(), id))
                .collect(),
            default_site: options.default_site.clone(),
        })
    }

    /// Sites, roles, tags and the manufacturer (which refer to nothing), by type and slug.
    async fn ensure_independent(
        client: &NetBoxClient,
        named: &Named,
        options: &SeedOptions,
    ) -> Result<BTreeMap<(&'static str, String), u64>, SeedError> {
        let mut first: Vec<(Endpoint, String, Value)> = Vec::new();
        let kinds = [
            (ep::SITES, &named.sites),
            (ep::DEVICE_ROLES, &named.device_roles),
            (ep::IPAM_ROLES, &named.ipam_roles),
            (ep::TAGS, &named.tags),
        ];
        for (endpoint, slugs) in kinds {
            first.extend(slugs.iter().map(|x| (endpoint, x.clone(), simple_body(x))));
        }
        first.push((
            ep::MANUFACTURERS,
            options.manufacturer.clone(),
            simple_body(&options.manufacturer),
        ));
        let first = by_slug(&first);
        let first_ids =
            futures::future::try_join_all(first.iter().map(|d| ensure(client, d))).await?;
        Ok(first
            .iter()
            .zip(first_ids)
            .map(|(d, (id, _))| ((d.endpoint.object_type, d.value.clone()), id))
            .collect())
    }

    fn site(&self, r: Option<&NestedRef>) -> Value {
        let slug = slug_of(r).unwrap_or_else(|| self.default_site.clone());
        json!(self.sites.get(&slug))
    }
    fn device_type(&self, r: Option<&NestedRef>) -> Value {
        json!(slug_of(r).and_then(|s| self.device_types.get(&s)))
    }
    fn device_role(&self, r: Option<&NestedRef>) -> Value {
        json!(slug_of(r).and_then(|s| self.device_roles.get(&s)))
    }
    fn ipam_role(&self, r: Option<&NestedRef>) -> Value {
        json!(slug_of(r).and_then(|s| self.ipam_roles.get(&s)))
    }
}

fn all_tags(s: &FabricSnapshot) -> BTreeSet<String> {
    let lists = s
        .devices
        .iter()
        .map(|o| &o.tags)
        .chain(s.interfaces.iter().map(|o| &o.tags))
        .chain(s.ip_addresses.iter().map(|o| &o.tags))
        .chain(s.cables.iter().map(|o| &o.tags))
        .chain(s.vlan_groups.iter().map(|o| &o.tags))
        .chain(s.vlans.iter().map(|o| &o.tags))
        .chain(s.vrfs.iter().map(|o| &o.tags))
        .chain(s.route_targets.iter().map(|o| &o.tags))
        .chain(s.prefixes.iter().map(|o| &o.tags))
        .chain(s.ip_ranges.iter().map(|o| &o.tags));
    lists
        .flatten()
        .filter_map(|t| t.slug.clone().or_else(|| t.name.clone()))
        .collect()
}

/// Deletes every object a snapshot (as loaded from NetBox) holds, dependants first.
/// Interfaces go with their devices.
pub async fn delete_snapshot_objects(
    client: &NetBoxClient,
    s: &FabricSnapshot,
) -> Result<(), NetBoxError> {
    fn ids<T: NetBoxObject>(objects: &[T]) -> Vec<u64> {
        objects.iter().map(NetBoxObject::id).collect()
    }
    let order: [(Endpoint, Vec<u64>); 10] = [
        (ep::CABLES, ids(&s.cables)),
        (ep::IP_RANGES, ids(&s.ip_ranges)),
        (ep::PREFIXES, ids(&s.prefixes)),
        (ep::IP_ADDRESSES, ids(&s.ip_addresses)),
        (ep::MAC_ADDRESSES, ids(&s.mac_addresses)),
        (ep::DEVICES, ids(&s.devices)),
        (ep::VLANS, ids(&s.vlans)),
        (ep::VLAN_GROUPS, ids(&s.vlan_groups)),
        (ep::VRFS, ids(&s.vrfs)),
        (ep::ROUTE_TARGETS, ids(&s.route_targets)),
    ];
    for (endpoint, ids) in order {
        for chunk in ids.chunks(WRITE_CHUNK) {
            let body: Vec<Value> = chunk.iter().map(|id| json!({"id": id})).collect();
            client.delete(endpoint.path, Some(&body)).await?;
        }
    }
    Ok(())
}
