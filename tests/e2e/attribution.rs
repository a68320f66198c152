//! Two users' changes to two objects that go out in one commit are each credited to their own
//! request: in the commit message, its trailers and the objects' journals. The changes are
//! received by one replica and published by another, through the shared Redis.

use std::path::Path;
use std::time::Duration;

use hedgehog_sidecar::netbox::setup::remove_webhook;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::harness::*;

/// The message of the repository's newest commit whose Switch `leaf` file holds `text`.
fn commit_with(remote: &Path, leaf: &str, text: &str) -> Option<String> {
    let repo = git2::Repository::open_bare(remote).ok()?;
    let tip = repo
        .find_reference("refs/heads/main")
        .ok()?
        .peel_to_commit()
        .ok()?;
    let path = format!("fabrics/lab/switches/{leaf}.yaml");
    let entry = tip.tree().ok()?.get_path(Path::new(&path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    let content = String::from_utf8(blob.content().to_vec()).ok()?;
    content
        .contains(text)
        .then(|| tip.message().unwrap_or_default().to_owned())
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn two_changes_published_together_are_each_credited_to_their_own_request() {
    show_logs();
    let _netbox = NETBOX.lock().await;
    let seeded = Seeded::create("e2e-credit").await;
    let dir = tempfile::tempdir().unwrap();
    let (fabric, remote) = commit_fabric(&seeded, dir.path());
    let settings = with_redis(settings(fabric, &dir.path().join("data")));
    let shutdown = CancellationToken::new();
    let webhook = "e2e-credit";
    // Intake only: the two changes wait in the queue until a worker replica starts.
    let intake = start_sidecar(&settings, &shutdown, Some(webhook), false).await;

    let (one, three) = (seeded.device_id("leaf-01"), seeded.device_id("leaf-03"));
    let (first, second) = (unique("first change"), unique("second change"));
    patch(
        &format!("/dcim/devices/{one}/"),
        json!({"description": first}),
    )
    .await;
    patch(
        &format!("/dcim/devices/{three}/"),
        json!({"description": second}),
    )
    .await;
    let (request_one, request_three) = (
        last_request_id("dcim.device", one).await,
        last_request_id("dcim.device", three).await,
    );
    assert_ne!(request_one, request_three);
    eventually_some(Duration::from_secs(120), "both changes queued", || async {
        let stats = intake.app.queue.stats().await.ok()?;
        (stats.queued >= 2).then_some(())
    })
    .await;

    start_sidecar(&settings, &shutdown, None, true).await;
    let message = eventually_some(Duration::from_secs(120), "one commit with both", || async {
        commit_with(&remote, "leaf-01", &first)?;
        commit_with(&remote, "leaf-03", &second)
    })
    .await;
    assert!(
        message.contains(&format!("Switch/leaf-01: request {request_one} by admin"))
            && message.contains(&format!("Switch/leaf-03: request {request_three} by admin")),
        "each object names its own request:\n{message}"
    );
    assert!(
        message.contains(&format!("NetBox-Request-Id: {request_one}\n"))
            && message.contains(&format!("NetBox-Request-Id: {request_three}\n")),
        "{message}"
    );

    for (device, own, other) in [
        (one, &request_one, &request_three),
        (three, &request_three, &request_one),
    ] {
        let entries = eventually_some(Duration::from_secs(60), "the journal entry", || async {
            let entries = journal("dcim.device", device).await;
            entries
                .iter()
                .any(|e| e.starts_with("Committed"))
                .then_some(entries)
        })
        .await;
        let committed: Vec<&String> = entries
            .iter()
            .filter(|e| e.starts_with("Committed"))
            .collect();
        assert!(
            committed
                .iter()
                .all(|e| e.contains(own.as_str()) && !e.contains(other.as_str())),
            "device {device} is credited to its own request only: {committed:?}"
        );
    }

    shutdown.cancel();
    remove_webhook(&client(), webhook).await.unwrap();
    testkit::redis::delete_keys(&testkit::redis::redis_url(), &settings.queue.key_prefix);
    seeded.remove().await;
}
