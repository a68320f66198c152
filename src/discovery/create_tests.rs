use chrono::Duration;
use serde_json::json;

use super::*;
use crate::discovery::known::KnownInterface;
use crate::discovery::merge::merge;
use crate::discovery::observation::{ObservedDevice, Placement};
use crate::discovery::plan::{Plan, PlanContext, plan};

fn host(source: &str, name: &str, mac: &str) -> ObservedDevice {
    ObservedDevice {
        source: source.into(),
        identity: name.into(),
        name: Some(name.into()),
        serial: Some(format!("SN-{name}")),
        primary_ip: Some("10.0.0.5".into()),
        facts: [(Field::Native("serial"), json!(format!("SN-{name}")))].into(),
        interfaces: vec![ObservedInterface {
            name: "eth0".into(),
            macs: vec![mac.into(), "0C:29:EF:00:00:99".into()],
            ips: vec!["10.0.0.5/24".into()],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The plan when `creating` sources have the default creation settings.
fn plan_for(seen: Vec<ObservedDevice>, known: &[KnownDevice], creating: &[&str]) -> Plan {
    let names = CustomFieldNames::default();
    let context = PlanContext {
        names: &names,
        sources: vec!["inventory:a".into(), "inventory:b".into()],
        now: "2026-01-10T00:00:00Z".parse().unwrap(),
        stale_after: Duration::days(7),
        stale_tag: "hedgehog-stale",
        creation: creating
            .iter()
            .map(|s| ((*s).to_owned(), CreateDefaults::default()))
            .collect(),
    };
    plan(&merge(seen, known), Vec::new(), known, &context)
}

#[test]
fn an_unknown_host_of_a_creating_source_is_created_with_its_interface_macs_and_primary_ip() {
    let mut seen = host("inventory:a", "web-1", "0C:29:EF:00:00:01");
    seen.placement = Placement {
        role: Some("server".into()),
        ..Default::default()
    };
    let plan = plan_for(vec![seen], &[], &["inventory:a"]);
    assert!(plan.not_in_netbox.is_empty());
    let [create] = &plan.creates[..] else {
        panic!("{plan:?}")
    };
    assert_eq!((create.kind, create.existing), (ObjectKind::Device, None));
    let target = create.placement.as_ref().unwrap();
    assert_eq!(target.role, "server", "the observation's placement wins");
    assert_eq!(
        target.site, "discovered",
        "the source's default fills the rest"
    );
    assert_eq!(create.body["name"], "web-1");
    assert_eq!(create.body["serial"], "SN-web-1");
    assert_eq!(create.body["status"], "active");
    let custom = &create.body["custom_fields"];
    assert_eq!(custom["hedgehog_discovered_by"], "inventory:a");
    assert_eq!(
        custom["hedgehog_discovery"]["written"]["serial"],
        "SN-web-1"
    );
    assert_eq!(
        custom["hedgehog_discovery"]["last_seen"],
        "2026-01-10T00:00:00+00:00"
    );
    let eth0 = &create.interfaces[0];
    assert_eq!(eth0.body["mac_address"], "0C:29:EF:00:00:01");
    assert_eq!(eth0.body["type"], "other");
    assert_eq!(eth0.macs.len(), 2, "the second MAC is created on its own");
    assert_eq!(create.primary_ip.as_deref(), Some("10.0.0.5/24"));
}

#[test]
fn two_sources_seeing_one_new_host_create_one_object_owned_by_the_first_creator() {
    let seen = vec![
        host("inventory:b", "web-1", "0C:29:EF:00:00:01"),
        host("inventory:a", "WEB-ONE", "0c:29:ef:00:00:01"),
    ];
    let plan = plan_for(seen, &[], &["inventory:a"]);
    assert_eq!(plan.creates.len(), 1, "{plan:?}");
    let custom = &plan.creates[0].body["custom_fields"];
    assert_eq!(custom["hedgehog_discovered_by"], "inventory:a");
    assert_eq!(
        plan.creates[0].object, "web-1",
        "the first source's name wins"
    );
}

#[test]
fn a_source_without_creation_only_lists_what_netbox_lacks() {
    let plan = plan_for(
        vec![host("inventory:b", "web-1", "0C:29:EF:00:00:01")],
        &[],
        &[],
    );
    assert!(plan.creates.is_empty());
    assert_eq!(plan.not_in_netbox, ["web-1"]);
}

#[test]
fn a_matched_object_gets_only_the_interfaces_it_lacks() {
    let known = [KnownDevice {
        kind: ObjectKind::VirtualMachine,
        id: 9,
        name: "web-1".into(),
        interfaces: vec![KnownInterface {
            id: 1,
            name: "eth0".into(),
            ..Default::default()
        }],
        ..Default::default()
    }];
    let mut seen = host("inventory:a", "web-1", "0C:29:EF:00:00:01");
    seen.interfaces.push(ObservedInterface {
        name: "eth1".into(),
        ..Default::default()
    });
    let plan = plan_for(vec![seen], &known, &["inventory:a"]);
    let [create] = &plan.creates[..] else {
        panic!("{plan:?}")
    };
    assert_eq!(
        (create.kind, create.existing),
        (ObjectKind::VirtualMachine, Some(9))
    );
    assert_eq!(create.interfaces.len(), 1);
    assert_eq!(create.interfaces[0].name, "eth1");
    assert!(
        create.interfaces[0].body.get("type").is_none(),
        "virtual machine interfaces have no type"
    );
}

#[test]
fn a_virtual_machine_without_a_cluster_goes_to_one_named_after_its_source() {
    let mut seen = host("inventory:a", "vm-1", "0C:29:EF:00:00:01");
    seen.kind = ObjectKind::VirtualMachine;
    let plan = plan_for(vec![seen], &[], &["inventory:a"]);
    let cluster = plan.creates[0].placement.as_ref().unwrap().cluster.clone();
    assert_eq!(
        cluster,
        Some(ClusterRef {
            name: "inventory:a".into(),
            cluster_type: "discovered".into()
        })
    );
}
