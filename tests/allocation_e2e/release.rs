//! Deleting a switch frees what allocation took for it, and the next new switch takes it.

use std::collections::BTreeSet;

use hedgehog_sidecar::allocation::release_orphans;
use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::{ListQuery, load_fabric};
use serde_json::{Value, json};
use testkit::netbox::{NETBOX, client};

use super::{
    allocate, assert_inside_pools_and_unique, bare_docs_fabric, device_like, import, oracle_admits,
    rendered, with_cleanup,
};
use hedgehog_sidecar::model::Manifest;

/// A switch's values as rendered: ASN, management, protocol and VTEP IPs, and its links' /31s.
#[derive(Debug, PartialEq, Eq)]
struct Values {
    asn: u64,
    addresses: [String; 3],
    links: BTreeSet<String>,
}

fn values_of(manifests: &[Manifest], switch: &str) -> Values {
    let spec = &manifests
        .iter()
        .find(|m| m.kind == "Switch" && m.metadata.name == switch)
        .unwrap_or_else(|| panic!("{switch} is not rendered"))
        .spec;
    let text = |field: &str| spec[field].as_str().unwrap_or_default().to_owned();
    let links = manifests
        .iter()
        .filter(|m| m.kind == "Connection")
        .flat_map(|m| {
            m.spec["fabric"]["links"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|l| {
            l["leaf"]["port"]
                .as_str()
                .is_some_and(|p| p.starts_with(&format!("{switch}/")))
        })
        .map(|l| {
            let ip: ipnet::Ipv4Net = l["spine"]["ip"].as_str().unwrap().parse().unwrap();
            ip.trunc().to_string()
        })
        .collect();
    Values {
        asn: spec["asn"].as_u64().unwrap_or_default(),
        addresses: [text("ip"), text("protocolIP"), text("vtepIP")],
        links,
    }
}

/// A device's cabled interfaces: name, type and the interface at the cable's other end.
async fn cabled_ports(device: u64) -> Vec<(String, String, u64)> {
    let query = ListQuery::new()
        .filter("device_id", device)
        .filter("cabled", "true");
    let interfaces: Vec<Value> = client().list(ep::INTERFACES.path, &query).await.unwrap();
    interfaces
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_owned(),
                i["type"]["value"].as_str().unwrap().to_owned(),
                i["link_peers"][0]["id"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A new leaf like `template` (type, role, site, custom fields but no ASN) named `name`,
/// cabled to the same peer ports.
async fn replace_leaf(template: &Value, name: &str, ports: &[(String, String, u64)]) {
    let device: Value = client()
        .post(ep::DEVICES.path, &device_like(template, name))
        .await
        .expect("the new leaf");
    for (port, kind, peer) in ports {
        // NetBox keeps a deleted device's cables, with only their other end: a user replacing
        // a switch deletes them before cabling the new one.
        let peer_now: Value = client()
            .get(&ep::INTERFACES.detail(*peer), &[])
            .await
            .unwrap();
        if let Some(cable) = peer_now["cable"]["id"].as_u64() {
            client()
                .delete::<()>(&ep::CABLES.detail(cable), None)
                .await
                .unwrap();
        }
        let interface: Value = client()
            .post(
                ep::INTERFACES.path,
                &json!({"device": device["id"], "name": port, "type": kind}),
            )
            .await
            .expect("a port of the new leaf");
        let _: Value = client()
            .post(
                ep::CABLES.path,
                &json!({
                    "a_terminations": [{"object_type": "dcim.interface", "object_id": interface["id"]}],
                    "b_terminations": [{"object_type": "dcim.interface", "object_id": peer}],
                }),
            )
            .await
            .expect("an uplink of the new leaf");
    }
}

async fn addresses_named(address: &str) -> usize {
    let host = address.split('/').next().unwrap();
    let found: Vec<Value> = client()
        .list(
            ep::IP_ADDRESSES.path,
            &ListQuery::new().filter("address", host),
        )
        .await
        .unwrap();
    found.len()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn deleting_a_switch_frees_its_values_and_the_next_switch_takes_them() {
    let _netbox = NETBOX.lock().await;
    let client = client();
    let (fabric, octet, manifests) = bare_docs_fabric(&client).await;
    with_cleanup(&client, &fabric, octet, async {
        import(&client, &fabric, &manifests).await;
        allocate(&client, &fabric, false).await;
        let old = values_of(&rendered(&client, &fabric).await, "leaf-02");
        assert_eq!(old.links.len(), 4, "{old:?}");
        let snapshot = load_fabric(&client, &fabric).await.unwrap();
        let leaf = snapshot
            .devices
            .iter()
            .find(|d| d.name.as_deref() == Some("leaf-02"));
        let leaf = leaf.unwrap().id;
        let template: Value = client.get(&ep::DEVICES.detail(leaf), &[]).await.unwrap();
        let ports = cabled_ports(leaf).await;
        client
            .delete::<()>(&ep::DEVICES.detail(leaf), None)
            .await
            .unwrap();

        // NetBox deleted the leaf's own addresses with its interfaces, and its cables; the ASN
        // object, the /31 prefixes and the spines' ends of the links are left.
        for address in &old.addresses {
            assert_eq!(addresses_named(address).await, 0, "{address} is left");
        }
        let after_delete = load_fabric(&client, &fabric).await.unwrap();
        let leaked = release_orphans(&client, &fabric, &after_delete, true)
            .await
            .unwrap();
        let kinds = |object_type: &str| {
            leaked
                .iter()
                .filter(|r| r.object_type == object_type)
                .count()
        };
        assert_eq!(
            (
                kinds("ipam.asn"),
                kinds("ipam.prefix"),
                kinds("ipam.ipaddress")
            ),
            (1, 4, 4),
            "the leaf's ASN, its four /31s and the spines' ends: {leaked:#?}"
        );
        assert!(leaked.iter().any(|r| r.value == format!("ASN {}", old.asn)));

        let pass = allocate(&client, &fabric, false).await;
        assert_eq!(pass.released, leaked, "{pass}");
        assert!(pass.allocated.is_empty(), "{pass}");
        let again = allocate(&client, &fabric, false).await;
        assert!(again.released.is_empty() && !again.changed(), "{again}");

        // Each pool hands out its lowest free value first: the freed ones.
        replace_leaf(&template, "leaf-05", &ports).await;
        let next = allocate(&client, &fabric, false).await;
        assert_eq!(next.allocated.len(), 4 + 4 * 2, "{next}");
        let after = rendered(&client, &fabric).await;
        assert_eq!(values_of(&after, "leaf-05"), old);
        assert_inside_pools_and_unique(&fabric, &after);
        oracle_admits(&fabric, &after);
    })
    .await;
}
