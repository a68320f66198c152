//! The sidecar never reacts to itself, whatever token it writes with: its status write-backs,
//! made here with the admin's token and no `ignore_users`, come back from NetBox as webhooks
//! and are recognised by what they changed, so none becomes a job.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hedgehog_sidecar::netbox::setup::remove_webhook;
use hedgehog_sidecar::queue::{Job, JobError, JobHandler};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::harness::*;

/// Remembers the request id of every job it runs, then runs it.
struct JobLog {
    inner: Arc<dyn JobHandler>,
    requests: Mutex<Vec<String>>,
}

#[async_trait]
impl JobHandler for JobLog {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        if let Some(request) = &job.request_id {
            self.requests.lock().unwrap().push(request.clone());
        }
        self.inner.handle(job).await
    }
}

/// Saves a description on `device` and waits until the cluster has it: every delivery NetBox
/// queued before it has been received by then.
async fn applied(seeded: &Seeded, kube: &kube::Client, device: &str) {
    let description = unique("marker");
    let id = seeded.device_id(device);
    patch(
        &format!("/dcim/devices/{id}/"),
        json!({"description": description}),
    )
    .await;
    eventually_some(Duration::from_secs(120), "the marker applied", || async {
        let switch =
            cluster_object(kube, "switches", "Switch", "wiring.githedgehog.com", device).await?;
        (switch["spec"]["description"] == json!(description)).then_some(())
    })
    .await;
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn the_sidecars_own_write_backs_create_no_jobs_even_with_an_admin_token() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-own").await else {
        return;
    };
    let settings = cluster.settings();
    let ClusterFabric { seeded, server, .. } = cluster;
    assert!(settings.webhook.ignore_users.is_empty());
    let log = Arc::new(Mutex::new(None::<Arc<JobLog>>));
    let shutdown = CancellationToken::new();
    let webhook = "e2e-own-writes";
    let sidecar = start_sidecar_with(&settings, &shutdown, Some(webhook), true, |services| {
        let handler = Arc::new(JobLog {
            inner: Arc::new(services.job_handler()),
            requests: Mutex::default(),
        });
        *log.lock().unwrap() = Some(handler.clone());
        handler
    })
    .await;
    let log = log.lock().unwrap().clone().unwrap();
    let kube = server.client().await.unwrap();
    applied(&seeded, &kube, "spine-01").await;

    // An invalid prefix: the sidecar writes `invalid` onto it, as the admin.
    let bad: Value = client()
        .post(
            "ipam/prefixes/",
            &json!({
                "prefix": seeded.namespace_slice(9),
                "role": {"slug": "hedgehog-ipv4-namespace"},
                "custom_fields": {"hedgehog_fabric": seeded.name},
            }),
        )
        .await
        .expect("an overlapping namespace prefix");
    let bad_id = bad["id"].as_u64().unwrap();
    eventually_some(
        Duration::from_secs(120),
        "the prefix marked invalid",
        || async {
            let prefix = get(&format!("/ipam/prefixes/{bad_id}/")).await;
            (prefix["custom_fields"]["hedgehog_status"]["value"] == "invalid").then_some(())
        },
    )
    .await;
    // The prefix leaves the fabric: a user's change, which is a job like any other.
    patch(
        &format!("/ipam/prefixes/{bad_id}/"),
        json!({"custom_fields": {"hedgehog_fabric": null}}),
    )
    .await;
    applied(&seeded, &kube, "spine-01").await;

    let changes = get(&format!(
        "/core/object-changes/?changed_object_type=ipam.prefix&changed_object_id={bad_id}&ordering=time"
    ))
    .await;
    let users_own: BTreeSet<String> = changes["results"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1) // the test's creation of the prefix
        .filter(|c| {
            let before = &c["prechange_data"]["custom_fields"];
            let after = &c["postchange_data"]["custom_fields"];
            before["hedgehog_fabric"] == after["hedgehog_fabric"]
        })
        .filter_map(|c| c["request_id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !users_own.is_empty(),
        "the sidecar wrote the prefix's status: {changes}"
    );
    let jobs: BTreeSet<String> = log.requests.lock().unwrap().iter().cloned().collect();
    assert!(
        jobs.is_disjoint(&users_own),
        "no write-back became a job: write-backs {users_own:?}, jobs {jobs:?}"
    );
    let metrics = reqwest::get(format!("http://{}/metrics", sidecar.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(r#"hhs_webhooks_ignored_total{reason="own_fields"}"#)),
        "NetBox delivered the write-backs and intake recognised them:\n{metrics}"
    );

    shutdown.cancel();
    remove_webhook(&client(), webhook).await.unwrap();
    let _ = client()
        .delete::<()>(&format!("ipam/prefixes/{bad_id}/"), None)
        .await;
    seeded.remove().await;
    server.shutdown().await;
}
