//! Watches: event order, resuming after a resourceVersion, 410 Expired, selectors,
//! timeoutSeconds and bookmarks.

use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::api::{DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube_testserver::ServerOptions;
use kube_testserver::crd::CrdSet;
use serde_json::json;

use super::*;

type Events = std::pin::Pin<Box<dyn Stream<Item = kube::Result<WatchEvent<DynamicObject>>> + Send>>;

async fn next(events: &mut Events) -> WatchEvent<DynamicObject> {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5s")
        .expect("the stream is open")
        .expect("a decodable event")
}

fn describe(event: &WatchEvent<DynamicObject>) -> (String, String) {
    match event {
        WatchEvent::Added(o) => ("ADDED".into(), o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => (
            "MODIFIED".into(),
            o.metadata.name.clone().unwrap_or_default(),
        ),
        WatchEvent::Deleted(o) => (
            "DELETED".into(),
            o.metadata.name.clone().unwrap_or_default(),
        ),
        WatchEvent::Bookmark(b) => ("BOOKMARK".into(), b.metadata.resource_version.clone()),
        WatchEvent::Error(s) => ("ERROR".into(), s.reason.clone()),
    }
}

/// The next `count` events, described.
async fn next_described(events: &mut Events, count: usize) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for _ in 0..count {
        seen.push(describe(&next(events).await));
    }
    seen
}

/// The resourceVersion of a list of every switch.
async fn list_version(api: &Api<DynamicObject>) -> String {
    api.list(&ListParams::default())
        .await
        .expect("the list")
        .metadata
        .resource_version
        .expect("a list resourceVersion")
}

async fn watch(api: &Api<DynamicObject>, params: &WatchParams, version: &str) -> Events {
    api.watch(params, version)
        .await
        .expect("the watch starts")
        .boxed()
}

#[tokio::test]
async fn a_watch_from_a_list_sees_every_change_in_order() {
    let server = start().await;
    let api = switches(&server).await;
    create_switch(&api, "before", "spine").await;
    let list_rv = list_version(&api).await;
    let mut events = watch(&api, &WatchParams::default(), &list_rv).await;
    create_switch(&api, "leaf-01", "spine").await;
    merge_patch(&api, "leaf-01", json!({"spec": {"role": "server-leaf"}})).await;
    api.delete("leaf-01", &DeleteParams::default())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut versions = Vec::new();
    for _ in 0..3 {
        let event = next(&mut events).await;
        if let WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) = &event {
            versions.push(rv(o));
        }
        seen.push(describe(&event));
    }
    assert_eq!(
        seen,
        [
            ("ADDED".into(), "leaf-01".into()),
            ("MODIFIED".into(), "leaf-01".into()),
            ("DELETED".into(), "leaf-01".into())
        ]
    );
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");

    // Resuming after the first event replays the rest.
    let mut resumed = watch(&api, &WatchParams::default(), &versions[0].to_string()).await;
    assert_eq!(describe(&next(&mut resumed).await).0, "MODIFIED");
    assert_eq!(describe(&next(&mut resumed).await).0, "DELETED");

    // Without a resourceVersion ("0"), a watch starts with the current objects.
    let mut fresh = watch(&api, &WatchParams::default(), "0").await;
    assert_eq!(
        next_described(&mut fresh, 1).await,
        [("ADDED".into(), "before".into())]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_watch_from_a_compacted_resource_version_gets_410_expired() {
    let server = start().await;
    let api = switches(&server).await;
    let first = create_switch(&api, "a", "spine").await;
    create_switch(&api, "b", "spine").await;
    server.compact();
    let mut events = watch(&api, &WatchParams::default(), &rv(&first).to_string()).await;
    match next(&mut events).await {
        WatchEvent::Error(status) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(
                status.message.starts_with("too old resource version"),
                "{}",
                status.message
            );
        }
        other => panic!("expected 410, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn selector_watches_see_objects_enter_and_leave_the_selection() {
    let server = start().await;
    let api = switches(&server).await;
    let start_rv = list_version(&api).await;
    let mut events = watch(&api, &WatchParams::default().labels("rack=r9"), &start_rv).await;
    create_switch(&api, "other", "spine").await;
    let mut object = switch_json("inside", "spine");
    object["metadata"]["labels"]["rack"] = json!("r9");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(object).unwrap(),
    )
    .await
    .unwrap();
    merge_patch(
        &api,
        "inside",
        json!({"metadata": {"labels": {"rack": "r1"}}}),
    )
    .await;
    merge_patch(
        &api,
        "other",
        json!({"metadata": {"labels": {"rack": "r9"}}}),
    )
    .await;
    let seen = next_described(&mut events, 3).await;
    assert_eq!(
        seen,
        [
            ("ADDED".into(), "inside".into()),
            ("DELETED".into(), "inside".into()),
            ("ADDED".into(), "other".into()),
        ]
    );
    let mut by_name = watch(
        &api,
        &WatchParams::default().fields("metadata.name=other"),
        "0",
    )
    .await;
    assert_eq!(
        next_described(&mut by_name, 1).await,
        [("ADDED".into(), "other".into())]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn watches_end_after_timeout_seconds_and_send_bookmarks_when_allowed() {
    let options = ServerOptions {
        bookmark_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let server = TestServer::start_with(CrdSet::load_dir(&crds_dir()).unwrap(), options)
        .await
        .unwrap();
    let api = switches(&server).await;
    let created = create_switch(&api, "a", "spine").await;
    let mut events = watch(
        &api,
        &WatchParams::default().timeout(2),
        &rv(&created).to_string(),
    )
    .await;
    let (kind, version) = describe(&next(&mut events).await);
    assert_eq!(kind, "BOOKMARK");
    assert_eq!(version, rv(&created).to_string());

    let mut quiet = watch(
        &api,
        &WatchParams::default().disable_bookmarks().timeout(1),
        &rv(&created).to_string(),
    )
    .await;
    let ended = tokio::time::timeout(Duration::from_secs(5), quiet.next())
        .await
        .expect("ends by itself");
    assert!(
        ended.is_none(),
        "no event, then the stream closes: {ended:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn streaming_lists_send_initial_events_then_a_marked_bookmark() {
    let server = start().await;
    let api = switches(&server).await;
    create_switch(&api, "a", "spine").await;
    let query = "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1";
    let (code, body, _) = http(&server, "GET", &format!("{SWITCHES}{query}"), "", "").await;
    assert_eq!(code, 200);
    let lines: Vec<serde_json::Value> = body
        .as_str()
        .expect("several JSON lines")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[1]["type"], "BOOKMARK");
    assert_eq!(
        lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    server.shutdown().await;
}
