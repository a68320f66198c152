//! Which changes the kept snapshot takes in place, and which ask for a full read. Whether what
//! it takes equals a full read is proven against NetBox (`tests/incremental/`).

use serde_json::{Value, json};

use super::ObjectChange;
use super::apply::{Effect, Membership, apply};
use crate::netbox::FabricSnapshot;

fn snapshot() -> FabricSnapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/docs-wiring.snapshot.json");
    FabricSnapshot::load(&path).unwrap()
}

const DOCS: Membership = Membership {
    custom_field: "hedgehog_fabric",
    fabric: "docs",
};

fn change(object_type: &str, event: &str, data: Value) -> ObjectChange {
    ObjectChange {
        object_type: object_type.into(),
        event: event.into(),
        data,
    }
}

/// An object of the snapshot as a webhook carries it: whole, with fields the full read skips.
fn body<T: serde::Serialize>(object: &T) -> Value {
    let mut data = serde_json::to_value(object).unwrap();
    data["url"] = json!("/api/ignored/");
    data["last_updated"] = json!("2026-12-04T22:00:00Z");
    data
}

#[test]
fn a_device_edit_is_applied_and_its_interfaces_follow_a_rename() {
    let mut s = snapshot();
    let mut data = body(&s.devices[0]);
    data["name"] = json!("leaf-01-renamed");
    data["display"] = json!("leaf-01-renamed");
    data["description"] = json!("edited");
    let effect = apply(&mut s, &change("dcim.device", "updated", data), &DOCS);
    assert_eq!(effect, Effect::Applied);
    assert_eq!(s.devices[0].description.as_deref(), Some("edited"));
    let renamed = s.interfaces.iter().filter(|i| i.device.id == 1);
    for interface in renamed {
        assert_eq!(interface.device.name.as_deref(), Some("leaf-01-renamed"));
    }
}

#[test]
fn a_device_joining_or_leaving_the_fabric_asks_for_a_full_read() {
    let mut s = snapshot();
    let mut data = body(&s.devices[0]);
    data["custom_fields"]["hedgehog_fabric"] = json!("other");
    let effect = apply(&mut s, &change("dcim.device", "updated", data), &DOCS);
    assert!(matches!(effect, Effect::Reload(_)), "{effect:?}");
    let newcomer =
        json!({"id": 999, "name": "leaf-99", "custom_fields": {"hedgehog_fabric": "docs"}});
    let effect = apply(&mut s, &change("dcim.device", "created", newcomer), &DOCS);
    assert!(matches!(effect, Effect::Reload(_)), "{effect:?}");
}

#[test]
fn changes_outside_the_fabric_leave_the_snapshot_alone() {
    let mut s = snapshot();
    let before = s.clone();
    let stranger =
        json!({"id": 999, "name": "elsewhere", "custom_fields": {"hedgehog_fabric": "other"}});
    for event in ["created", "updated", "deleted"] {
        let effect = apply(
            &mut s,
            &change("dcim.device", event, stranger.clone()),
            &DOCS,
        );
        assert_eq!(effect, Effect::Unconcerned, "{event}");
    }
    let far_interface = json!({"id": 9999, "name": "eth0", "device": {"id": 999}});
    let effect = apply(
        &mut s,
        &change("dcim.interface", "updated", far_interface),
        &DOCS,
    );
    assert_eq!(effect, Effect::Unconcerned);
    let far_cable = json!({"id": 9999,
        "a_terminations": [{"object_type": "dcim.interface", "object_id": 9998}],
        "b_terminations": [{"object_type": "dcim.interface", "object_id": 9999}]});
    let effect = apply(&mut s, &change("dcim.cable", "created", far_cable), &DOCS);
    assert_eq!(effect, Effect::Unconcerned);
    assert_eq!(s, before);
}

#[test]
fn an_interface_edit_is_applied_without_the_fields_the_full_read_skips() {
    let mut s = snapshot();
    let mut data = body(&s.interfaces[0]);
    data["description"] = json!("uplink");
    data["tags"] = json!([{"id": 1, "name": "t", "slug": "t"}]);
    let effect = apply(&mut s, &change("dcim.interface", "updated", data), &DOCS);
    assert_eq!(effect, Effect::Applied);
    assert_eq!(s.interfaces[0].description.as_deref(), Some("uplink"));
    assert!(
        s.interfaces[0].tags.is_empty(),
        "the full read asks for no interface tags"
    );
}

#[test]
fn an_interface_cabled_uncabled_or_moved_asks_for_a_full_read() {
    let s = snapshot();
    let cabled = s.cables[0].a_terminations[0].object_id;
    let position = s.interfaces.iter().position(|i| i.id == cabled).unwrap();
    let mut uncabled = body(&s.interfaces[position]);
    uncabled["cable"] = Value::Null;
    let mut moved = body(&s.interfaces[position]);
    moved["cable"] = json!({"id": s.cables[0].id});
    moved["device"] = json!({"id": 2, "name": "leaf-02"});
    let mut newly_cabled = body(&s.interfaces[0]);
    newly_cabled["cable"] = json!({"id": 4242});
    for data in [uncabled, moved, newly_cabled] {
        let effect = apply(
            &mut s.clone(),
            &change("dcim.interface", "updated", data),
            &DOCS,
        );
        assert!(matches!(effect, Effect::Reload(_)), "{effect:?}");
    }
}

#[test]
fn a_cable_edit_keeps_its_ends_and_a_changed_end_asks_for_a_full_read() {
    let mut s = snapshot();
    let mut data = body(&s.cables[0]);
    data["label"] = json!("L1");
    let effect = apply(
        &mut s,
        &change("dcim.cable", "updated", data.clone()),
        &DOCS,
    );
    assert_eq!(effect, Effect::Applied);
    assert_eq!(s.cables[0].label.as_deref(), Some("L1"));
    data["b_terminations"] = json!([{"object_type": "dcim.interface", "object_id": 1}]);
    let effect = apply(&mut s, &change("dcim.cable", "updated", data), &DOCS);
    assert!(matches!(effect, Effect::Reload(_)), "{effect:?}");
}

#[test]
fn deletions_of_held_objects_and_other_types_ask_for_a_full_read() {
    let s = snapshot();
    let deletions = [
        change("dcim.device", "deleted", json!({"id": s.devices[0].id})),
        change(
            "dcim.interface",
            "deleted",
            json!({"id": s.interfaces[0].id}),
        ),
        change("dcim.cable", "deleted", json!({"id": s.cables[0].id})),
        change("ipam.prefix", "updated", json!({"id": 1})),
        change("dcim.device", "updated", json!({"name": "no id"})),
    ];
    for deletion in deletions {
        let effect = apply(&mut s.clone(), &deletion, &DOCS);
        assert!(
            matches!(effect, Effect::Reload(_)),
            "{deletion:?}: {effect:?}"
        );
    }
}
