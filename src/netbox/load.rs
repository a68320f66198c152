//! Loading one fabric's complete NetBox state into a [`FabricSnapshot`].
//!
//! Membership is the custom field `hedgehog_fabric` (configurable). The requests run in three
//! overlapping waves, each list paginated concurrently and asking only for the fields the
//! snapshot keeps:
//! 1. members by custom field: devices, VLAN groups, VRFs, route targets, prefixes, IP ranges,
//!    VLANs and IP addresses;
//! 2. what hangs off them: cables and interfaces of the fabric's devices, the VLANs of its VLAN
//!    groups, IP addresses and ranges of its VRFs, the route targets its VRFs use, the devices'
//!    IP and MAC addresses;
//! 3. the devices cabled to the fabric (servers, externals) with their interfaces and addresses,
//!    as soon as the cables are known.
//!
//! NetBox ignores filters it does not know and `cf_` filters match loosely by default, so every
//! result is checked here as well: a wrong filter can cost time but never adds foreign objects.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::NetBoxClient;
use super::endpoints::{self as ep, Endpoint};
use super::error::NetBoxError;
use super::pagination::ListQuery;
use super::snapshot::FabricSnapshot;
use super::types::{
    Cable, CableTermination, CustomFields, Device, Interface, IpAddress, IpRange, MacAddress,
    NetBoxObject, Prefix, RouteTarget, Vlan, VlanGroup, Vrf,
};
use crate::config::FabricConfig;

/// The fields each snapshot type keeps (`?fields=`).
pub mod fields {
    pub const DEVICE: &[&str] = &[
        "id",
        "name",
        "device_type",
        "role",
        "site",
        "status",
        "serial",
        "description",
        "primary_ip4",
        "tags",
        "custom_fields",
    ];
    /// Interfaces are half of a fabric's objects, and NetBox serialises each one's `tags` and
    /// `cable` with extra queries: leaving them out makes the interface pages about four times
    /// cheaper. The mapping reads cables from the cable list and never reads interface tags.
    pub const INTERFACE: &[&str] = &[
        "id",
        "device",
        "name",
        "type",
        "enabled",
        "parent",
        "lag",
        "mtu",
        "mac_address",
        "speed",
        "mgmt_only",
        "description",
        "mode",
        "untagged_vlan",
        "tagged_vlans",
        "vrf",
        "custom_fields",
    ];
    pub const MAC_ADDRESS: &[&str] = &[
        "id",
        "mac_address",
        "assigned_object_type",
        "assigned_object_id",
    ];
    pub const IP_ADDRESS: &[&str] = &[
        "id",
        "address",
        "vrf",
        "status",
        "role",
        "assigned_object_type",
        "assigned_object_id",
        "description",
        "tags",
        "custom_fields",
    ];
    /// Without `a_terminations`/`b_terminations`: NetBox serialises each termination with its
    /// interface and device (about 7 s per 1,000 cables on the benchmark machine); the flat
    /// rows of `dcim/cable-terminations/` ([`CABLE_TERMINATION`]) cost a fiftieth of that.
    pub const CABLE: &[&str] = &["id", "status", "label", "tags", "custom_fields"];
    pub const VLAN_GROUP: &[&str] = &[
        "id",
        "name",
        "slug",
        "vid_ranges",
        "description",
        "tags",
        "custom_fields",
    ];
    pub const VLAN: &[&str] = &[
        "id",
        "vid",
        "name",
        "group",
        "status",
        "tags",
        "custom_fields",
    ];
    pub const CABLE_TERMINATION: &[&str] = &[
        "id",
        "cable",
        "cable_end",
        "termination_type",
        "termination_id",
    ];
    pub const ROUTE_TARGET: &[&str] = &["id", "name", "tags", "custom_fields"];
    pub const VRF: &[&str] = &[
        "id",
        "name",
        "rd",
        "description",
        "import_targets",
        "export_targets",
        "tags",
        "custom_fields",
    ];
    pub const PREFIX: &[&str] = &[
        "id",
        "prefix",
        "vrf",
        "vlan",
        "status",
        "role",
        "description",
        "tags",
        "custom_fields",
    ];
    pub const IP_RANGE: &[&str] = &[
        "id",
        "start_address",
        "end_address",
        "vrf",
        "status",
        "role",
        "tags",
        "custom_fields",
    ];
}

const INTERFACE_TYPE: &str = "dcim.interface";

/// Loads fabric `fabric.name`: its members, what hangs off them and the devices cabled to them.
pub async fn load_fabric(
    client: &NetBoxClient,
    fabric: &FabricConfig,
) -> Result<FabricSnapshot, NetBoxError> {
    let loader = Loader {
        client,
        cf: &fabric.mapping.custom_fields.fabric,
        fabric: &fabric.name,
    };
    loader.load().await
}

struct Loader<'a> {
    client: &'a NetBoxClient,
    cf: &'a str,
    fabric: &'a str,
}

/// What the cables of the fabric lead to.
struct Peers {
    cables: Vec<Cable>,
    switch_interfaces: Vec<Interface>,
    devices: Vec<Device>,
    interfaces: Vec<Interface>,
    ip_addresses: Vec<IpAddress>,
    mac_addresses: Vec<MacAddress>,
}

/// What waves 2 and 3 read around the members: the cable peers and the objects of the
/// members' switches, VLAN groups and VRFs.
struct Related {
    peers: Peers,
    switch_ips: Vec<IpAddress>,
    switch_macs: Vec<MacAddress>,
    group_vlans: Vec<Vlan>,
    vrf_ips: Vec<IpAddress>,
    vrf_ranges: Vec<IpRange>,
    vrf_targets: Vec<RouteTarget>,
}

impl Loader<'_> {
    async fn load(&self) -> Result<FabricSnapshot, NetBoxError> {
        let members = self.members_by_field().await?;
        let related = self.related(&members).await?;
        let mut snapshot = self.assemble(members, related);
        self.add_outside_vlans(&mut snapshot).await?;
        Ok(snapshot)
    }

    /// Wave 1: the objects whose fabric custom field names this fabric.
    async fn members_by_field(&self) -> Result<FabricSnapshot, NetBoxError> {
        let (devices, vlan_groups, vrfs, route_targets, prefixes, ip_ranges, vlans, ip_addresses) =
            tokio::try_join!(
                self.members::<Device>(ep::DEVICES, fields::DEVICE, |d| &d.custom_fields),
                self.members::<VlanGroup>(ep::VLAN_GROUPS, fields::VLAN_GROUP, |g| &g
                    .custom_fields),
                self.members::<Vrf>(ep::VRFS, fields::VRF, |v| &v.custom_fields),
                self.members::<RouteTarget>(ep::ROUTE_TARGETS, fields::ROUTE_TARGET, |r| &r
                    .custom_fields),
                self.members::<Prefix>(ep::PREFIXES, fields::PREFIX, |p| &p.custom_fields),
                self.members::<IpRange>(ep::IP_RANGES, fields::IP_RANGE, |r| &r.custom_fields),
                self.members::<Vlan>(ep::VLANS, fields::VLAN, |v| &v.custom_fields),
                self.members::<IpAddress>(ep::IP_ADDRESSES, fields::IP_ADDRESS, |a| &a
                    .custom_fields),
            )?;
        Ok(FabricSnapshot {
            devices,
            vlan_groups,
            vrfs,
            route_targets,
            prefixes,
            ip_ranges,
            vlans,
            ip_addresses,
            ..FabricSnapshot::default()
        })
    }

    /// Waves 2 and 3: the cable peers start as soon as the cables are in.
    async fn related(&self, members: &FabricSnapshot) -> Result<Related, NetBoxError> {
        let switch_ids = ids(&members.devices);
        let group_ids = ids(&members.vlan_groups);
        let vrf_ids = ids(&members.vrfs);
        let missing_targets = missing_route_targets(members);
        let (peers, switch_ips, switch_macs, group_vlans, vrf_ips, vrf_ranges, vrf_targets) = tokio::try_join!(
            self.peers(&switch_ids),
            self.by_ids::<IpAddress>(
                ep::IP_ADDRESSES,
                "device_id",
                &switch_ids,
                fields::IP_ADDRESS
            ),
            self.by_ids::<MacAddress>(
                ep::MAC_ADDRESSES,
                "device_id",
                &switch_ids,
                fields::MAC_ADDRESS
            ),
            self.by_ids::<Vlan>(ep::VLANS, "group_id", &group_ids, fields::VLAN),
            self.by_ids::<IpAddress>(ep::IP_ADDRESSES, "vrf_id", &vrf_ids, fields::IP_ADDRESS),
            self.by_ids::<IpRange>(ep::IP_RANGES, "vrf_id", &vrf_ids, fields::IP_RANGE),
            self.by_ids::<RouteTarget>(
                ep::ROUTE_TARGETS,
                "id",
                &missing_targets,
                fields::ROUTE_TARGET
            ),
        )?;
        Ok(Related {
            peers,
            switch_ips,
            switch_macs,
            group_vlans,
            vrf_ips,
            vrf_ranges,
            vrf_targets,
        })
    }

    /// Joins members and related objects, keeping what belongs to the fabric: its members, what
    /// sits in its VRFs and VLAN groups, and what is assigned to a loaded interface.
    fn assemble(&self, members: FabricSnapshot, related: Related) -> FabricSnapshot {
        let peers = related.peers;
        let devices = merge([members.devices, peers.devices]);
        let device_ids: BTreeSet<u64> = devices.iter().map(|d| d.id).collect();
        let interfaces: Vec<Interface> = merge([peers.switch_interfaces, peers.interfaces])
            .into_iter()
            .filter(|i| device_ids.contains(&i.device.id))
            .collect();
        let interface_ids: BTreeSet<u64> = interfaces.iter().map(|i| i.id).collect();
        let on_interface = |kind: Option<&str>, id: Option<u64>| {
            kind == Some(INTERFACE_TYPE) && id.is_some_and(|id| interface_ids.contains(&id))
        };
        let vrf_set: BTreeSet<u64> = members.vrfs.iter().map(|v| v.id).collect();
        let in_vrf = |vrf: &Option<super::types::NestedRef>| {
            vrf.as_ref().is_some_and(|v| vrf_set.contains(&v.id))
        };
        let ip_addresses = [
            members.ip_addresses,
            related.switch_ips,
            peers.ip_addresses,
            related.vrf_ips,
        ];
        let ip_addresses: Vec<IpAddress> = merge(ip_addresses)
            .into_iter()
            .filter(|a| {
                self.is_member(&a.custom_fields)
                    || in_vrf(&a.vrf)
                    || on_interface(a.assigned_object_type.as_deref(), a.assigned_object_id)
            })
            .collect();
        let mac_addresses: Vec<MacAddress> = merge([related.switch_macs, peers.mac_addresses])
            .into_iter()
            .filter(|m| on_interface(m.assigned_object_type.as_deref(), m.assigned_object_id))
            .collect();
        let ip_ranges: Vec<IpRange> = merge([members.ip_ranges, related.vrf_ranges])
            .into_iter()
            .filter(|r| self.is_member(&r.custom_fields) || in_vrf(&r.vrf))
            .collect();
        let vlan_groups_set: BTreeSet<u64> = members.vlan_groups.iter().map(|g| g.id).collect();
        let vlans: Vec<Vlan> = merge([members.vlans, related.group_vlans])
            .into_iter()
            .filter(|v| {
                self.is_member(&v.custom_fields)
                    || v.group
                        .as_ref()
                        .is_some_and(|g| vlan_groups_set.contains(&g.id))
            })
            .collect();
        FabricSnapshot {
            devices,
            interfaces,
            mac_addresses,
            ip_addresses,
            cables: peers.cables,
            vlan_groups: members.vlan_groups,
            vlans,
            vrfs: members.vrfs,
            route_targets: merge([members.route_targets, related.vrf_targets]),
            prefixes: members.prefixes,
            ip_ranges,
        }
    }

    /// VLANs used by the fabric but living outside its groups: rare, usually no request.
    async fn add_outside_vlans(&self, snapshot: &mut FabricSnapshot) -> Result<(), NetBoxError> {
        let missing = missing_vlans(snapshot);
        if missing.is_empty() {
            return Ok(());
        }
        read_vlans(self.client, snapshot, &missing).await
    }

    fn is_member(&self, custom_fields: &CustomFields) -> bool {
        custom_fields.string(self.cf).as_deref() == Some(self.fabric)
    }

    /// Objects of an endpoint whose fabric custom field is exactly this fabric.
    async fn members<T: DeserializeOwned + NetBoxObject>(
        &self,
        endpoint: Endpoint,
        fields: &[&str],
        custom_fields: impl Fn(&T) -> &CustomFields,
    ) -> Result<Vec<T>, NetBoxError> {
        let query = ListQuery::new()
            .custom_field(self.cf, self.fabric)
            .fields(fields);
        let objects: Vec<T> = self.client.list(endpoint.path, &query).await?;
        let members = objects
            .into_iter()
            .filter(|o| self.is_member(custom_fields(o)))
            .collect();
        Ok(merge([members]))
    }

    async fn by_ids<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        key: &str,
        ids: &[u64],
        fields: &[&str],
    ) -> Result<Vec<T>, NetBoxError> {
        let query = ListQuery::new().fields(fields);
        self.client
            .list_by_ids(endpoint.path, key, ids, &query)
            .await
    }

    /// The fabric's cables, and the devices at their far ends with those devices' interfaces
    /// and addresses.
    async fn peers(&self, switch_ids: &[u64]) -> Result<Peers, NetBoxError> {
        let (mut cables, switch_interfaces) = tokio::try_join!(
            self.by_ids::<Cable>(ep::CABLES, "device_id", switch_ids, fields::CABLE),
            self.by_ids::<Interface>(ep::INTERFACES, "device_id", switch_ids, fields::INTERFACE),
        )?;
        let (ends, cabled) = self.cable_ends(&cables, &switch_interfaces).await?;
        let device_of: BTreeMap<u64, u64> = switch_interfaces
            .iter()
            .chain(&cabled)
            .map(|i| (i.id, i.device.id))
            .collect();
        let peer_ids = attach_ends(&mut cables, ends, &device_of, switch_ids);
        let (devices, uncabled, ip_addresses, mac_addresses) = self.peer_objects(&peer_ids).await?;
        let peer_set: BTreeSet<u64> = peer_ids.iter().copied().collect();
        Ok(Peers {
            cables: merge([cables]),
            devices: devices
                .into_iter()
                .filter(|d| peer_set.contains(&d.id))
                .collect(),
            switch_interfaces,
            interfaces: merge([cabled, uncabled])
                .into_iter()
                .filter(|i| peer_set.contains(&i.device.id))
                .collect(),
            ip_addresses,
            mac_addresses,
        })
    }

    /// The cables' ends, and the far-end interfaces that are not the switches' own. The far
    /// ends are read whole (they are the peers' cabled interfaces); their devices say who the
    /// peers are.
    async fn cable_ends(
        &self,
        cables: &[Cable],
        switch_interfaces: &[Interface],
    ) -> Result<(Vec<CableEnd>, Vec<Interface>), NetBoxError> {
        let mut ends: Vec<CableEnd> = self
            .by_ids(
                ep::CABLE_TERMINATIONS,
                "cable_id",
                &ids(cables),
                fields::CABLE_TERMINATION,
            )
            .await?;
        ends.sort_by_key(|e| e.id);
        let own: BTreeSet<u64> = switch_interfaces.iter().map(|i| i.id).collect();
        let far_ends: Vec<u64> = ends
            .iter()
            .filter(|e| e.termination_type == INTERFACE_TYPE)
            .map(|e| e.termination_id)
            .filter(|id| !own.contains(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cabled = self
            .by_ids(ep::INTERFACES, "id", &far_ends, fields::INTERFACE)
            .await?;
        Ok((ends, cabled))
    }

    /// The peers' devices, uncabled interfaces and addresses. The peers' cabled interfaces are
    /// in already; the rest (LAGs, spare ports) are the uncabled ones. Interfaces a peer has
    /// cabled to devices outside the fabric are not read: the mapping never looks at them.
    async fn peer_objects(
        &self,
        peer_ids: &[u64],
    ) -> Result<(Vec<Device>, Vec<Interface>, Vec<IpAddress>, Vec<MacAddress>), NetBoxError> {
        let uncabled = ListQuery::new()
            .fields(fields::INTERFACE)
            .filter("cabled", "False");
        tokio::try_join!(
            self.by_ids::<Device>(ep::DEVICES, "id", peer_ids, fields::DEVICE),
            self.client.list_by_ids::<Interface>(
                ep::INTERFACES.path,
                "device_id",
                peer_ids,
                &uncabled
            ),
            self.by_ids::<IpAddress>(ep::IP_ADDRESSES, "device_id", peer_ids, fields::IP_ADDRESS),
            self.by_ids::<MacAddress>(
                ep::MAC_ADDRESSES,
                "device_id",
                peer_ids,
                fields::MAC_ADDRESS
            ),
        )
    }
}

/// The VLANs the fabric's interfaces and prefixes use that the snapshot does not hold.
pub(crate) fn missing_vlans(snapshot: &FabricSnapshot) -> Vec<u64> {
    let known: BTreeSet<u64> = snapshot.vlans.iter().map(|v| v.id).collect();
    used_vlans(snapshot)
        .into_iter()
        .filter(|id| !known.contains(id))
        .collect()
}

/// The VLANs the fabric's interfaces and prefixes name.
pub(crate) fn used_vlans(snapshot: &FabricSnapshot) -> BTreeSet<u64> {
    snapshot
        .interfaces
        .iter()
        .flat_map(|i| i.untagged_vlan.iter().chain(&i.tagged_vlans))
        .chain(snapshot.prefixes.iter().filter_map(|p| p.vlan.as_ref()))
        .map(|v| v.id)
        .collect()
}

/// Reads the VLANs `ids` (outside the fabric's groups) into the snapshot.
pub(crate) async fn read_vlans(
    client: &NetBoxClient,
    snapshot: &mut FabricSnapshot,
    ids: &[u64],
) -> Result<(), NetBoxError> {
    let query = ListQuery::new().fields(fields::VLAN);
    let extra: Vec<Vlan> = client
        .list_by_ids(ep::VLANS.path, "id", ids, &query)
        .await?;
    snapshot.vlans = merge([std::mem::take(&mut snapshot.vlans), extra]);
    Ok(())
}

/// Route targets the fabric's VRFs import or export that are not members themselves.
fn missing_route_targets(members: &FabricSnapshot) -> Vec<u64> {
    let known: BTreeSet<u64> = members.route_targets.iter().map(|r| r.id).collect();
    members
        .vrfs
        .iter()
        .flat_map(|v| v.import_targets.iter().chain(&v.export_targets))
        .map(|r| r.id)
        .filter(|id| !known.contains(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Keeps the cables that touch a switch, with their ends attached as terminations, and returns
/// the devices at their other ends (the peers).
fn attach_ends(
    cables: &mut Vec<Cable>,
    ends: Vec<CableEnd>,
    device_of: &BTreeMap<u64, u64>,
    switch_ids: &[u64],
) -> Vec<u64> {
    let mut by_cable: BTreeMap<u64, Vec<CableEnd>> = BTreeMap::new();
    for end in ends {
        by_cable.entry(end.cable).or_default().push(end);
    }
    let switches: BTreeSet<u64> = switch_ids.iter().copied().collect();
    let mut peer_ids = BTreeSet::new();
    cables.retain_mut(|cable| {
        let ends = by_cable.remove(&cable.id).unwrap_or_default();
        let devices: Vec<u64> = ends
            .iter()
            .filter(|e| e.termination_type == INTERFACE_TYPE)
            .filter_map(|e| device_of.get(&e.termination_id).copied())
            .collect();
        if !devices.iter().any(|id| switches.contains(id)) {
            return false;
        }
        peer_ids.extend(devices.into_iter().filter(|id| !switches.contains(id)));
        for end in ends {
            let side = if end.cable_end == "A" {
                &mut cable.a_terminations
            } else {
                &mut cable.b_terminations
            };
            side.push(CableTermination {
                object_type: end.termination_type,
                object_id: end.termination_id,
            });
        }
        true
    });
    peer_ids.into_iter().collect()
}

/// One end of a cable, as `dcim/cable-terminations/` lists it.
#[derive(Debug, Deserialize)]
struct CableEnd {
    id: u64,
    cable: u64,
    /// `A` or `B`.
    cable_end: String,
    termination_type: String,
    termination_id: u64,
}

fn ids<T: NetBoxObject>(objects: &[T]) -> Vec<u64> {
    objects.iter().map(NetBoxObject::id).collect()
}

/// Joins lists, dropping duplicates and ordering by id so a snapshot is deterministic.
fn merge<T: NetBoxObject, const N: usize>(lists: [Vec<T>; N]) -> Vec<T> {
    let mut by_id = BTreeMap::new();
    for object in lists.into_iter().flatten() {
        by_id.entry(object.id()).or_insert(object);
    }
    by_id.into_values().collect()
}
