use serde_json::json;

use super::*;
use crate::discovery::merge::merge;
use crate::discovery::observation::ObservedDevice;

fn names() -> CustomFieldNames {
    CustomFieldNames::default()
}

fn context(names: &CustomFieldNames) -> PlanContext<'_> {
    PlanContext {
        names,
        sources: vec!["fabric:lab".into()],
        now: "2026-01-10T00:00:00Z".parse().unwrap(),
        stale_after: Duration::days(7),
        stale_tag: "hedgehog-stale",
        creation: Default::default(),
    }
}

fn observed(name: &str, serial: &str, platform: &str) -> ObservedDevice {
    ObservedDevice {
        source: "fabric:lab".into(),
        identity: format!("lab/{name}"),
        name: Some(name.into()),
        facts: [
            (Field::Native("serial"), json!(serial)),
            (Field::Custom("hedgehog_platform".into()), json!(platform)),
        ]
        .into(),
        ..Default::default()
    }
}

fn device(id: u64, name: &str, serial: &str, fields: serde_json::Value) -> KnownDevice {
    KnownDevice {
        id,
        name: name.into(),
        serial: serial.into(),
        custom_fields: fields.as_object().cloned().unwrap_or_default(),
        ..Default::default()
    }
}

fn plan_for(seen: Vec<ObservedDevice>, known: &[KnownDevice]) -> Plan {
    let names = names();
    plan(&merge(seen, known), Vec::new(), known, &context(&names))
}

#[test]
fn empty_fields_are_written_with_owner_and_record_and_hand_typed_ones_kept() {
    let known = [device(1, "leaf-01", "TYPED", json!({}))];
    let plan = plan_for(vec![observed("leaf-01", "SN1", "x86")], &known);
    assert_eq!(plan.kept.len(), 1);
    assert_eq!(plan.kept[0].field, "serial");
    assert_eq!(plan.kept[0].netbox, json!("TYPED"));
    let body = &plan.devices[0].body;
    assert!(
        body.get("serial").is_none(),
        "the typed serial is not overwritten"
    );
    let custom = &body["custom_fields"];
    assert_eq!(custom["hedgehog_platform"], "x86");
    assert_eq!(custom["hedgehog_discovered_by"], "fabric:lab");
    assert_eq!(
        custom["hedgehog_discovery"]["written"]["cf.hedgehog_platform"],
        "x86"
    );
    assert_eq!(
        custom["hedgehog_discovery"]["last_seen"],
        "2026-01-10T00:00:00+00:00"
    );
}

#[test]
fn a_value_discovery_wrote_is_updated_and_an_edited_one_is_not() {
    let record = |platform: &str| {
        json!({"hedgehog_platform": platform, "hedgehog_discovered_by": "fabric:lab",
               "hedgehog_discovery": {"last_seen": "2026-01-09T23:00:00Z",
                                      "written": {"cf.hedgehog_platform": "old"}}})
    };
    let ours = [device(1, "leaf-01", "", record("old"))];
    let plan = plan_for(vec![observed("leaf-01", "", "new")], &ours);
    let change = &plan.devices[0].changes[0];
    assert_eq!(
        (change.from.clone(), change.to.clone()),
        (json!("old"), json!("new"))
    );
    let edited = [device(1, "leaf-01", "", record("by hand"))];
    let plan = plan_for(vec![observed("leaf-01", "", "new")], &edited);
    assert!(plan.devices.is_empty(), "{plan:?}");
    assert_eq!(plan.kept[0].netbox, json!("by hand"));
}

#[test]
fn a_steady_device_plans_no_write() {
    let fields = json!({"hedgehog_platform": "x86", "hedgehog_discovered_by": "fabric:lab",
        "hedgehog_discovery": {"last_seen": "2026-01-09T23:00:00Z",
                               "written": {"serial": "SN1", "cf.hedgehog_platform": "x86"}}});
    let known = [device(1, "leaf-01", "SN1", fields)];
    let plan = plan_for(vec![observed("leaf-01", "SN1", "x86")], &known);
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn only_owned_devices_unseen_for_the_stale_time_are_tagged_and_a_returning_one_untagged() {
    let owned = |seen: &str| {
        json!({"hedgehog_discovered_by": "fabric:lab",
               "hedgehog_discovery": {"last_seen": seen, "written": {}}})
    };
    let mut back = device(4, "back", "", owned("2025-12-01T00:00:00Z"));
    back.tags = vec!["hedgehog-stale".into()];
    let known = [
        device(1, "old", "", owned("2025-12-01T00:00:00Z")),
        device(2, "recent", "", owned("2026-01-08T00:00:00Z")),
        device(3, "typed", "", json!({})),
        back,
    ];
    let plan = plan_for(vec![observed("back", "", "x86")], &known);
    assert_eq!(plan.stale, ["old"]);
    let tag = |name: &str, key: &str| {
        plan.devices
            .iter()
            .find(|u| u.object == name)
            .map(|u| u.body.get(key).cloned())
    };
    assert_eq!(
        tag("old", "add_tags"),
        Some(Some(json!([{"slug": "hedgehog-stale"}])))
    );
    assert_eq!(
        tag("back", "remove_tags"),
        Some(Some(json!([{"slug": "hedgehog-stale"}])))
    );
    assert_eq!(tag("recent", "add_tags"), None);
    assert_eq!(tag("typed", "add_tags"), None);
}

#[test]
fn observations_without_a_netbox_device_are_listed_not_written() {
    let plan = plan_for(vec![observed("new-switch", "SN9", "x86")], &[]);
    assert_eq!(plan.not_in_netbox, ["lab/new-switch"]);
    assert!(plan.is_empty());
}
