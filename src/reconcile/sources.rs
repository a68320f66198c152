//! Which NetBox objects a rendered object came from, so results land on the right NetBox objects.

use std::collections::BTreeMap;

pub use crate::mapping::SourceRef;
use crate::model::ObjectKey;
use crate::netbox::FabricSnapshot;
use crate::netbox::types::{CustomFields, NetBoxObject};

/// For each rendered object, the NetBox objects it was rendered from.
pub type SourceMap = BTreeMap<ObjectKey, Vec<SourceRef>>;

/// The current custom field values of a snapshot's objects, by (object type, id).
pub fn custom_fields_index(
    snapshot: &FabricSnapshot,
) -> BTreeMap<(&'static str, u64), &CustomFields> {
    fn add<'a, T: NetBoxObject>(
        index: &mut BTreeMap<(&'static str, u64), &'a CustomFields>,
        items: &'a [T],
        fields: impl Fn(&'a T) -> &'a CustomFields,
    ) {
        for item in items {
            index.insert((T::OBJECT_TYPE, item.id()), fields(item));
        }
    }
    let mut index = BTreeMap::new();
    add(&mut index, &snapshot.devices, |o| &o.custom_fields);
    add(&mut index, &snapshot.interfaces, |o| &o.custom_fields);
    add(&mut index, &snapshot.ip_addresses, |o| &o.custom_fields);
    add(&mut index, &snapshot.cables, |o| &o.custom_fields);
    add(&mut index, &snapshot.vlan_groups, |o| &o.custom_fields);
    add(&mut index, &snapshot.vlans, |o| &o.custom_fields);
    add(&mut index, &snapshot.vrfs, |o| &o.custom_fields);
    add(&mut index, &snapshot.route_targets, |o| &o.custom_fields);
    add(&mut index, &snapshot.prefixes, |o| &o.custom_fields);
    add(&mut index, &snapshot.ip_ranges, |o| &o.custom_fields);
    index
}
