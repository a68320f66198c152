//! What NetBox shows of the sidecar: a custom link on each object type the sidecar's UI has a
//! page for, and saved filters that find a fabric's objects with a problem.

use serde_json::{Value, json};

use super::ensure::Desired;
use crate::config::MappingConfig;
use crate::netbox::endpoints as ep;

/// The object types with a page in the sidecar's UI, and the Jinja expression (on `object`)
/// that holds the fabric custom field deciding whether the link shows (`None`: always shown).
const LINKED: &[(&str, Option<&str>)] = &[
    ("dcim.device", Some("object")),
    ("dcim.interface", Some("object.device")),
    ("dcim.cable", None),
    ("ipam.vlangroup", Some("object")),
    ("ipam.vrf", Some("object")),
    ("ipam.prefix", Some("object")),
];

/// The statuses a saved filter is made for: the problems an operator acts on.
pub(crate) const FILTERED_STATUSES: &[&str] = &["invalid", "refused", "drifted"];

/// The path of an object's page in the sidecar's UI, under its public URL.
pub fn ui_path(object_type: &str, id: &str) -> String {
    format!("/ui/netbox/{object_type}/{id}")
}

/// The custom links named `<instance> <object type>` to `sidecar_public_url`'s object pages.
/// NetBox hides a link whose text renders empty: a device, VLAN group, VRF or prefix shows it
/// when it belongs to a fabric (an interface when its device does), a cable always.
pub(crate) fn custom_links(
    instance: &str,
    sidecar_public_url: &str,
    mapping: &MappingConfig,
) -> Vec<Desired> {
    let base = sidecar_public_url.trim_end_matches('/');
    let cf = &mapping.custom_fields.fabric;
    LINKED
        .iter()
        .map(|(object_type, holder)| {
            let text = match holder {
                Some(holder) => format!("{{% if {holder}.cf.{cf} %}}{instance}{{% endif %}}"),
                None => instance.to_owned(),
            };
            let name = format!("{instance} {object_type}");
            let body = json!({
                "name": name,
                "object_types": [object_type],
                "enabled": true,
                "link_text": text,
                "link_url": format!("{base}{}", ui_path(object_type, "{{ object.id }}")),
                "group_name": "Hedgehog",
                "new_window": false,
                "weight": 100,
            });
            desired(ep::CUSTOM_LINKS, "name", name, body)
        })
        .collect()
}

/// Per fabric and problem status, a saved filter `Hedgehog <fabric>: <status>` over the
/// fabric's object types.
pub(crate) fn saved_filters(fabrics: &[(String, MappingConfig)]) -> Vec<Desired> {
    let mut out = Vec::new();
    for (fabric, mapping) in fabrics {
        let cf = &mapping.custom_fields;
        for status in FILTERED_STATUSES {
            let slug = format!("hedgehog-{fabric}-{status}");
            let body = json!({
                "name": format!("Hedgehog {fabric}: {status}"),
                "slug": slug,
                "description": format!("Objects of fabric {fabric} whose sync state is {status}"),
                "object_types": filtered_object_types(),
                "enabled": true,
                "shared": true,
                "weight": 100,
                "parameters": {
                    format!("cf_{}", cf.fabric): [fabric],
                    format!("cf_{}", cf.status): [status],
                },
            });
            out.push(desired(ep::SAVED_FILTERS, "slug", slug, body));
        }
    }
    out
}

/// The object types that carry a sync state: every fabric object type but MAC addresses.
fn filtered_object_types() -> Vec<&'static str> {
    ep::FABRIC_OBJECT_TYPES
        .iter()
        .copied()
        .filter(|t| *t != ep::MAC_ADDRESSES.object_type)
        .collect()
}

fn desired(endpoint: ep::Endpoint, key: &'static str, value: String, body: Value) -> Desired {
    Desired {
        endpoint,
        key,
        value,
        body: body.as_object().cloned().unwrap_or_default(),
        // Setup owns these objects: an object type it no longer links must leave them.
        union_fields: &[],
        kept_fields: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_per_object_type_to_its_ui_page_shown_for_fabric_members() {
        let links = custom_links("hhs-a", "https://nb.example/hh/", &MappingConfig::default());
        let device = links
            .iter()
            .find(|l| l.value == "hhs-a dcim.device")
            .unwrap();
        assert_eq!(
            device.body["link_url"],
            "https://nb.example/hh/ui/netbox/dcim.device/{{ object.id }}"
        );
        assert_eq!(
            device.body["link_text"],
            "{% if object.cf.hedgehog_fabric %}hhs-a{% endif %}"
        );
        let types: Vec<&str> = links
            .iter()
            .map(|l| l.body["object_types"][0].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "dcim.device",
                "dcim.interface",
                "dcim.cable",
                "ipam.vlangroup",
                "ipam.vrf",
                "ipam.prefix"
            ]
        );
    }

    #[test]
    fn three_problem_filters_per_fabric() {
        let filters = saved_filters(&[("lab".into(), MappingConfig::default())]);
        let slugs: Vec<&str> = filters.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(
            slugs,
            [
                "hedgehog-lab-invalid",
                "hedgehog-lab-refused",
                "hedgehog-lab-drifted"
            ]
        );
        assert_eq!(
            filters[1].body["parameters"],
            json!({"cf_hedgehog_fabric": ["lab"], "cf_hedgehog_status": ["refused"]})
        );
    }
}
