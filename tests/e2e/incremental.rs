//! The kept snapshot against a full read, through the real NetBox: random edits, creations and
//! deletions of a fabric's devices, interfaces and cables, IP addresses created on and deleted
//! from its interfaces, and edits of every other object type it reads (VLAN groups, VLANs,
//! VRFs, route targets, prefixes, IP ranges, IP and MAC addresses), each followed by applying
//! what NetBox tells of it to the kept snapshot, which must then equal a full read and render
//! exactly as a full read does. A seed (printed; `HHS_DIFF_SEED` repeats it) picks the steps.
//!
//! With `HHS_DIFF_WEBHOOKS=1` the changes are NetBox's own deliveries to a receiver behind
//! `setup`'s event rules. NetBox's one webhook worker is shared by every test on the machine and
//! can lag by minutes, so by default each change is the object as the REST API serialises it
//! (the serializer NetBox's webhooks send, read right after the write, or right before a
//! deletion), with the events NetBox sends beside it (a cable's ends are updated interfaces).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hedgehog_sidecar::config::{FabricConfig, FabricMode};
use hedgehog_sidecar::netbox::incremental::{ObjectChange, bring_up_to_date};
use hedgehog_sidecar::netbox::setup::{SetupSpec, remove_webhook, run_setup};
use hedgehog_sidecar::netbox::types::NetBoxObject;
use hedgehog_sidecar::netbox::{FabricSnapshot, load_fabric};
use hedgehog_sidecar::reconcile::netbox_io::desired_from_snapshot;
use serde_json::{Value, json};

use super::harness::*;
use super::webhook_counter::{Delivery, WebhookCounter};

/// Steps of a run; `HHS_DIFF_STEPS` sets another number.
fn steps() -> usize {
    std::env::var("HHS_DIFF_STEPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
}

/// xorshift64: enough to pick steps reproducibly from a seed.
struct Picker(u64);

impl Picker {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())])
    }
}

/// The object at `path` as NetBox's REST API (and its webhooks) serialise it.
async fn told(object_type: &str, event: &str, path: &str) -> ObjectChange {
    ObjectChange {
        object_type: object_type.into(),
        event: event.into(),
        data: get(path).await,
    }
}

/// What the scenario created or moved, to change or undo later.
#[derive(Default)]
struct Made {
    /// Interfaces it created: (id, device).
    interfaces: Vec<(u64, u64)>,
    /// Cables it created: (id, its two interfaces).
    cables: Vec<(u64, [u64; 2])>,
    /// Devices it took out of the fabric.
    left: Vec<u64>,
    /// A VLAN outside the fabric's groups, for interfaces to use.
    vlan: u64,
    /// IP addresses it created on the fabric's interfaces.
    addresses: Vec<u64>,
}

struct Scenario {
    fabric: FabricConfig,
    kept: FabricSnapshot,
    made: Made,
    picker: Picker,
    /// The device whose edit marks the end of a step's deliveries; it never leaves.
    sentinel: u64,
    /// What the step's writes changed, as NetBox's webhooks tell it.
    told: Vec<ObjectChange>,
    /// Deliveries the counter received that earlier steps consumed.
    seen: usize,
}

fn members(scenario: &Scenario) -> Vec<u64> {
    let cf = &scenario.fabric.mapping.custom_fields.fabric;
    scenario
        .kept
        .devices
        .iter()
        .filter(|d| d.custom_fields.string(cf).as_deref() == Some(scenario.fabric.name.as_str()))
        .map(|d| d.id)
        .collect()
}

fn free_interfaces(made: &Made) -> Vec<(u64, u64)> {
    let cabled: Vec<u64> = made.cables.iter().flat_map(|(_, ends)| *ends).collect();
    made.interfaces
        .iter()
        .copied()
        .filter(|(id, _)| !cabled.contains(id))
        .collect()
}

async fn post(path: &str, body: Value) -> u64 {
    let created: Value = client().post(path, &body).await.expect("POST NetBox");
    created["id"].as_u64().unwrap()
}

async fn delete(path: &str) {
    client()
        .delete::<()>(path, None)
        .await
        .expect("DELETE NetBox");
}

impl Scenario {
    async fn update(&mut self, object_type: &str, path: &str, body: Value) {
        patch(path, body).await;
        self.told.push(told(object_type, "updated", path).await);
    }

    /// A cable's ends are updated interfaces too (NetBox sends them with the cable's event).
    async fn ends_updated(&mut self, ends: [u64; 2]) {
        for end in ends {
            let path = format!("/dcim/interfaces/{end}/");
            self.told
                .push(told("dcim.interface", "updated", &path).await);
        }
    }

    /// Makes one random change in NetBox; says which.
    async fn step(&mut self) -> String {
        let choice = self.picker.below(13);
        let changed = match choice {
            0 => self.edit_device(false).await,
            1 => self.edit_device(true).await,
            2 => self.edit_interface().await,
            3 => self.edit_cable().await,
            4 => self.create_interface().await,
            5 => self.delete_interface().await,
            6 => self.create_cable().await,
            7 => self.delete_cable().await,
            8 => self.toggle_vlan().await,
            9 => self.leave().await,
            10 => self.rejoin().await,
            11 => self.toggle_address().await,
            _ => self.edit_other().await,
        };
        match changed {
            Some(what) => what,
            None => self.edit_device(false).await.expect("a member device"),
        }
    }

    async fn edit_device(&mut self, rename: bool) -> Option<String> {
        let device = self.picker.pick(&members(self))?;
        let body = if rename {
            json!({"name": unique("sw")})
        } else {
            json!({"serial": unique("sn"), "description": unique("d")})
        };
        self.update(
            "dcim.device",
            &format!("/dcim/devices/{device}/"),
            body.clone(),
        )
        .await;
        Some(format!("device {device} {body}"))
    }

    async fn edit_interface(&mut self) -> Option<String> {
        let ids: Vec<u64> = self.kept.interfaces.iter().map(|i| i.id).collect();
        let interface = self.picker.pick(&ids)?;
        let mtu = 1500 + 100 * self.picker.below(70);
        let mut body = json!({"description": unique("i"), "mtu": mtu});
        if self.made.interfaces.iter().any(|(id, _)| *id == interface) {
            body["name"] = json!(unique("port"));
        }
        let path = format!("/dcim/interfaces/{interface}/");
        self.update("dcim.interface", &path, body.clone()).await;
        Some(format!("interface {interface} {body}"))
    }

    async fn edit_cable(&mut self) -> Option<String> {
        let ids: Vec<u64> = self.kept.cables.iter().map(|c| c.id).collect();
        let cable = self.picker.pick(&ids)?;
        let path = format!("/dcim/cables/{cable}/");
        self.update("dcim.cable", &path, json!({"label": unique("c")}))
            .await;
        Some(format!("cable {cable} label"))
    }

    async fn create_interface(&mut self) -> Option<String> {
        let device = self.picker.pick(&members(self))?;
        let body = json!({"device": device, "name": unique("port"), "type": "25gbase-x-sfp28"});
        let id = post("dcim/interfaces/", body).await;
        let path = format!("/dcim/interfaces/{id}/");
        self.told
            .push(told("dcim.interface", "created", &path).await);
        self.made.interfaces.push((id, device));
        Some(format!("interface {id} created on device {device}"))
    }

    async fn delete_interface(&mut self) -> Option<String> {
        let (id, _) = self.picker.pick(&free_interfaces(&self.made))?;
        let path = format!("/dcim/interfaces/{id}/");
        self.told
            .push(told("dcim.interface", "deleted", &path).await);
        delete(&path[1..]).await;
        self.made.interfaces.retain(|(i, _)| *i != id);
        Some(format!("interface {id} deleted"))
    }

    async fn create_cable(&mut self) -> Option<String> {
        let free = free_interfaces(&self.made);
        let a = self.picker.pick(&free)?;
        let b = free.iter().copied().find(|(_, device)| *device != a.1)?;
        let end = |id: u64| json!([{"object_type": "dcim.interface", "object_id": id}]);
        let id = post(
            "dcim/cables/",
            json!({"a_terminations": end(a.0), "b_terminations": end(b.0)}),
        )
        .await;
        self.told
            .push(told("dcim.cable", "created", &format!("/dcim/cables/{id}/")).await);
        self.ends_updated([a.0, b.0]).await;
        self.made.cables.push((id, [a.0, b.0]));
        Some(format!("cable {id} created between {} and {}", a.0, b.0))
    }

    async fn delete_cable(&mut self) -> Option<String> {
        let ids: Vec<u64> = self.made.cables.iter().map(|(id, _)| *id).collect();
        let id = self.picker.pick(&ids)?;
        let path = format!("/dcim/cables/{id}/");
        self.told.push(told("dcim.cable", "deleted", &path).await);
        delete(&path[1..]).await;
        let ends = self.made.cables.iter().find(|(c, _)| *c == id).unwrap().1;
        self.ends_updated(ends).await;
        self.made.cables.retain(|(c, _)| *c != id);
        Some(format!("cable {id} deleted"))
    }

    /// Puts the outside VLAN on a created interface, or takes it off.
    async fn toggle_vlan(&mut self) -> Option<String> {
        let ids: Vec<u64> = self.made.interfaces.iter().map(|(id, _)| *id).collect();
        let id = self.picker.pick(&ids)?;
        let current = get(&format!("/dcim/interfaces/{id}/")).await;
        let body = if current["untagged_vlan"].is_null() {
            json!({"mode": "access", "untagged_vlan": self.made.vlan})
        } else {
            json!({"mode": null, "untagged_vlan": null})
        };
        let path = format!("/dcim/interfaces/{id}/");
        self.update("dcim.interface", &path, body.clone()).await;
        Some(format!("interface {id} {body}"))
    }

    /// Creates an IP address on one of the fabric's interfaces, or deletes the one it made.
    async fn toggle_address(&mut self) -> Option<String> {
        if let Some(id) = self.made.addresses.pop() {
            let path = format!("/ipam/ip-addresses/{id}/");
            self.told
                .push(told("ipam.ipaddress", "deleted", &path).await);
            delete(&path[1..]).await;
            return Some(format!("address {id} deleted"));
        }
        let ids: Vec<u64> = self.kept.interfaces.iter().map(|i| i.id).collect();
        let interface = self.picker.pick(&ids)?;
        let (third, fourth) = (self.picker.below(250), 1 + self.picker.below(250));
        let body = json!({
            "address": format!("10.254.{third}.{fourth}/32"),
            "assigned_object_type": "dcim.interface",
            "assigned_object_id": interface,
        });
        let id = post("ipam/ip-addresses/", body).await;
        let path = format!("/ipam/ip-addresses/{id}/");
        self.told
            .push(told("ipam.ipaddress", "created", &path).await);
        self.made.addresses.push(id);
        Some(format!("address {id} created on interface {interface}"))
    }

    /// Edits the description of one of the fabric's objects of another type it reads: the type
    /// is picked first, so types with few objects come up as often as the others.
    async fn edit_other(&mut self) -> Option<String> {
        /// A type's objects in the snapshot, as (object type, REST collection, id).
        fn of<T: NetBoxObject>(
            items: &[T],
            collection: &'static str,
        ) -> Vec<(&'static str, &'static str, u64)> {
            items
                .iter()
                .map(|o| (T::OBJECT_TYPE, collection, o.id()))
                .collect()
        }
        let k = &self.kept;
        let types: Vec<_> = [
            of(&k.vlan_groups, "ipam/vlan-groups"),
            of(&k.vlans, "ipam/vlans"),
            of(&k.vrfs, "ipam/vrfs"),
            of(&k.route_targets, "ipam/route-targets"),
            of(&k.prefixes, "ipam/prefixes"),
            of(&k.ip_ranges, "ipam/ip-ranges"),
            of(&k.ip_addresses, "ipam/ip-addresses"),
            of(&k.mac_addresses, "dcim/mac-addresses"),
        ]
        .into_iter()
        .filter(|objects| !objects.is_empty())
        .collect();
        let picked = self.picker.below(types.len());
        let (object_type, collection, id) = self.picker.pick(types.get(picked)?)?;
        let path = format!("/{collection}/{id}/");
        self.update(object_type, &path, json!({"description": unique("o")}))
            .await;
        Some(format!("{object_type} {id} description"))
    }

    async fn leave(&mut self) -> Option<String> {
        let others: Vec<u64> = members(self)
            .into_iter()
            .filter(|d| *d != self.sentinel)
            .collect();
        let device = self.picker.pick(&others)?;
        let body = json!({"custom_fields": {"hedgehog_fabric": null}});
        self.update("dcim.device", &format!("/dcim/devices/{device}/"), body)
            .await;
        self.made.left.push(device);
        Some(format!("device {device} left the fabric"))
    }

    async fn rejoin(&mut self) -> Option<String> {
        let device = self.made.left.pop()?;
        let body = json!({"custom_fields": {"hedgehog_fabric": self.fabric.name}});
        self.update("dcim.device", &format!("/dcim/devices/{device}/"), body)
            .await;
        Some(format!("device {device} rejoined the fabric"))
    }
}

/// The changes a fabric's publish would be given, as the job handler routes them: those whose
/// object names this fabric or none.
fn routed(fabric: &FabricConfig, changes: Vec<ObjectChange>) -> Vec<ObjectChange> {
    let cf = &fabric.mapping.custom_fields.fabric;
    changes
        .into_iter()
        .filter(|c| {
            let named = &c.data["custom_fields"][cf];
            named.is_null() || named.as_str() == Some(fabric.name.as_str())
        })
        .collect()
}

fn delivered(deliveries: Vec<Delivery>) -> Vec<ObjectChange> {
    deliveries
        .into_iter()
        .map(|d| ObjectChange {
            object_type: d.object_type().to_owned(),
            event: d.body["event"].as_str().unwrap_or_default().to_owned(),
            data: d.body["data"].clone(),
        })
        .collect()
}

/// What NetBox told of the step: its deliveries up to the sentinel's edit (with
/// `counter`), else what the step's writes read back.
async fn told_of_step(
    scenario: &mut Scenario,
    counter: Option<&WebhookCounter>,
) -> Vec<ObjectChange> {
    let told = std::mem::take(&mut scenario.told);
    let Some(counter) = counter else {
        return routed(&scenario.fabric, told);
    };
    // An idle NetBox may deliver the step's own changes before the sentinel's edit is saved,
    // so the step's deliveries are everything after the previous step's, up to the sentinel's.
    let (_, edit, _) = deliveries_through_an_edit(counter, scenario.sentinel).await;
    let all = counter.deliveries();
    let end = all
        .iter()
        .rposition(|d| d.body == edit.body)
        .expect("the sentinel's delivery");
    let deliveries = all[scenario.seen..=end].to_vec();
    scenario.seen = end + 1;
    routed(&scenario.fabric, delivered(deliveries))
}

/// An object with its unset custom fields left out: other tests on the shared NetBox define
/// custom fields at any time, which a full read lists as null and a kept snapshot has not seen
/// (null and absent read the same; see `CustomFields::raw`).
fn without_unset_fields(mut object: Value) -> Value {
    if let Some(fields) = object
        .get_mut("custom_fields")
        .and_then(Value::as_object_mut)
    {
        fields.retain(|_, value| !value.is_null());
    }
    object
}

/// The fields two snapshots hold differently: (kind and id, field, kept, full).
fn differences(
    kept: &FabricSnapshot,
    full: &FabricSnapshot,
) -> Vec<(String, String, Value, Value)> {
    let (kept, full) = (json!(kept), json!(full));
    let by_id = |list: &Value| -> std::collections::BTreeMap<String, Value> {
        let items = list.as_array().into_iter().flatten();
        items
            .map(|o| (o["id"].to_string(), without_unset_fields(o.clone())))
            .collect()
    };
    let mut found = Vec::new();
    for (kind, list) in full.as_object().unwrap() {
        let (k, f) = (by_id(&kept[kind]), by_id(list));
        for id in k
            .keys()
            .chain(f.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (a, b) = (
                k.get(id).cloned().unwrap_or_default(),
                f.get(id).cloned().unwrap_or_default(),
            );
            let fields: std::collections::BTreeSet<String> = [&a, &b]
                .iter()
                .flat_map(|o| o.as_object().into_iter().flat_map(|m| m.keys().cloned()))
                .collect();
            for field in fields.into_iter().filter(|f| a[f] != b[f]) {
                found.push((
                    format!("{kind} {id}"),
                    field.clone(),
                    a[&field].clone(),
                    b[&field].clone(),
                ));
            }
        }
    }
    found
}

fn rendered(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> (Vec<Value>, Vec<String>) {
    let desired = desired_from_snapshot(fabric, snapshot.clone());
    let manifests = desired.manifests.iter().map(|m| m.to_value()).collect();
    let problems = desired.problems.into_iter().map(|p| p.message).collect();
    (manifests, problems)
}

/// Runs the steps; returns how many were applied to the kept snapshot without a full read.
async fn run(scenario: &mut Scenario, counter: Option<&WebhookCounter>) -> usize {
    let mut incremental = 0;
    let mut timings = Timings::default();
    if let Some(counter) = counter {
        deliveries_through_an_edit(counter, scenario.sentinel).await;
        scenario.seen = counter.len();
    }
    for step in 0..steps() {
        let what = scenario.step().await;
        let changes = told_of_step(scenario, counter).await;
        let fabric = &scenario.fabric;
        let started = Instant::now();
        match bring_up_to_date(&client(), fabric, &mut scenario.kept, &changes).await {
            Ok(None) => {
                incremental += 1;
                timings.applied.push(started.elapsed());
            }
            Ok(Some(why)) => {
                eprintln!("step {step} ({what}): full read: {why}");
                scenario.kept = load_fabric(&client(), fabric).await.expect("full read");
            }
            Err(error) => panic!("step {step} ({what}): {error}"),
        }
        let started = Instant::now();
        let full = load_fabric(&client(), fabric).await.expect("full read");
        timings.full.push(started.elapsed());
        // The snapshots' differences first: they explain any difference in what renders.
        let differences = differences(&scenario.kept, &full);
        let told: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {} {}", c.event, c.object_type, c.data["id"]))
            .collect();
        assert!(
            differences.is_empty(),
            "step {step} ({what}, told {told:?}): the snapshots differ: {differences:#?}"
        );
        assert_eq!(
            rendered(fabric, &scenario.kept),
            rendered(fabric, &full),
            "step {step} ({what}): the kept snapshot renders differently from a full read"
        );
    }
    eprintln!(
        "{} objects: a step applied to the kept snapshot took {:?} (median), a full read {:?}",
        scenario.kept.len(),
        Timings::median(&mut timings.applied),
        Timings::median(&mut timings.full)
    );
    incremental
}

/// How long applying a step took, and how long a full read.
#[derive(Default)]
struct Timings {
    applied: Vec<Duration>,
    full: Vec<Duration>,
}

impl Timings {
    fn median(times: &mut [Duration]) -> Option<Duration> {
        times.sort();
        times.get(times.len() / 2).copied()
    }
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn random_changes_applied_from_webhooks_render_exactly_as_a_full_read() {
    let seed = std::env::var("HHS_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("HHS_DIFF_SEED={seed}");
    let seeded = Seeded::create("e2e-incr").await;
    let fabric = seeded.fabric(FabricMode::Apply);
    let webhooks = std::env::var("HHS_DIFF_WEBHOOKS").is_ok_and(|v| v == "1");
    let counter = WebhookCounter::start().await;
    let hook = unique("e2e-incremental");
    if webhooks {
        let spec = SetupSpec {
            sidecar_url: counter.url.clone(),
            webhook_secret: None,
            mappings: vec![fabric.mapping.clone()],
            name: hook.clone(),
            sidecar_user: None,
            ..SetupSpec::default()
        };
        run_setup(&client(), &spec).await.expect("setup");
    }
    let vlan = post(
        "ipam/vlans/",
        json!({"vid": 3001, "name": unique("outside")}),
    )
    .await;
    let mut scenario = Scenario {
        kept: load_fabric(&client(), &fabric).await.expect("full read"),
        sentinel: seeded.device_id("spine-01"),
        fabric,
        made: Made {
            vlan,
            ..Made::default()
        },
        picker: Picker(seed),
        told: Vec::new(),
        seen: 0,
    };
    // A failed step still removes the webhook (NetBox would keep sending to a closed port).
    let outcome = {
        let scenario = &mut scenario;
        let counter = webhooks.then_some(&counter);
        futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run(scenario, counter))).await
    };
    remove_webhook(&client(), &hook)
        .await
        .expect("remove the webhook");
    for device in std::mem::take(&mut scenario.made.left) {
        let body = json!({"custom_fields": {"hedgehog_fabric": scenario.fabric.name}});
        patch(&format!("/dcim/devices/{device}/"), body).await;
    }
    for address in std::mem::take(&mut scenario.made.addresses) {
        let _ = client()
            .delete::<()>(&format!("ipam/ip-addresses/{address}/"), None)
            .await;
    }
    seeded.remove().await;
    let _ = client()
        .delete::<()>(&format!("ipam/vlans/{vlan}/"), None)
        .await;
    let incremental = match outcome {
        Ok(incremental) => incremental,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let steps = steps();
    eprintln!("{incremental} of {steps} steps applied without a full read");
    // Five of the thirteen kinds of step are applied without a full read.
    assert!(
        incremental >= steps / 5,
        "only {incremental} of {steps} steps were applied incrementally"
    );
}
