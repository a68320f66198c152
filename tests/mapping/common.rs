//! Shared helpers: fabric configs, fixture loading, CRD validation and a small snapshot builder.

use std::sync::OnceLock;

use hedgehog_sidecar::config::FabricConfig;
use hedgehog_sidecar::mapping::{self, RenderError, RenderedFabric};
use hedgehog_sidecar::model::Manifest;
use hedgehog_sidecar::netbox::FabricSnapshot;
use hedgehog_sidecar::netbox::types::*;
use kube_testserver::crd::{CrdSet, FieldValidation};
use serde_json::{Value, json};
pub use testkit::paths::shared;

pub fn fixture(name: &str) -> FabricSnapshot {
    FabricSnapshot::load(&testkit::paths::fixture(name)).expect("fixture loads")
}

/// A fabric config from TOML (the `[[fabric]]` table's body).
pub fn fabric_config(toml: &str) -> FabricConfig {
    use figment::providers::Format;
    figment::Figment::from(figment::providers::Toml::string(toml))
        .extract()
        .expect("fabric config parses")
}

pub fn crds() -> &'static CrdSet {
    static CRDS: OnceLock<CrdSet> = OnceLock::new();
    CRDS.get_or_init(|| CrdSet::load_dir(&shared("hedgehog/crds")).expect("CRDs load"))
}

/// Every manifest must validate strictly against its CRD's schema.
pub fn assert_schema_valid(rendered: &RenderedFabric) {
    for manifest in &rendered.manifests {
        let violations = crds().validate(&manifest.to_value(), FieldValidation::Strict);
        assert!(
            violations.is_empty(),
            "{} {} breaks its CRD schema: {violations:?}\n{}",
            manifest.kind,
            manifest.metadata.name,
            manifest.to_yaml()
        );
    }
}

/// Renders, asserts success and schema validity.
pub fn render_ok(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> RenderedFabric {
    match mapping::render(fabric, snapshot) {
        Ok(rendered) => {
            assert_schema_valid(&rendered);
            rendered
        }
        Err(error) => panic!("render failed:\n{error}"),
    }
}

/// Renders, asserts failure, returns the error.
pub fn render_err(fabric: &FabricConfig, snapshot: &FabricSnapshot) -> RenderError {
    match mapping::render(fabric, snapshot) {
        Ok(rendered) => panic!("render unexpectedly succeeded:\n{}", rendered.to_yaml()),
        Err(error) => error,
    }
}

/// Asserts one violation says `text` (what is wrong and, where the rule has one, what to change)
/// and blames the NetBox object `object_type` #`id`, and that the printed report names that
/// object by type, id and name.
pub fn assert_violation(error: &RenderError, text: &str, object_type: &str, id: u64) {
    let blamed = error.violations.iter().find_map(|v| {
        let source = v
            .sources
            .iter()
            .find(|s| s.object_type == object_type && s.id == id)?;
        v.message.contains(text).then_some(source)
    });
    let Some(source) = blamed else {
        panic!("no violation with {text:?} on {object_type} #{id}; got:\n{error}");
    };
    assert!(!source.name.is_empty(), "{object_type} #{id} has no name");
    let named = format!("{object_type} #{id} \"{}\"", source.name);
    assert!(
        error.to_string().contains(&named),
        "the report does not name {named}:\n{error}"
    );
}

pub fn find<'a>(rendered: &'a RenderedFabric, kind: &str, name: &str) -> &'a Manifest {
    rendered
        .manifests
        .iter()
        .find(|m| m.kind == kind && m.metadata.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = rendered
                .manifests
                .iter()
                .map(|m| format!("{}/{}", m.kind, m.metadata.name))
                .collect();
            panic!("no {kind} {name}; rendered: {names:?}")
        })
}

pub fn names_of(rendered: &RenderedFabric, kind: &str) -> Vec<String> {
    rendered
        .manifests
        .iter()
        .filter(|m| m.kind == kind)
        .map(|m| m.metadata.name.clone())
        .collect()
}

/// Builds small snapshots in NetBox's REST shape. Ids are assigned in order per object type.
pub struct Builder {
    pub snapshot: FabricSnapshot,
    pub fabric: String,
    next: u64,
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("builder JSON matches the REST type")
}

impl Builder {
    pub fn new(fabric: &str) -> Self {
        Self {
            snapshot: FabricSnapshot::default(),
            fabric: fabric.into(),
            next: 100,
        }
    }

    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub fn device(&mut self, name: &str, role: &str, fields: Value) -> u64 {
        let id = self.id();
        let mut cf = json!({"hedgehog_fabric": self.fabric});
        if let Value::Object(extra) = fields {
            cf.as_object_mut().unwrap().extend(extra);
        }
        self.snapshot.devices.push(from_json(json!({
            "id": id, "name": name,
            "role": {"id": 1, "name": role, "slug": role},
            "device_type": {"id": 1, "slug": "generic"},
            "custom_fields": cf,
        })));
        id
    }

    /// A leaf with everything a running cluster needs (ASN, management, protocol and VTEP IPs).
    pub fn complete_switch(&mut self, name: &str, role: &str, n: u8, fields: Value) -> u64 {
        let mut cf = json!({"hedgehog_profile": "vs"});
        let asn = if role == "spine" {
            65100
        } else {
            65100 + u32::from(n)
        };
        cf["hedgehog_asn"] = json!(asn);
        if let Value::Object(extra) = fields {
            cf.as_object_mut().unwrap().extend(extra);
        }
        let device = self.device(name, role, cf);
        let lo = self.interface(device, "lo", json!({}));
        let mgmt = self.ip(&format!("172.30.0.{}/21", 10 + n), Some(lo), json!({}));
        self.snapshot.devices.last_mut().unwrap().primary_ip4 = Some(NestedIp {
            id: mgmt,
            address: None,
        });
        self.ip(
            &format!("172.30.8.{n}/32"),
            Some(lo),
            json!({"tags": [{"slug": "hedgehog-protocol-ip"}]}),
        );
        if role != "spine" {
            self.ip(
                &format!("172.30.12.{n}/32"),
                Some(lo),
                json!({"tags": [{"slug": "hedgehog-vtep-ip"}]}),
            );
        }
        device
    }

    pub fn interface(&mut self, device: u64, name: &str, extra: Value) -> u64 {
        let id = self.id();
        let device_name = self
            .snapshot
            .devices
            .iter()
            .find(|d| d.id == device)
            .and_then(|d| d.name.clone());
        let mut value =
            json!({"id": id, "device": {"id": device, "name": device_name}, "name": name});
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        self.snapshot.interfaces.push(from_json(value));
        id
    }

    pub fn cable(&mut self, a: u64, b: u64, fields: Value) -> u64 {
        let id = self.id();
        self.snapshot.cables.push(from_json(json!({
            "id": id,
            "a_terminations": [{"object_type": "dcim.interface", "object_id": a}],
            "b_terminations": [{"object_type": "dcim.interface", "object_id": b}],
            "custom_fields": fields,
        })));
        id
    }

    /// Interface pair plus cable in one go: returns (a interface, b interface, cable).
    pub fn link(&mut self, a_dev: u64, a_port: &str, b_dev: u64, b_port: &str) -> (u64, u64, u64) {
        let a = self.interface(a_dev, a_port, json!({}));
        let b = self.interface(b_dev, b_port, json!({}));
        let c = self.cable(a, b, json!({}));
        (a, b, c)
    }

    pub fn ip(&mut self, address: &str, interface: Option<u64>, extra: Value) -> u64 {
        let id = self.id();
        let mut value = json!({"id": id, "address": address});
        if let Some(i) = interface {
            value["assigned_object_type"] = json!("dcim.interface");
            value["assigned_object_id"] = json!(i);
        }
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        self.snapshot.ip_addresses.push(from_json(value));
        id
    }

    pub fn vlan_group(&mut self, slug: &str, ranges: Value) -> u64 {
        let id = self.id();
        self.snapshot.vlan_groups.push(from_json(json!({
            "id": id, "name": slug, "slug": slug, "vid_ranges": ranges,
            "custom_fields": {"hedgehog_fabric": self.fabric},
        })));
        id
    }

    pub fn vlan(&mut self, vid: u16, name: &str) -> u64 {
        let id = self.id();
        self.snapshot
            .vlans
            .push(from_json(json!({"id": id, "vid": vid, "name": name})));
        id
    }

    pub fn namespace_prefix(&mut self, prefix: &str, fields: Value) -> u64 {
        let id = self.id();
        let mut cf = json!({"hedgehog_fabric": self.fabric});
        cf.as_object_mut()
            .unwrap()
            .extend(fields.as_object().cloned().unwrap_or_default());
        self.snapshot.prefixes.push(from_json(json!({
            "id": id, "prefix": prefix,
            "role": {"id": 1, "slug": "hedgehog-ipv4-namespace"},
            "custom_fields": cf,
        })));
        id
    }

    pub fn route_target(&mut self, name: &str) -> u64 {
        let id = self.id();
        self.snapshot
            .route_targets
            .push(from_json(json!({"id": id, "name": name})));
        id
    }

    pub fn vrf(&mut self, name: &str, imports: &[u64], exports: &[u64], extra: Value) -> u64 {
        let id = self.id();
        let refs = |ids: &[u64]| ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>();
        let mut value = json!({
            "id": id, "name": name,
            "import_targets": refs(imports), "export_targets": refs(exports),
            "custom_fields": {"hedgehog_fabric": self.fabric},
        });
        if let Some(cf) = extra.get("custom_fields").and_then(Value::as_object) {
            value["custom_fields"]
                .as_object_mut()
                .unwrap()
                .extend(cf.clone());
        }
        if let Some(tags) = extra.get("tags") {
            value["tags"] = tags.clone();
        }
        self.snapshot.vrfs.push(from_json(value));
        id
    }

    pub fn subnet(&mut self, vrf: u64, prefix: &str, vlan: u64, fields: Value) -> u64 {
        let id = self.id();
        self.snapshot.prefixes.push(from_json(json!({
            "id": id, "prefix": prefix, "vrf": {"id": vrf}, "vlan": {"id": vlan},
            "custom_fields": fields,
        })));
        id
    }

    pub fn device_mut(&mut self, id: u64) -> &mut Device {
        self.snapshot
            .devices
            .iter_mut()
            .find(|d| d.id == id)
            .expect("device exists")
    }

    pub fn cable_mut(&mut self, id: u64) -> &mut Cable {
        self.snapshot
            .cables
            .iter_mut()
            .find(|c| c.id == id)
            .expect("cable exists")
    }

    pub fn vrf_mut(&mut self, id: u64) -> &mut Vrf {
        self.snapshot
            .vrfs
            .iter_mut()
            .find(|v| v.id == id)
            .expect("VRF exists")
    }

    pub fn prefix_mut(&mut self, id: u64) -> &mut Prefix {
        self.snapshot
            .prefixes
            .iter_mut()
            .find(|p| p.id == id)
            .expect("prefix exists")
    }

    pub fn vlan_group_mut(&mut self, id: u64) -> &mut VlanGroup {
        self.snapshot
            .vlan_groups
            .iter_mut()
            .find(|g| g.id == id)
            .expect("VLAN group exists")
    }

    /// The IP address object holding `address` (with its prefix length).
    pub fn ip_mut(&mut self, address: &str) -> &mut IpAddress {
        self.snapshot
            .ip_addresses
            .iter_mut()
            .find(|a| a.address == address)
            .unwrap_or_else(|| panic!("no IP address {address}"))
    }

    pub fn interface_mut(&mut self, id: u64) -> &mut Interface {
        self.snapshot
            .interfaces
            .iter_mut()
            .find(|i| i.id == id)
            .expect("interface exists")
    }
}

/// Sets a custom field on any object's custom fields.
pub fn set_cf(fields: &mut CustomFields, name: &str, value: Value) {
    fields.0.insert(name.to_owned(), value);
}

/// Ids of the objects of [`lab`], for tests that change one of them.
#[allow(dead_code)]
pub struct Lab {
    pub spine: u64,
    pub leaf1: u64,
    pub leaf2: u64,
    pub server1: u64,
    pub server2: u64,
    pub fabric_ips: Vec<u64>,
    pub fabric_cables: Vec<u64>,
    pub eslag_ports: [u64; 2],
    pub eslag_cables: [u64; 2],
    pub unbundled_port: u64,
    pub unbundled_cable: u64,
    pub vlan_group: u64,
    pub ipv4_prefix: u64,
    pub vlan_web: u64,
    pub vlan_db: u64,
    pub vrf: u64,
    pub prefix_web: u64,
    pub prefix_db: u64,
}

pub const CLUSTER: &str = "name = \"lab\"\n";

/// A small complete spine-leaf fabric that validates at cluster level: spine-01; leaf-01 and
/// leaf-02 in ESLAG group eslag-1; server-01 ESLAG (VLAN 1001 tagged), server-02 unbundled to
/// leaf-01 (VLAN 1002 untagged); VPC vpc-1 with subnets web (1001) and db (1002).
pub fn lab() -> (Builder, Lab) {
    let mut b = Builder::new("lab");
    let vlan_group = b.vlan_group("default", json!([[1000, 2999]]));
    let ipv4_prefix = b.namespace_prefix("10.0.0.0/16", json!({}));
    let spine = b.complete_switch("spine-01", "spine", 1, json!({}));
    let group = json!({"hedgehog_redundancy_group": "eslag-1"});
    let leaf1 = b.complete_switch("leaf-01", "leaf", 2, group.clone());
    let leaf2 = b.complete_switch("leaf-02", "leaf", 3, group);
    let mut fabric_ips = Vec::new();
    let mut fabric_cables = Vec::new();
    for (i, leaf) in [leaf1, leaf2].into_iter().enumerate() {
        let (s, l, c) = b.link(spine, &format!("E1/{}", i + 1), leaf, "E1/1");
        fabric_ips.push(b.ip(&format!("172.30.128.{}/31", 2 * i), Some(s), json!({})));
        fabric_ips.push(b.ip(&format!("172.30.128.{}/31", 2 * i + 1), Some(l), json!({})));
        fabric_cables.push(c);
    }
    let vlan_web = b.vlan(1001, "web");
    let vlan_db = b.vlan(1002, "db");
    let server1 = b.device("server-01", "server", json!({"hedgehog_fabric": null}));
    let server2 = b.device("server-02", "server", json!({"hedgehog_fabric": null}));
    let bond = b.interface(server1, "bond0", json!({"type": "lag"}));
    let mut eslag_ports = [0; 2];
    let mut eslag_cables = [0; 2];
    for (i, leaf) in [leaf1, leaf2].into_iter().enumerate() {
        let sw = b.interface(
            leaf,
            "E1/5",
            json!({"mode": "tagged", "tagged_vlans": [{"id": vlan_web}]}),
        );
        let nic = b.interface(
            server1,
            &format!("enp2s{}", i + 1),
            json!({"lag": {"id": bond}}),
        );
        eslag_cables[i] = b.cable(sw, nic, json!({}));
        eslag_ports[i] = sw;
    }
    let unbundled_port = b.interface(
        leaf1,
        "E1/6",
        json!({"mode": "access", "untagged_vlan": {"id": vlan_db}, "mtu": 9000}),
    );
    let nic = b.interface(server2, "enp2s1", json!({}));
    let unbundled_cable = b.cable(unbundled_port, nic, json!({}));
    let vrf = b.vrf("vpc-1", &[], &[], json!({}));
    let prefix_web = b.subnet(vrf, "10.0.1.0/24", vlan_web, json!({}));
    let prefix_db = b.subnet(vrf, "10.0.2.0/24", vlan_db, json!({}));
    let lab = Lab {
        spine,
        leaf1,
        leaf2,
        server1,
        server2,
        fabric_ips,
        fabric_cables,
        eslag_ports,
        eslag_cables,
        unbundled_port,
        unbundled_cable,
        vlan_group,
        ipv4_prefix,
        vlan_web,
        vlan_db,
        vrf,
        prefix_web,
        prefix_db,
    };
    (b, lab)
}

/// NetBox ids of an external added to the lab.
#[allow(dead_code)]
pub struct LabExternal {
    pub vrf: u64,
    pub router: u64,
    pub switch_port: u64,
    /// The IP address that attaches the external.
    pub ip: u64,
}

/// A BGP external `inet` (VRF exporting `exports`) peered from leaf-02 E1/48's sub-interface
/// E1/48.200 (192.0.2.1/30) with `edge-router` (192.0.2.2, AS 64999).
pub fn bgp_external(b: &mut Builder, lab: &Lab, exports: &[u64]) -> LabExternal {
    let vrf = b.vrf(
        "inet",
        &[],
        exports,
        json!({
            "tags": [{"slug": "hedgehog-external"}],
            "custom_fields": {"hedgehog_inbound_community": "65102:5000", "hedgehog_outbound_community": "50000:50001"}
        }),
    );
    let router = b.device("edge-router", "external", json!({"hedgehog_fabric": null}));
    let (switch_port, _, _) = b.link(lab.leaf2, "E1/48", router, "eth0");
    let sub = b.interface(
        lab.leaf2,
        "E1/48.200",
        json!({"parent": {"id": switch_port}}),
    );
    let ip = b.ip(
        "192.0.2.1/30",
        Some(sub),
        json!({"vrf": {"id": vrf}, "custom_fields": {"hedgehog_neighbor_ip": "192.0.2.2", "hedgehog_neighbor_asn": 64999}}),
    );
    LabExternal {
        vrf,
        router,
        switch_port,
        ip,
    }
}

/// A static external `static` (prefix 203.0.113.0/24) attached on leaf-02 E1/48 (192.0.2.1/30,
/// remote 192.0.2.2), cabled to `edge-router`.
pub fn static_external(b: &mut Builder, lab: &Lab) -> LabExternal {
    let vrf = b.vrf(
        "static",
        &[],
        &[],
        json!({
            "tags": [{"slug": "hedgehog-external"}],
            "custom_fields": {"hedgehog_static_prefixes": ["203.0.113.0/24"]}
        }),
    );
    let router = b.device("edge-router", "external", json!({"hedgehog_fabric": null}));
    let (switch_port, _, _) = b.link(lab.leaf2, "E1/48", router, "eth0");
    let ip = b.ip(
        "192.0.2.1/30",
        Some(switch_port),
        json!({"vrf": {"id": vrf}, "custom_fields": {"hedgehog_static_remote_ip": "192.0.2.2"}}),
    );
    LabExternal {
        vrf,
        router,
        switch_port,
        ip,
    }
}

/// Two complete leaves and no spine, cabled leaf-02 E1/1 → leaf-01 E1/1 with a /31.
pub fn mesh_fabric() -> (Builder, [u64; 2]) {
    let mut b = Builder::new("lab");
    b.vlan_group("default", json!([[1000, 2999]]));
    b.namespace_prefix("10.0.0.0/16", json!({}));
    let leaf1 = b.complete_switch("leaf-01", "leaf", 2, json!({}));
    let leaf2 = b.complete_switch("leaf-02", "leaf", 3, json!({}));
    let (a, z, _) = b.link(leaf2, "E1/1", leaf1, "E1/1");
    b.ip("172.30.128.1/31", Some(a), json!({}));
    b.ip("172.30.128.0/31", Some(z), json!({}));
    (b, [leaf1, leaf2])
}
