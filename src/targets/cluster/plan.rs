//! The apply plan of one publish: what is applied and deleted, and in which order, so that
//! every step is one the fabric's admission webhooks take.
//!
//! * Objects are applied in dependency order, VPCs and Externals before the connections and
//!   attachments that name them, and deleted in the reverse order.
//! * A change the fabric never allows in place (a Connection's type, a static external's
//!   `withinVPC`) is made by deleting the object, after the attachments that name it, and
//!   creating them again.
//! * Steps the fabric refuses are tried again once others have freed what they need (a renamed
//!   switch takes its ASN and IPs once the old one is deleted); see `publish`.
//! * When two objects swap a value the fabric keeps unique, one of them is first parked on a
//!   free value; see `parking`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Objects;
use super::reuse::InStep;
use crate::model::{Kind, ObjectKey, diff_managed, refers_to};

/// What one publish does, in order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Desired objects that differ from the cluster's or are missing, in apply order.
    pub applies: Vec<ObjectKey>,
    /// Objects to delete, in delete order: prunes, and objects to create again.
    pub deletes: Vec<ObjectKey>,
    /// Objects deleted only to be created again.
    pub recreated: BTreeSet<ObjectKey>,
}

/// Apply order: `Kind`'s, except that VPCs and Externals come before Connections (a static
/// external connection names its VPC), then names.
pub fn apply_order(key: &ObjectKey) -> (bool, Kind, &str) {
    let late = key.kind >= Kind::Connection && !matches!(key.kind, Kind::VPC | Kind::External);
    (late, key.kind, key.name.as_str())
}

impl Plan {
    /// The plan bringing `live` to `desired`; `prunable` says which live objects no longer
    /// desired may be deleted. Pairs `in_step` holds are not compared again.
    pub fn new(
        desired: &Objects,
        live: &Objects,
        in_step: &InStep,
        prunable: impl Fn(&Value) -> bool,
    ) -> Plan {
        let replaced: BTreeSet<ObjectKey> = desired
            .iter()
            .filter(|(key, object)| {
                live.get(key)
                    .is_some_and(|current| changes_immutable_field(key.kind, object, current))
            })
            .map(|(key, _)| key.clone())
            .collect();
        // The attachments naming a replaced connection go before it and come back after.
        let attachments: BTreeSet<ObjectKey> = live
            .iter()
            .filter(|(key, object)| {
                matches!(key.kind, Kind::VPCAttachment | Kind::ExternalAttachment)
                    && replaced.iter().any(|r| names_connection(object, &r.name))
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut recreated: BTreeSet<ObjectKey> = replaced;
        recreated.extend(attachments.into_iter().filter(|k| desired.contains_key(k)));

        let mut applies: Vec<ObjectKey> = desired
            .iter()
            .filter(|(key, object)| {
                recreated.contains(key)
                    || live.get(key).is_none_or(|current| {
                        !in_step.holds(key, object, current)
                            && !diff_managed(object, current).is_empty()
                    })
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut deletes: Vec<ObjectKey> = live
            .iter()
            .filter(|(key, object)| {
                recreated.contains(key) || (!desired.contains_key(key) && prunable(object))
            })
            .map(|(key, _)| key.clone())
            .collect();
        applies.sort_by(|a, b| apply_order(a).cmp(&apply_order(b)));
        deletes.sort_by(|a, b| apply_order(b).cmp(&apply_order(a)));
        Plan {
            applies,
            deletes,
            recreated,
        }
    }

    /// The same plan without applies and without re-creations: only the prunes.
    pub fn prunes_only(&self) -> Plan {
        Plan {
            applies: Vec::new(),
            deletes: self
                .deletes
                .iter()
                .filter(|k| !self.recreated.contains(k))
                .cloned()
                .collect(),
            recreated: BTreeSet::new(),
        }
    }

    /// Does the desired `object` name an object this plan applies or deletes? Its refusal by a
    /// dry-run may then only say that the other is not there yet.
    pub fn waits_on_another_step(&self, key: &ObjectKey, object: &Value) -> bool {
        let spec = object.get("spec").unwrap_or(&Value::Null);
        self.applies
            .iter()
            .chain(&self.deletes)
            .any(|other| other != key && refers_to(spec, other))
    }
}

fn names_connection(attachment: &Value, connection: &str) -> bool {
    attachment
        .pointer("/spec/connection")
        .and_then(Value::as_str)
        == Some(connection)
}

/// Does changing `live` into `desired` change a field the fabric never changes in place?
fn changes_immutable_field(kind: Kind, desired: &Value, live: &Value) -> bool {
    if kind != Kind::Connection {
        return false;
    }
    let connection_type = |object: &Value| {
        object
            .get("spec")
            .and_then(Value::as_object)
            .and_then(|spec| spec.keys().next().cloned())
    };
    let within_vpc = |object: &Value| {
        object
            .pointer("/spec/staticExternal/withinVPC")
            .cloned()
            .unwrap_or(Value::Null)
    };
    connection_type(desired) != connection_type(live) || within_vpc(desired) != within_vpc(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn key(kind: Kind, name: &str) -> ObjectKey {
        ObjectKey {
            kind,
            name: name.into(),
        }
    }

    fn object(kind: Kind, name: &str, spec: Value) -> (ObjectKey, Arc<Value>) {
        (
            key(kind, name),
            Arc::new(json!({"kind": kind.as_str(), "metadata": {"name": name}, "spec": spec})),
        )
    }

    fn plan(desired: &Objects, live: &Objects) -> Plan {
        Plan::new(desired, live, &InStep::default(), |_| true)
    }

    #[test]
    fn vpcs_come_before_the_connections_that_name_them_and_go_after() {
        let desired: BTreeMap<_, _> = [
            object(
                Kind::Connection,
                "s--static-external",
                json!({"staticExternal": {"withinVPC": "vpc-1"}}),
            ),
            object(Kind::VPC, "vpc-1", json!({})),
            object(Kind::Switch, "s", json!({})),
        ]
        .into();
        let created = plan(&desired, &BTreeMap::new());
        let names: Vec<&str> = created.applies.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["s", "vpc-1", "s--static-external"]);
        let pruned = plan(&BTreeMap::new(), &desired);
        let names: Vec<&str> = pruned.deletes.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["s--static-external", "vpc-1", "s"]);
    }

    #[test]
    fn a_connection_changing_type_is_recreated_after_its_attachments() {
        let live: BTreeMap<_, _> = [
            object(Kind::Connection, "c", json!({"unbundled": {}})),
            object(
                Kind::VPCAttachment,
                "v--c",
                json!({"connection": "c", "subnet": "v/a"}),
            ),
            object(
                Kind::VPCAttachment,
                "w--c",
                json!({"connection": "c", "subnet": "w/a"}),
            ),
        ]
        .into();
        let mut desired = live.clone();
        desired.extend([object(Kind::Connection, "c", json!({"bundled": {}}))]);
        desired.remove(&key(Kind::VPCAttachment, "w--c"));
        let recreating = plan(&desired, &live);
        let names = |keys: &[ObjectKey]| keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&recreating.deletes), ["w--c", "v--c", "c"]);
        assert_eq!(names(&recreating.applies), ["c", "v--c"]);
        assert_eq!(recreating.recreated.len(), 2, "{recreating:?}");
        assert_eq!(names(&recreating.prunes_only().deletes), ["w--c"]);
    }

    #[test]
    fn a_pair_found_in_step_is_not_compared_again_but_a_changed_object_is() {
        let desired: Objects = [object(Kind::Switch, "s", json!({"description": "new"}))].into();
        let live: Objects = [object(Kind::Switch, "s", json!({"description": "old"}))].into();
        // As if a previous plan had found these two in step: only their identity counts.
        let in_step = InStep::of(&desired, &live, &[]);
        let trusted = Plan::new(&desired, &live, &in_step, |_| true);
        assert!(trusted.applies.is_empty(), "{trusted:?}");
        let reported: Objects = [object(Kind::Switch, "s", json!({"description": "old"}))].into();
        let compared = Plan::new(&desired, &reported, &in_step, |_| true);
        assert_eq!(compared.applies, [key(Kind::Switch, "s")]);
    }
}
