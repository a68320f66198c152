//! The planner on the docs sample's NetBox snapshot (no ASN, no address anywhere).

use serde_json::{Value, json};

use super::plan::{AsnNeed, Plan, Scope, plan};
use crate::config::FabricConfig;
use crate::netbox::FabricSnapshot;

fn fabric() -> FabricConfig {
    serde_json::from_value(json!({"name": "docs", "allocate": true})).unwrap()
}

fn snapshot() -> FabricSnapshot {
    serde_json::from_str(include_str!(
        "../../tests/fixtures/docs-wiring.snapshot.json"
    ))
    .unwrap()
}

fn set_field(snapshot: &mut FabricSnapshot, device: &str, field: &str, value: Value) {
    let device = snapshot
        .devices
        .iter_mut()
        .find(|d| d.name.as_deref() == Some(device))
        .unwrap();
    device.custom_fields.0.insert(field.into(), value);
}

fn set_asn(snapshot: &mut FabricSnapshot, device: &str, asn: i64) {
    set_field(snapshot, device, "hedgehog_asn", json!(asn));
}

fn problems(plan: &Plan) -> Vec<(&str, &str)> {
    plan.problems
        .iter()
        .map(|p| (p.name.as_str(), p.message.as_str()))
        .collect()
}

#[test]
fn a_bare_fabric_lacks_every_value_and_spines_get_the_spine_asn() {
    let plan = plan(&fabric(), &snapshot(), &Scope::Fabric);
    assert_eq!(plan.values(), 2 * 3 + 4 * 4 + 16 * 2, "{plan}");
    assert!(plan.problems.is_empty(), "{plan}");
    let spine = plan.switches.iter().find(|s| s.name == "spine-01").unwrap();
    assert_eq!(spine.asn, Some(AsnNeed::Spine(65100)));
    assert!(spine.vtep.is_none(), "spines have no VTEP IP");
    assert_eq!(spine.management.as_ref().unwrap().interface_name, "M1");
}

#[test]
fn values_a_user_set_are_kept_and_those_breaking_the_rules_are_reported() {
    let mut snapshot = snapshot();
    set_asn(&mut snapshot, "leaf-01", 65200);
    set_asn(&mut snapshot, "leaf-02", 64000);
    set_asn(&mut snapshot, "leaf-03", 65200);
    set_asn(&mut snapshot, "spine-01", 65101);
    let plan = plan(&fabric(), &snapshot, &Scope::Fabric);
    for name in ["leaf-01", "leaf-02", "leaf-03", "spine-01"] {
        let needs = plan.switches.iter().find(|s| s.name == name).unwrap();
        assert_eq!(needs.asn, None, "{name}'s ASN is kept");
    }
    assert_eq!(
        problems(&plan),
        [
            (
                "leaf-02",
                "ASN 64000 is not in the leaf ASN range 65101-65533"
            ),
            ("leaf-03", "its ASN is also leaf-01's"),
            ("spine-01", "ASN 65101 is not the fabric's spine ASN 65100"),
        ]
    );
}

#[test]
fn a_touched_scope_plans_only_the_touched_switch_and_its_cables() {
    let snapshot = snapshot();
    let leaf = snapshot
        .devices
        .iter()
        .find(|d| d.name.as_deref() == Some("leaf-01"))
        .unwrap()
        .id;
    let scope = Scope::Touched {
        devices: [leaf].into(),
        cables: Default::default(),
    };
    let plan = plan(&fabric(), &snapshot, &scope);
    assert_eq!(plan.switches.len(), 1);
    assert_eq!(plan.links.len(), 4, "leaf-01's four uplinks: {plan}");
}

/// The fabric refuses a leaf whose ASN another leaf holds unless the leaf is an MCLAG one
/// (`Switch.HydrationValidation`): an ESLAG pair needs two ASNs, an MCLAG pair may share one.
#[test]
fn an_mclag_pair_may_share_an_asn_and_an_eslag_pair_may_not() {
    let mut snapshot = snapshot();
    for (leaf, group, kind) in [
        ("leaf-01", "mclag-1", "mclag"),
        ("leaf-02", "mclag-1", "mclag"),
        ("leaf-03", "eslag-1", "eslag"),
        ("leaf-04", "eslag-1", "eslag"),
    ] {
        set_field(
            &mut snapshot,
            leaf,
            "hedgehog_redundancy_group",
            json!(group),
        );
        set_field(&mut snapshot, leaf, "hedgehog_redundancy_type", json!(kind));
    }
    set_asn(&mut snapshot, "leaf-01", 65201);
    set_asn(&mut snapshot, "leaf-02", 65201);
    set_asn(&mut snapshot, "leaf-03", 65203);
    set_asn(&mut snapshot, "leaf-04", 65203);
    let plan = plan(&fabric(), &snapshot, &Scope::Fabric);
    assert_eq!(problems(&plan), [("leaf-04", "its ASN is also leaf-03's")]);
}
