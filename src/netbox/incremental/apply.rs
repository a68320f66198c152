//! One webhook's object applied to a kept fabric snapshot, so the snapshot equals what a full
//! [`crate::netbox::load_fabric`] would read, or a verdict that it cannot be.
//!
//! Applied in place: updates of devices, interfaces and cables that keep the snapshot's shape
//! (the object stays in or out of the fabric, an interface on its device and cable, a cable
//! between the same ends), and changes to such objects that do not concern the fabric at all.
//! Everything else asks for a full reload: every other object type, every creation and deletion
//! of an object the fabric holds or could hold, a device joining or leaving the fabric, an
//! interface moved or (un)cabled, a cable's ends changed.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ObjectChange;
use crate::netbox::load::fields;
use crate::netbox::snapshot::FabricSnapshot;
use crate::netbox::types::{Cable, CableTermination, CustomFields, Device, Interface};

const INTERFACE_TYPE: &str = "dcim.interface";

/// What a change does to a fabric's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The change does not concern the fabric: the snapshot stays as it is.
    Unconcerned,
    /// The snapshot now holds the change.
    Applied,
    /// The snapshot cannot take the change: read the fabric in full (why).
    Reload(&'static str),
}

/// Which objects are the fabric's own members (by the fabric custom field).
pub struct Membership<'a> {
    pub custom_field: &'a str,
    pub fabric: &'a str,
}

impl Membership<'_> {
    pub(super) fn holds(&self, custom_fields: &CustomFields) -> bool {
        custom_fields.string(self.custom_field).as_deref() == Some(self.fabric)
    }
}

/// Applies `change` to `snapshot` where it can (see the module's documentation).
pub fn apply(snapshot: &mut FabricSnapshot, change: &ObjectChange, members: &Membership) -> Effect {
    let Some(id) = change.data.get("id").and_then(Value::as_u64) else {
        return Effect::Reload("the webhook's object has no id");
    };
    let deleted = change.event == "deleted";
    match change.object_type.as_str() {
        "dcim.device" if deleted => deleted_if_held(snapshot.devices.iter().any(|d| d.id == id)),
        "dcim.device" => device(snapshot, &change.data, members),
        "dcim.interface" if deleted => {
            deleted_if_held(snapshot.interfaces.iter().any(|i| i.id == id))
        }
        "dcim.interface" => interface(snapshot, &change.data),
        "dcim.cable" if deleted => deleted_if_held(snapshot.cables.iter().any(|c| c.id == id)),
        "dcim.cable" => cable(snapshot, &change.data),
        _ => Effect::Reload("only devices, interfaces and cables are applied incrementally"),
    }
}

fn deleted_if_held(held: bool) -> Effect {
    if held {
        Effect::Reload("an object of the fabric was deleted")
    } else {
        Effect::Unconcerned
    }
}

/// The webhook's object as the full read sees it: only the fields that read asks for.
fn projected<T: DeserializeOwned>(data: &Value, keep: &[&str]) -> Option<T> {
    let object = data.as_object()?;
    let kept: Map<String, Value> = object
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(kept)).ok()
}

fn device(snapshot: &mut FabricSnapshot, data: &Value, members: &Membership) -> Effect {
    let Some(device) = projected::<Device>(data, fields::DEVICE) else {
        return Effect::Reload("the webhook's device cannot be read");
    };
    let member_now = members.holds(&device.custom_fields);
    let Some(held) = snapshot.devices.iter_mut().find(|d| d.id == device.id) else {
        return if member_now {
            Effect::Reload("a device joined the fabric")
        } else {
            Effect::Unconcerned
        };
    };
    if members.holds(&held.custom_fields) != member_now {
        return Effect::Reload("a device joined or left the fabric");
    }
    if device.name != held.name {
        // Interfaces name their device in their nested reference.
        let display = data
            .get("display")
            .and_then(Value::as_str)
            .map(str::to_owned);
        for nested in snapshot.interfaces.iter_mut().map(|i| &mut i.device) {
            if nested.id == device.id {
                nested.name = device.name.clone();
                nested.display = display.clone();
            }
        }
    }
    *held = device;
    Effect::Applied
}

fn interface(snapshot: &mut FabricSnapshot, data: &Value) -> Effect {
    let Some(interface) = projected::<Interface>(data, fields::INTERFACE) else {
        return Effect::Reload("the webhook's interface cannot be read");
    };
    let cable_now = data
        .get("cable")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_u64);
    let device_held = snapshot.devices.iter().any(|d| d.id == interface.device.id);
    let cable_held = cable_of(snapshot, interface.id);
    let Some(held) = snapshot
        .interfaces
        .iter_mut()
        .find(|i| i.id == interface.id)
    else {
        return if device_held {
            Effect::Reload("an interface the fabric does not hold is on one of its devices")
        } else {
            Effect::Unconcerned
        };
    };
    if held.device.id != interface.device.id {
        return Effect::Reload("an interface moved to another device");
    }
    if cable_held != cable_now {
        return Effect::Reload("an interface was cabled or uncabled");
    }
    let renamed = held.name != interface.name;
    let (id, name) = (interface.id, interface.name.clone());
    *held = interface;
    if renamed {
        // Other interfaces name it as their parent or LAG.
        let display = data
            .get("display")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let nested = snapshot
            .interfaces
            .iter_mut()
            .flat_map(|i| [i.parent.as_mut(), i.lag.as_mut()])
            .flatten()
            .filter(|r| r.id == id);
        for reference in nested {
            reference.name = Some(name.clone());
            reference.display = display.clone();
        }
    }
    Effect::Applied
}

/// The cable the snapshot has on interface `id`.
fn cable_of(snapshot: &FabricSnapshot, id: u64) -> Option<u64> {
    snapshot
        .cables
        .iter()
        .find(|c| ends(c).iter().flatten().any(|e| is_interface(e, id)))
        .map(|c| c.id)
}

fn is_interface(end: &CableTermination, id: u64) -> bool {
    end.object_type == INTERFACE_TYPE && end.object_id == id
}

/// Both sides of a cable, each sorted, A first.
fn ends(cable: &Cable) -> [Vec<CableTermination>; 2] {
    let side = |terminations: &[CableTermination]| {
        let mut side = terminations.to_vec();
        side.sort_by(|a, b| (&a.object_type, a.object_id).cmp(&(&b.object_type, b.object_id)));
        side
    };
    [side(&cable.a_terminations), side(&cable.b_terminations)]
}

fn cable(snapshot: &mut FabricSnapshot, data: &Value) -> Effect {
    let mut keep = fields::CABLE.to_vec();
    keep.extend(["a_terminations", "b_terminations"]);
    let Some(mut cable) = projected::<Cable>(data, &keep) else {
        return Effect::Reload("the webhook's cable cannot be read");
    };
    if cable.a_terminations.is_empty() || cable.b_terminations.is_empty() {
        return Effect::Reload("a cable without both ends");
    }
    let touches_fabric = ends(&cable).iter().flatten().any(|end| {
        end.object_type == INTERFACE_TYPE
            && snapshot.interfaces.iter().any(|i| i.id == end.object_id)
    });
    let Some(held) = snapshot.cables.iter_mut().find(|c| c.id == cable.id) else {
        return if touches_fabric {
            Effect::Reload("a cable reached the fabric")
        } else {
            Effect::Unconcerned
        };
    };
    if ends(held) != ends(&cable) {
        return Effect::Reload("a cable's ends changed");
    }
    // The full read lists the ends in the order of their termination rows: keep it.
    cable.a_terminations = std::mem::take(&mut held.a_terminations);
    cable.b_terminations = std::mem::take(&mut held.b_terminations);
    *held = cable;
    Effect::Applied
}
