//! The planner on the docs sample's NetBox snapshot (no ASN, no address anywhere).

use serde_json::json;

use super::plan::{AsnNeed, Scope, plan};
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

fn set_asn(snapshot: &mut FabricSnapshot, device: &str, asn: i64) {
    let device = snapshot
        .devices
        .iter_mut()
        .find(|d| d.name.as_deref() == Some(device))
        .unwrap();
    device
        .custom_fields
        .0
        .insert("hedgehog_asn".into(), json!(asn));
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
    let problems: Vec<(&str, &str)> = plan
        .problems
        .iter()
        .map(|p| (p.name.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        problems,
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
