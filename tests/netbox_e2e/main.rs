//! End-to-end tests of the NetBox client against a real NetBox 4.7 (`scripts/test` starts one
//! with `netbox-up`). NETBOX_URL, NETBOX_TOKEN (v1) and NETBOX_TOKEN_V2 must be set.
//!
//! NetBox is shared with other tests running at the same time: every test uses its own fabric
//! name, address space, route-target namespace and webhook name, and deletes what it made.

use std::collections::{BTreeMap, BTreeSet};

use hedgehog_sidecar::config::{FabricConfig, MappingConfig};
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::seed::{
    SeedOptions, create_snapshot_objects, delete_snapshot_objects,
};
use hedgehog_sidecar::netbox::setup::{SetupSpec, ensure_schema, remove_webhook, run_setup};
use hedgehog_sidecar::netbox::types::{
    CableTermination, Choice, CustomFields, NestedRef, NestedVlan,
};
use hedgehog_sidecar::netbox::writeback::{
    CustomFieldUpdate, JournalEntry, JournalKind, patch_custom_fields, write_journal,
};
use hedgehog_sidecar::netbox::{FabricSnapshot, ListQuery, NetBoxClient, NetBoxError, load_fabric};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::netbox::{client, client_v1, free_octet, options, unique, var};
use testkit::synthetic::SyntheticFabric;

mod views;

/// Held by tests that add custom fields for a while and by tests that compare whole objects:
/// every object shows every custom field, so the first would change what the second reads.
pub(crate) static CUSTOM_FIELDS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn setup_spec(name: &str) -> SetupSpec {
    SetupSpec {
        sidecar_url: "http://127.0.0.1:9".into(),
        webhook_secret: Some(SecretString::from("e2e-secret".to_owned())),
        mappings: vec![MappingConfig::default()],
        name: name.into(),
        sidecar_user: None,
        ..SetupSpec::default()
    }
}

/// The product's custom fields, tags and roles, so seeded objects can carry them.
async fn ensure_product_setup(client: &NetBoxClient) {
    ensure_schema(client, &[MappingConfig::default()])
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn setup_twice_changes_nothing_the_second_time() {
    let client = client();
    let name = unique("e2e-setup");
    let spec = setup_spec(&name);
    let first = run_setup(&client, &spec).await.unwrap();
    let second = run_setup(&client, &spec).await.unwrap();
    remove_webhook(&client, &name).await.unwrap();

    // The webhook and event rule are new (unique name); the rest may pre-exist.
    assert!(first.created() >= 2, "{first}");
    assert_eq!((second.created(), second.updated()), (0, 0), "{second}");
    assert_eq!(second.unchanged(), first.items.len());
    let names: BTreeSet<&str> = second.items.iter().map(|i| i.name.as_str()).collect();
    for expected in [
        "hedgehog_fabric",
        "hedgehog_status",
        "hedgehog_synced_at",
        "hedgehog-external",
        "hedgehog-vtep-ip",
        "spine",
        "server",
        "hedgehog-ipv4-namespace",
        "dhcp",
    ] {
        assert!(names.contains(expected), "setup did not handle {expected}");
    }
    let status: Vec<Value> = client
        .list(
            ep::CUSTOM_FIELDS.path,
            &ListQuery::new().filter("name", "hedgehog_status"),
        )
        .await
        .unwrap();
    assert_eq!(status[0]["type"]["value"], "select");
    assert_eq!(status[0]["choice_set"]["name"], "hedgehog-status");
}

/// A mapping whose custom fields, tags and roles all carry `prefix`: to setup, a NetBox that
/// holds none of them is empty, without emptying the NetBox other tests share.
fn mapping_named(prefix: &str) -> MappingConfig {
    let mut m = MappingConfig::default();
    let cf = &mut m.custom_fields;
    for name in [
        &mut cf.fabric,
        &mut cf.role,
        &mut cf.profile,
        &mut cf.asn,
        &mut cf.boot_mac,
        &mut cf.redundancy_group,
        &mut cf.redundancy_type,
        &mut cf.groups,
        &mut cf.vlan_namespaces,
        &mut cf.port_breakouts,
        &mut cf.ipv4_namespace,
        &mut cf.vlan_namespace,
        &mut cf.vpc_mode,
        &mut cf.subnet_name,
        &mut cf.isolated,
        &mut cf.restricted,
        &mut cf.dhcp_enable,
        &mut cf.dhcp_relay,
        &mut cf.dhcp_options,
        &mut cf.inbound_community,
        &mut cf.outbound_community,
        &mut cf.static_prefixes,
        &mut cf.neighbor_ip,
        &mut cf.neighbor_asn,
        &mut cf.static_remote_ip,
        &mut cf.static_proxy,
        &mut cf.permit_prefixes,
        &mut cf.vpc_permit,
        &mut cf.vpc_static_routes,
        &mut cf.host_bgp,
        &mut cf.name,
        &mut cf.status,
        &mut cf.synced_at,
        &mut cf.message,
        &mut cf.agent_heartbeat,
        &mut cf.agent_generation,
        &mut cf.nos_version,
        &mut cf.discovered_by,
        &mut cf.discovery,
        &mut cf.platform,
        &mut cf.hardware,
        &mut cf.storage,
        &mut cf.oper_status,
        &mut cf.cabling,
    ] {
        *name = format!("{prefix}_{name}");
    }
    for name in [
        &mut m.tag_external,
        &mut m.tag_protocol_ip,
        &mut m.tag_vtep_ip,
        &mut m.tag_imported,
        &mut m.fabric_record_type,
        &mut m.ipv4_namespace_prefix_role,
        &mut m.dhcp_range_role,
        &mut m.pools.management_role,
        &mut m.pools.protocol_role,
        &mut m.pools.vtep_role,
        &mut m.pools.fabric_link_role,
        &mut m.pools.allocated_tag,
        &mut m.tag_stale,
    ]
    .into_iter()
    .chain(m.server_roles.iter_mut())
    .chain(m.external_roles.iter_mut())
    {
        *name = format!("{prefix}-{name}");
    }
    m.switch_roles = m
        .switch_roles
        .into_iter()
        .map(|(slug, role)| (format!("{prefix}-{slug}"), role))
        .collect();
    m
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn setup_creates_everything_the_product_needs_where_none_of_it_exists() {
    let _fields = CUSTOM_FIELDS.lock().await;
    let client = client();
    let name = unique("e2e-empty");
    let mut spec = setup_spec(&name);
    spec.mappings = vec![mapping_named(&name.replace('-', "_"))];
    let first = run_setup(&client, &spec).await.unwrap();
    let second = run_setup(&client, &spec).await.unwrap();
    // Clean up before asserting: custom fields left behind would slow every later test.
    for item in first.items.iter().rev() {
        let endpoint = ep::ALL
            .iter()
            .find(|e| e.object_type == item.object_type)
            .expect("a known endpoint");
        if item.outcome == hedgehog_sidecar::netbox::setup::Outcome::Created {
            client
                .delete::<()>(&endpoint.detail(item.id), None)
                .await
                .unwrap();
        }
    }

    // Only the shared status choice set can pre-exist (its name is the product's own).
    let not_created: Vec<String> = first
        .items
        .iter()
        .filter(|i| i.outcome != hedgehog_sidecar::netbox::setup::Outcome::Created)
        .map(|i| format!("{} {} {}", i.object_type, i.name, i.outcome))
        .collect();
    assert!(
        not_created
            .iter()
            .all(|i| i.starts_with("extras.customfieldchoiceset ")),
        "setup did not create: {not_created:?}"
    );
    // 37 custom fields, 4 tags, 5 + 2 device roles, 2 + 4 IPAM roles (the allocation pools'),
    // the fabric record's cluster type, the webhook, 7 event rules.
    assert!(first.created() >= 37 + 4 + 7 + 6 + 1 + 1 + 7, "{first}");
    assert_eq!((second.created(), second.updated()), (0, 0), "{second}");
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn setup_patches_only_what_differs() {
    let client = client();
    let name = unique("e2e-setup");
    run_setup(&client, &setup_spec(&name)).await.unwrap();
    let mut changed = setup_spec(&name);
    changed.sidecar_url = "http://127.0.0.1:10".into();
    let report = run_setup(&client, &changed).await.unwrap();
    remove_webhook(&client, &name).await.unwrap();
    let updated: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.outcome != hedgehog_sidecar::netbox::setup::Outcome::Unchanged)
        .map(|i| format!("{} {}", i.name, i.outcome))
        .collect();
    assert_eq!(updated, vec![format!("{name} updated (payload_url)")]);
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn seeded_fabric_loads_back_and_takes_writebacks() {
    let _fields = CUSTOM_FIELDS.lock().await;
    let client = client();
    ensure_product_setup(&client).await;
    let fabric = unique("e2e");
    let mut spec = SyntheticFabric::new(
        &fabric,
        free_octet(&client).await,
        4_200_000_000 + rand::random::<u32>() % 90_000_000,
    );
    spec.servers_per_leaf = 3;
    let config = spec.fabric_config();
    let input = spec.generate(&config.mapping);
    let options = SeedOptions {
        default_site: fabric.clone(),
        ..SeedOptions::default()
    };
    create_snapshot_objects(&client, &input, &options)
        .await
        .unwrap();

    let loaded = load_fabric(&client, &config).await.unwrap();
    // Same objects, whichever token reads them.
    let loaded_v1 = load_fabric(&client_v1(), &config).await.unwrap();
    let result = std::panic::AssertUnwindSafe(async {
        assert_same_objects(&input, &loaded);
        assert_eq!(loaded, loaded_v1, "a v1 token reads the same fabric");
        select_fields_read_as_value_and_label(&loaded);
        writeback_round_trip(&client, &config, &loaded).await;
    });
    let outcome = futures::FutureExt::catch_unwind(result).await;
    delete_snapshot_objects(&client, &loaded).await.unwrap();
    let after = load_fabric(&client, &config).await.unwrap();
    assert!(after.is_empty(), "cleanup left {} objects", after.len());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn select_fields_read_as_value_and_label(loaded: &FabricSnapshot) {
    let spine = loaded
        .devices
        .iter()
        .find(|d| d.name.as_deref() == Some("spine-01"))
        .unwrap();
    let raw = spine.custom_fields.raw("hedgehog_status").unwrap();
    assert_eq!(raw, &json!({"value": "synced", "label": "Synced"}));
    assert_eq!(
        spine.custom_fields.string("hedgehog_status").as_deref(),
        Some("synced")
    );
}

async fn writeback_round_trip(
    client: &NetBoxClient,
    config: &FabricConfig,
    loaded: &FabricSnapshot,
) {
    let updates: Vec<CustomFieldUpdate> = loaded
        .devices
        .iter()
        .filter(|d| d.custom_fields.string("hedgehog_fabric").is_some())
        .map(|d| CustomFieldUpdate {
            id: d.id,
            values: json!({"hedgehog_status": "drifted", "hedgehog_message": "leaf-01 differs",
                           "hedgehog_synced_at": "2026-11-22T04:00:00Z"})
            .as_object()
            .cloned()
            .unwrap(),
        })
        .collect();
    let written = patch_custom_fields(client, "dcim.device", &updates)
        .await
        .unwrap();
    assert_eq!(written, 4);
    let reloaded = load_fabric(client, config).await.unwrap();
    for device in reloaded
        .devices
        .iter()
        .filter(|d| d.custom_fields.string("hedgehog_fabric").is_some())
    {
        assert_eq!(
            device.custom_fields.string("hedgehog_status").as_deref(),
            Some("drifted")
        );
        assert_eq!(
            device.custom_fields.string("hedgehog_message").as_deref(),
            Some("leaf-01 differs")
        );
    }

    let device = &loaded.devices[0];
    let ids = write_journal(
        client,
        &[JournalEntry {
            assigned_object_type: "dcim.device".into(),
            assigned_object_id: device.id,
            kind: JournalKind::Warning,
            comments: "drift detected (request e2e)".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 1);
    let entry: Value = client
        .get(&ep::JOURNAL_ENTRIES.detail(ids[0]), &[])
        .await
        .unwrap();
    assert_eq!(entry["assigned_object_id"], device.id);
    assert_eq!(entry["kind"]["value"], "warning");
    assert_eq!(entry["comments"], "drift detected (request e2e)");

    // An entry on an object deleted since it was read does not lose the others.
    let on = |object_type: &str, id: u64| JournalEntry {
        assigned_object_type: object_type.into(),
        assigned_object_id: id,
        kind: JournalKind::Info,
        comments: format!("pruned ({object_type} {id})"),
    };
    let ids = write_journal(
        client,
        &[
            on("dcim.cable", u64::from(u32::MAX)),
            on("dcim.device", device.id),
        ],
    )
    .await
    .expect("the valid entry is written");
    assert_eq!(ids.len(), 1, "only the entry on an existing object");
    let entry: Value = client
        .get(&ep::JOURNAL_ENTRIES.detail(ids[0]), &[])
        .await
        .unwrap();
    assert_eq!(entry["assigned_object_id"], device.id);

    // A refused bulk is halved until the refused entry stands alone: one bad entry among 16
    // costs 9 requests (one-by-one would be 17), and every good entry is written.
    let mut entries: Vec<JournalEntry> = (0..15).map(|_| on("dcim.device", device.id)).collect();
    entries.insert(7, on("dcim.cable", u64::from(u32::MAX)));
    let before = client.requests_sent();
    let ids = write_journal(client, &entries).await.unwrap();
    assert_eq!(ids.len(), 15, "every entry on an existing object");
    let requests = client.requests_sent() - before;
    assert!(
        requests <= 9,
        "{requests} requests for 16 entries, one refused"
    );
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn v1_and_v2_tokens_both_authenticate() {
    for client in [client_v1(), client()] {
        let status: Value = client.get("status/", &[]).await.unwrap();
        assert!(status["netbox-version"].as_str().unwrap().starts_with("4."));
        // An authenticated-only list: a wrong header would give 403.
        let _: Vec<Value> = client
            .list(ep::TAGS.path, &ListQuery::new().filter("limit", 1))
            .await
            .unwrap();
    }
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn wrong_token_is_a_clear_auth_error() {
    let url = var("NETBOX_URL");
    for token in [
        "nbt_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "ffffffffffffffffffffffffffffffffffffffff",
    ] {
        let client = NetBoxClient::new(options(&url, token)).unwrap();
        let error = client
            .list::<Value>(ep::DEVICES.path, &ListQuery::new())
            .await
            .unwrap_err();
        assert!(
            matches!(error, NetBoxError::Auth { status: 403, .. }),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains("refused the token"), "{text}");
        assert!(
            text.to_lowercase().contains("invalid"),
            "NetBox's reason is kept: {text}"
        );
        assert!(!text.contains(token), "the token never shows in errors");
    }
}

#[tokio::test]
async fn unreachable_netbox_is_a_clear_error() {
    let mut opts = options("http://127.0.0.1:1", "nbt_x.y");
    opts.max_retries = 1;
    let client = NetBoxClient::new(opts).unwrap();
    let error = client.get::<Value>("status/", &[]).await.unwrap_err();
    assert!(
        matches!(error, NetBoxError::Unreachable { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("cannot reach NetBox at http://127.0.0.1:1/"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connect"), "{text}");
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn bad_request_carries_netbox_field_messages() {
    let client = client();
    let error = client
        .post::<_, Value>(ep::SITES.path, &json!({"name": unique("e2e-site")}))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    let slug = error
        .field_errors()
        .iter()
        .find(|f| f.field == "slug")
        .unwrap();
    assert!(slug.messages[0].contains("required"), "{slug}");
    assert!(
        error.to_string().contains("slug: This field is required."),
        "{error}"
    );

    // 4.7 bulk shape: the failing object's index is kept, and nothing is created.
    let name = unique("e2e-vlan");
    let error = client
        .post::<_, Value>(
            ep::VLANS.path,
            &json!([{"vid": 10, "name": name}, {"vid": 5000, "name": name}]),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    let vid = &error.field_errors()[0];
    assert_eq!((vid.index, vid.field.as_str()), (Some(1), "vid"), "{error}");
    let left: Vec<Value> = client
        .list(ep::VLANS.path, &ListQuery::new().filter("name", &name))
        .await
        .unwrap();
    assert!(left.is_empty(), "bulk writes are all-or-none");
}

// ---- comparing snapshots by what they mean, not by ids ----

fn assert_same_objects(expected: &FabricSnapshot, actual: &FabricSnapshot) {
    let (want, have) = (describe(expected), describe(actual));
    let missing: Vec<&String> = want.difference(&have).collect();
    let extra: Vec<&String> = have.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "loaded fabric differs from the seeded one\nmissing: {missing:#?}\nextra: {extra:#?}"
    );
    assert_eq!(expected.len(), actual.len());
}

fn fields(cf: &CustomFields) -> String {
    cf.0.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = v.get("value").unwrap_or(v);
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn tags(tags: &[hedgehog_sidecar::netbox::types::TagRef]) -> String {
    let mut slugs: Vec<&str> = tags.iter().filter_map(|t| t.slug.as_deref()).collect();
    slugs.sort();
    slugs.join(",")
}

/// One line per object, references spelled by name.
fn describe(s: &FabricSnapshot) -> BTreeSet<String> {
    let names = Names::of(s);
    let mut out = describe_devices(s, &names);
    out.extend(describe_addressing(s, &names));
    out.extend(describe_vlans_and_vrfs(s, &names));
    out
}

/// The names the description spells references by, by NetBox id.
struct Names<'s> {
    devices: BTreeMap<u64, String>,
    /// `device/interface`.
    interfaces: BTreeMap<u64, String>,
    ips: BTreeMap<u64, &'s str>,
    vrfs: BTreeMap<u64, &'s str>,
    route_targets: BTreeMap<u64, &'s str>,
    vlan_groups: BTreeMap<u64, &'s str>,
}

impl<'s> Names<'s> {
    fn of(s: &'s FabricSnapshot) -> Self {
        let devices: BTreeMap<u64, String> = s
            .devices
            .iter()
            .map(|d| (d.id, d.name.clone().unwrap_or_default()))
            .collect();
        let interfaces = s
            .interfaces
            .iter()
            .map(|i| (i.id, format!("{}/{}", devices[&i.device.id], i.name)))
            .collect();
        Self {
            devices,
            interfaces,
            ips: s
                .ip_addresses
                .iter()
                .map(|a| (a.id, a.address.as_str()))
                .collect(),
            vrfs: s.vrfs.iter().map(|v| (v.id, v.name.as_str())).collect(),
            route_targets: s
                .route_targets
                .iter()
                .map(|r| (r.id, r.name.as_str()))
                .collect(),
            vlan_groups: s
                .vlan_groups
                .iter()
                .map(|g| (g.id, g.slug.as_str()))
                .collect(),
        }
    }

    fn vrf(&self, r: &Option<NestedRef>) -> String {
        r.as_ref()
            .map(|r| self.vrfs[&r.id])
            .unwrap_or("-")
            .to_owned()
    }

    /// What an address or MAC is assigned to: an interface, by name, or `-`.
    fn assigned(&self, object_type: &Option<String>, id: Option<u64>) -> String {
        match (object_type.as_deref(), id) {
            (Some("dcim.interface"), Some(id)) => self.interfaces[&id].clone(),
            _ => "-".into(),
        }
    }
}

fn slug(r: &Option<NestedRef>) -> String {
    r.as_ref().and_then(|r| r.slug.clone()).unwrap_or_default()
}

fn choice(c: &Option<Choice>) -> String {
    c.as_ref().map(|c| c.value.clone()).unwrap_or_default()
}

/// Devices, their interfaces and the cables between them.
fn describe_devices(s: &FabricSnapshot, names: &Names) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in &s.devices {
        out.insert(format!(
            "device {} role={} type={} site={} status={} serial={:?} ip4={} cf[{}] tags[{}]",
            names.devices[&d.id],
            slug(&d.role),
            slug(&d.device_type),
            slug(&d.site),
            choice(&d.status),
            d.serial,
            d.primary_ip4
                .as_ref()
                .map(|p| names.ips[&p.id])
                .unwrap_or("-"),
            fields(&d.custom_fields),
            tags(&d.tags)
        ));
    }
    for i in &s.interfaces {
        let vid = |v: &NestedVlan| v.vid.unwrap_or_default();
        out.insert(format!(
            "interface {} type={} lag={} mode={} untagged={:?} tagged={:?} mtu={:?} speed={:?} mac={:?} mgmt={}",
            names.interfaces[&i.id],
            choice(&i.r#type),
            i.lag.as_ref().map(|l| names.interfaces[&l.id].clone()).unwrap_or_default(),
            choice(&i.mode),
            i.untagged_vlan.as_ref().map(vid),
            i.tagged_vlans.iter().map(vid).collect::<Vec<_>>(),
            i.mtu,
            i.speed,
            i.mac_address.as_ref().map(|m| m.to_lowercase()),
            i.mgmt_only.unwrap_or(false),
        ));
    }
    for c in &s.cables {
        let end = |t: &[CableTermination]| {
            t.iter()
                .map(|t| names.interfaces[&t.object_id].clone())
                .collect::<Vec<_>>()
                .join("+")
        };
        let mut ends = [end(&c.a_terminations), end(&c.b_terminations)];
        ends.sort();
        out.insert(format!(
            "cable {} <-> {} status={}",
            ends[0],
            ends[1],
            choice(&c.status)
        ));
    }
    out
}

/// MAC and IP addresses, prefixes and IP ranges.
fn describe_addressing(s: &FabricSnapshot, names: &Names) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in &s.mac_addresses {
        out.insert(format!(
            "mac {} on {}",
            m.mac_address.to_lowercase(),
            names.assigned(&m.assigned_object_type, m.assigned_object_id)
        ));
    }
    for a in &s.ip_addresses {
        out.insert(format!(
            "ip {} vrf={} role={} on {} tags[{}] cf[{}]",
            a.address,
            names.vrf(&a.vrf),
            choice(&a.role),
            names.assigned(&a.assigned_object_type, a.assigned_object_id),
            tags(&a.tags),
            fields(&a.custom_fields)
        ));
    }
    for p in &s.prefixes {
        out.insert(format!(
            "prefix {} vrf={} vlan={:?} role={} cf[{}]",
            p.prefix,
            names.vrf(&p.vrf),
            p.vlan.as_ref().and_then(|v| v.vid),
            slug(&p.role),
            fields(&p.custom_fields)
        ));
    }
    for r in &s.ip_ranges {
        out.insert(format!(
            "range {}-{} vrf={} role={}",
            r.start_address,
            r.end_address,
            names.vrf(&r.vrf),
            slug(&r.role)
        ));
    }
    out
}

/// VLAN groups, VLANs, VRFs and route targets.
fn describe_vlans_and_vrfs(s: &FabricSnapshot, names: &Names) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for g in &s.vlan_groups {
        out.insert(format!(
            "vlan-group {} {} {:?} cf[{}]",
            g.name,
            g.slug,
            g.vid_ranges,
            fields(&g.custom_fields)
        ));
    }
    for v in &s.vlans {
        let group = v
            .group
            .as_ref()
            .map(|g| names.vlan_groups[&g.id])
            .unwrap_or("-");
        out.insert(format!("vlan {} {} group={group}", v.vid, v.name));
    }
    for v in &s.vrfs {
        let targets = |list: &[NestedRef]| {
            let mut n: Vec<&str> = list.iter().map(|r| names.route_targets[&r.id]).collect();
            n.sort();
            n.join(",")
        };
        out.insert(format!(
            "vrf {} import={} export={} tags[{}] cf[{}]",
            v.name,
            targets(&v.import_targets),
            targets(&v.export_targets),
            tags(&v.tags),
            fields(&v.custom_fields)
        ));
    }
    for r in &s.route_targets {
        out.insert(format!("rt {} cf[{}]", r.name, fields(&r.custom_fields)));
    }
    out
}

/// Setup makes the sidecar its own NetBox user (so `webhook.ignore_users` can skip its
/// write-backs): a user, a permission and a token shown once; a second run changes nothing,
/// and the token authenticates as that user and may write what the sidecar writes.
#[tokio::test]
#[ignore = "needs NetBox"]
async fn setup_creates_the_sidecars_own_user_and_token_once() {
    use hedgehog_sidecar::netbox::setup::identity::{current_user, ensure_identity};
    use secrecy::ExposeSecret;

    let admin = client();
    let name = unique("e2e-identity");
    let user = unique("e2e-sidecar");
    let mut spec = setup_spec(&name);
    spec.sidecar_user = Some(user.clone());
    let first = run_setup(&admin, &spec).await.unwrap();
    let second = run_setup(&admin, &spec).await.unwrap();
    remove_webhook(&admin, &name).await.unwrap();
    let made = first.identity.as_ref().unwrap();
    let again = second.identity.as_ref().unwrap();
    let token = made.new_token.clone().expect("a token, shown once");
    let own = NetBoxClient::new(options(&var("NETBOX_URL"), token.expose_secret())).unwrap();
    let who = current_user(&own).await;
    let checked = ensure_identity(&own, &user).await;
    let tag_name = unique("e2e-sidecar-tag");
    let tag: Result<Value, _> = own
        .post(ep::TAGS.path, &json!({"name": tag_name, "slug": tag_name}))
        .await;

    // Clean up before asserting.
    let _ = admin
        .delete::<()>(&format!("users/users/{}/", made.user_id), None)
        .await;
    let permissions: Vec<Value> = admin
        .list(
            ep::PERMISSIONS.path,
            &ListQuery::new().filter("name", &user),
        )
        .await
        .unwrap();
    for p in permissions {
        let _ = admin
            .delete::<()>(&ep::PERMISSIONS.detail(p["id"].as_u64().unwrap()), None)
            .await;
    }
    if let Ok(entry) = &tag {
        let id = entry["id"].as_u64().unwrap();
        let _ = admin.delete::<()>(&ep::TAGS.detail(id), None).await;
    }

    assert_eq!(made.user.to_string(), "created");
    assert!(!made.configured);
    assert_eq!(
        (again.user.to_string(), again.permission.to_string()),
        ("unchanged".into(), "unchanged".into())
    );
    assert!(again.new_token.is_none(), "a second run makes no token");
    assert_eq!(who.unwrap(), user);
    assert!(checked.unwrap().configured, "its own token is recognised");
    assert!(
        tag.is_ok(),
        "the user may write what the sidecar writes: {tag:?}"
    );
}
