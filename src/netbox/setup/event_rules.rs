//! The event rules that send NetBox's changes to the sidecar: only the object types the
//! mapping reads, and only objects that can belong to a configured fabric where NetBox's
//! event-rule conditions can tell (see `extras/conditions.py` in NetBox 4.7).
//!
//! A condition's OR is evaluated lazily and an attribute it cannot resolve fails the whole
//! rule closed, so each rule only names attributes every object of its types carries, and the
//! membership test comes first. What no condition can express (an interface or VLAN of a
//! fabric device, a route target a fabric VRF uses) is sent unconditionally; the sidecar
//! re-reads NetBox and decides.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::ensure::Desired;
use crate::config::MappingConfig;
use crate::netbox::endpoints as ep;

/// One event rule: its name suffix, object types and conditions.
struct Rule {
    suffix: &'static str,
    object_types: &'static [&'static str],
    conditions: Value,
    description: &'static str,
}

/// `attr` is set (not null).
fn set(attr: &str) -> Value {
    json!({"attr": attr, "op": "eq", "value": null, "negate": true})
}

fn any(conditions: Vec<Value>) -> Value {
    json!({"or": conditions})
}

/// Members of a fabric carry its custom field now or did before this change (an object
/// leaving the fabric). With the served fabrics known, only theirs: a second sidecar's
/// fabrics on the same NetBox send this one nothing.
fn membership(cf: &str, fabrics: &[String]) -> Vec<Value> {
    let member = |attr: String| match fabrics {
        [] => set(&attr),
        _ => json!({"attr": attr, "op": "in", "value": fabrics}),
    };
    vec![
        member(format!("custom_fields.{cf}")),
        member(format!("snapshots.prechange.custom_fields.{cf}")),
    ]
}

fn rules(mapping: &MappingConfig, fabrics: &[String], peer_roles: Vec<String>) -> Vec<Rule> {
    let cf = &mapping.custom_fields.fabric;
    let member = membership(cf, fabrics);
    let with = |mut extra: Vec<Value>| {
        let mut all = vec![member[0].clone()];
        all.append(&mut extra);
        all.push(member[1].clone());
        any(all)
    };
    let interface = |attr: &str| json!({"attr": attr, "op": "eq", "value": "dcim.interface"});
    let cabled = |side: &str| json!({"attr": format!("{side}.object_type"), "op": "contains", "value": "dcim.interface"});
    vec![
        Rule {
            suffix: "",
            object_types: &["dcim.interface", "ipam.vlan", "ipam.routetarget"],
            conditions: Value::Null,
            description: "Fabric changes no condition can tell apart (interfaces, VLANs, route targets)",
        },
        Rule {
            suffix: "-members",
            object_types: &["ipam.vlangroup", "ipam.vrf", "ipam.prefix"],
            conditions: any(member.clone()),
            description: "VLAN groups, VRFs and prefixes of a fabric",
        },
        Rule {
            suffix: "-devices",
            object_types: &["dcim.device"],
            conditions: with(vec![
                json!({"attr": "role.slug", "op": "in", "value": peer_roles}),
            ]),
            description: "Switches of a fabric and the servers and externals cabled to them",
        },
        Rule {
            suffix: "-ip-addresses",
            object_types: &["ipam.ipaddress"],
            conditions: with(vec![set("vrf"), interface("assigned_object_type")]),
            description: "IP addresses of a fabric, its VRFs or device interfaces",
        },
        Rule {
            suffix: "-ip-ranges",
            object_types: &["ipam.iprange"],
            conditions: with(vec![set("vrf")]),
            description: "IP ranges of a fabric or its VRFs",
        },
        Rule {
            suffix: "-mac-addresses",
            object_types: &["dcim.macaddress"],
            conditions: any(vec![interface("assigned_object_type")]),
            description: "MAC addresses of device interfaces",
        },
        Rule {
            suffix: "-cables",
            object_types: &["dcim.cable"],
            conditions: any(vec![cabled("a_terminations"), cabled("b_terminations")]),
            description: "Cables between device interfaces",
        },
    ]
}

/// The suffixes of every rule setup creates, for removal.
pub(crate) const SUFFIXES: &[&str] = &[
    "",
    "-members",
    "-devices",
    "-ip-addresses",
    "-ip-ranges",
    "-mac-addresses",
    "-cables",
];

/// The event rules named `<name>…` firing webhook `webhook_id`. The conditions use the first
/// mapping's fabric custom field (fabrics served together share their custom fields), the
/// served `fabrics` (any fabric when empty) and the peer device roles of all of them.
pub(crate) fn event_rules(
    name: &str,
    webhook_id: u64,
    mappings: &[MappingConfig],
    fabrics: &[String],
) -> Vec<Desired> {
    let default = MappingConfig::default();
    let first = mappings.first().unwrap_or(&default);
    let peer_roles: BTreeSet<String> = mappings
        .iter()
        .chain(mappings.is_empty().then_some(&default))
        .flat_map(|m| {
            m.server_roles
                .iter()
                .chain(&m.external_roles)
                .chain(&m.static_external_roles)
                .chain(&m.gateway_roles)
                .cloned()
        })
        .collect();
    rules(first, fabrics, peer_roles.into_iter().collect())
        .into_iter()
        .map(|rule| {
            let body = json!({
                "name": format!("{name}{}", rule.suffix),
                "description": rule.description,
                "object_types": rule.object_types,
                "event_types": ["object_created", "object_updated", "object_deleted"],
                "enabled": true,
                "conditions": rule.conditions,
                "action_type": "webhook",
                "action_object_type": "extras.webhook",
                "action_object_id": webhook_id,
            });
            Desired {
                endpoint: ep::EVENT_RULES,
                key: "name",
                value: format!("{name}{}", rule.suffix),
                body: body.as_object().cloned().unwrap_or_default(),
                // Setup owns these rules: a type moved to another rule must leave this one.
                union_fields: &[],
                kept_fields: &[],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netbox::endpoints::FABRIC_OBJECT_TYPES;

    #[test]
    fn every_fabric_object_type_is_sent_by_exactly_one_rule() {
        let rules = event_rules("hhs", 3, &[MappingConfig::default()], &[]);
        for object_type in FABRIC_OBJECT_TYPES {
            let holders: Vec<&str> = rules
                .iter()
                .filter(|r| {
                    r.body["object_types"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(object_type))
                })
                .map(|r| r.value.as_str())
                .collect();
            assert_eq!(holders.len(), 1, "{object_type}: {holders:?}");
        }
        assert_eq!(rules.len(), SUFFIXES.len());
    }

    #[test]
    fn device_rule_tests_membership_first_and_knows_the_peer_roles() {
        let rules = event_rules("hhs", 3, &[MappingConfig::default()], &[]);
        let devices = rules.iter().find(|r| r.value == "hhs-devices").unwrap();
        let or = devices.body["conditions"]["or"].as_array().unwrap();
        assert_eq!(or[0]["attr"], "custom_fields.hedgehog_fabric");
        assert_eq!(or[1]["attr"], "role.slug");
        assert!(
            or[1]["value"]
                .as_array()
                .unwrap()
                .contains(&json!("server"))
        );
        assert_eq!(
            or[2]["attr"],
            "snapshots.prechange.custom_fields.hedgehog_fabric"
        );
    }

    #[test]
    fn with_the_served_fabrics_known_only_their_members_are_sent() {
        let fabrics = ["lab".to_owned(), "prod".to_owned()];
        let rules = event_rules("hhs", 3, &[MappingConfig::default()], &fabrics);
        let members = rules.iter().find(|r| r.value == "hhs-members").unwrap();
        let or = members.body["conditions"]["or"].as_array().unwrap();
        assert_eq!(
            or[0],
            json!({"attr": "custom_fields.hedgehog_fabric", "op": "in", "value": ["lab", "prod"]})
        );
        assert_eq!(
            or[1]["attr"],
            "snapshots.prechange.custom_fields.hedgehog_fabric"
        );
    }
}
