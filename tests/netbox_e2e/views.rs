//! What `setup` makes NetBox show of the sidecar, against the real NetBox: the fabric field as
//! a selection of the configured fabrics, the saved filters of each fabric's problems, the
//! links to the sidecar's UI, and one webhook per sidecar instance.

use hedgehog_sidecar::netbox::endpoints as ep;
use hedgehog_sidecar::netbox::setup::{
    Outcome, SetupReport, SetupSpec, ensure_schema, fabric_choices, remove_webhook, run_setup,
};
use hedgehog_sidecar::netbox::{ListQuery, NetBoxClient};
use serde_json::Value;
use testkit::netbox::{client, unique};

use super::{CUSTOM_FIELDS, mapping_named, setup_spec};

/// The one object of `endpoint` whose `key` is `value`.
async fn find(client: &NetBoxClient, endpoint: ep::Endpoint, key: &str, value: &str) -> Value {
    let found: Vec<Value> = client
        .list(endpoint.path, &ListQuery::new().filter(key, value))
        .await
        .unwrap();
    found
        .into_iter()
        .find(|o| o[key] == value)
        .unwrap_or_else(|| panic!("no {} {key}={value}", endpoint.object_type))
}

/// Deletes what `reports` created, choice sets last (the fields using them protect them).
async fn remove_created(client: &NetBoxClient, reports: &[&SetupReport]) {
    let created = reports.iter().flat_map(|r| r.items.iter().rev());
    let created: Vec<_> = created.filter(|i| i.outcome == Outcome::Created).collect();
    let (sets, others): (Vec<_>, Vec<_>) = created
        .into_iter()
        .partition(|i| i.object_type == ep::CHOICE_SETS.object_type);
    for item in others.into_iter().chain(sets) {
        let endpoint = ep::ALL.iter().find(|e| e.object_type == item.object_type);
        let detail = endpoint.expect("a known endpoint").detail(item.id);
        if let Err(e) = client.delete::<()>(&detail, None).await {
            eprintln!("cleanup: {} {}: {e}", item.object_type, item.name);
        }
    }
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn setup_links_objects_to_the_ui_filters_problems_and_lists_the_fabrics() {
    let _fields = CUSTOM_FIELDS.lock().await;
    let client = client();
    let name = unique("e2e-views");
    let prefix = name.replace('-', "_");
    let (lab, prod) = (format!("{name}-lab"), format!("{name}-prod"));
    let mut spec = setup_spec(&name);
    spec.mappings = vec![mapping_named(&prefix)];
    spec.fabrics = vec![lab.clone()];
    spec.fabric_choices = true;
    spec.sidecar_public_url = Some("https://netbox.example/hedgehog/".into());
    let first = run_setup(&client, &spec).await.unwrap();
    let second = run_setup(&client, &spec).await.unwrap();
    // The schema alone (seeding, import) leaves the field a selection.
    let schema = ensure_schema(&client, &spec.mappings).await.unwrap();
    let mut more = spec.clone();
    more.fabrics = vec![prod.clone()];
    let third = run_setup(&client, &more).await.unwrap();

    let field = spec.mappings[0].custom_fields.fabric.clone();
    let cf = find(&client, ep::CUSTOM_FIELDS, "name", &field).await;
    let set_name = fabric_choices::choice_set_name(&field);
    let set = find(&client, ep::CHOICE_SETS, "name", &set_name).await;
    let link = find(
        &client,
        ep::CUSTOM_LINKS,
        "name",
        &format!("{name} dcim.device"),
    )
    .await;
    let filter = find(
        &client,
        ep::SAVED_FILTERS,
        "slug",
        &format!("hedgehog-{lab}-drifted"),
    )
    .await;
    let members = find(&client, ep::EVENT_RULES, "name", &format!("{name}-members")).await;
    let links: Vec<Value> = client
        .list(
            ep::CUSTOM_LINKS.path,
            &ListQuery::new().filter("name__isw", &name),
        )
        .await
        .unwrap();
    let others = [&lab, &prod].map(|f| format!("hedgehog-{f}-"));
    let filters: Vec<Value> = client
        .list(
            ep::SAVED_FILTERS.path,
            &ListQuery::new().filter("slug__isw", &others[0]),
        )
        .await
        .unwrap();
    remove_webhook(&client, &name).await.unwrap();
    remove_created(&client, &[&first, &third]).await;

    assert_eq!((second.created(), second.updated()), (0, 0), "{second}");
    assert_eq!((schema.created(), schema.updated()), (0, 0), "{schema}");
    assert_eq!(cf["type"]["value"], "select", "{cf}");
    assert_eq!(cf["choice_set"]["name"], set_name.as_str());
    let choices: Vec<&str> = set["extra_choices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c[0].as_str())
        .collect();
    assert_eq!(
        choices,
        [lab.as_str(), prod.as_str()],
        "a fabric added, none dropped"
    );
    assert_eq!(
        link["link_url"],
        "https://netbox.example/hedgehog/ui/netbox/dcim.device/{{ object.id }}"
    );
    assert_eq!(
        links.len(),
        6,
        "devices, interfaces, cables, VLAN groups, VRFs, prefixes"
    );
    assert_eq!(filter["parameters"][format!("cf_{field}")][0], lab.as_str());
    assert_eq!(
        filter["parameters"][format!("cf_{prefix}_hedgehog_status")][0],
        "drifted"
    );
    assert_eq!(filters.len(), 3, "invalid, refused, drifted");
    // The last run, for the second fabric, left the rule sending only its members.
    let member = &members["conditions"]["or"][0];
    assert_eq!(member["op"], "in", "{members}");
    assert_eq!(member["value"], serde_json::json!([prod]), "{members}");
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn two_instances_keep_their_own_webhooks() {
    let client = client();
    let (a, b) = (unique("e2e-instance-a"), unique("e2e-instance-b"));
    let spec = |name: &str, url: &str| SetupSpec {
        sidecar_url: url.into(),
        ..setup_spec(name)
    };
    run_setup(&client, &spec(&a, "http://127.0.0.1:9/a"))
        .await
        .unwrap();
    run_setup(&client, &spec(&b, "http://127.0.0.1:9/b"))
        .await
        .unwrap();
    let again = run_setup(&client, &spec(&a, "http://127.0.0.1:9/a"))
        .await
        .unwrap();
    let hook_b = find(&client, ep::WEBHOOKS, "name", &b).await;
    let rule_b = find(&client, ep::EVENT_RULES, "name", &format!("{b}-devices")).await;
    remove_webhook(&client, &a).await.unwrap();
    remove_webhook(&client, &b).await.unwrap();

    assert_eq!((again.created(), again.updated()), (0, 0), "{again}");
    assert_eq!(
        hook_b["payload_url"],
        "http://127.0.0.1:9/b/webhooks/netbox"
    );
    assert_eq!(rule_b["action_object_id"], hook_b["id"]);
}
