//! `POST /webhooks/netbox` and the health and metrics endpoints, on both back-ends.

use std::collections::HashMap;

use hedgehog_sidecar::queue::JobState;

use crate::support::{Backend, Storage, TestApp, both_backends, event, netbox_deliveries};

both_backends!(
    signatures_are_checked,
    oversized_bodies_get_413,
    bad_bodies_get_400_saying_why,
    unhandled_and_own_events_are_accepted_not_queued,
    all_real_netbox_deliveries_are_accepted_and_parsed,
    identical_redeliveries_are_dropped,
    health_readiness_and_metrics,
    a_missing_secret_stops_start_up_naming_the_key,
);

/// Good signature → 202 with a job id; wrong, malformed or missing → 401 and nothing stored.
async fn signatures_are_checked(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let body = event("dcim.device", 1, "updated", 1);

    let (status, json) = app.post_signed(&body).await;
    assert_eq!(status, 202, "{json}");
    assert_eq!(json["status"], "queued");
    assert!(json["job_id"].as_str().is_some_and(|id| !id.is_empty()));

    let wrong = hedgehog_sidecar::intake::sign("another-secret", body.as_bytes());
    let other_body = event("dcim.device", 2, "updated", 1);
    for (signature, expected) in [
        (Some(wrong.as_str()), "signature_mismatch"),
        (Some("not-hex"), "signature_mismatch"),
        (None, "signature_missing"),
    ] {
        let (status, json) = app.post(&other_body, signature).await;
        assert_eq!(status, 401, "{json}");
        assert_eq!(json["error"], expected);
    }
    // A valid signature of another body does not carry over.
    let (status, _) = app
        .post(
            &other_body,
            Some(&hedgehog_sidecar::intake::sign(
                crate::support::SECRET,
                body.as_bytes(),
            )),
        )
        .await;
    assert_eq!(status, 401);

    let queued = app.queue.list(JobState::Queued, 10).await.unwrap();
    assert_eq!(queued.len(), 1, "only the signed event is stored");
    app.stop().await;
}

async fn oversized_bodies_get_413(backend: Backend) {
    let storage = Storage::new(backend);
    let mut settings = storage.settings();
    settings.webhook.max_body_bytes = 2048;
    let app = TestApp::spawn_without_workers(&settings).await;
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(4096));
    let (status, json) = app.post_signed(&big).await;
    assert_eq!(status, 413, "{json}");
    assert!(json["message"].as_str().unwrap().contains("2048"), "{json}");

    // Chunked, without Content-Length: refused while reading.
    let stream = futures::stream::iter(
        (0..8).map(|_| Ok::<_, std::io::Error>(actix_web::web::Bytes::from(vec![b' '; 1024]))),
    );
    let response = app
        .client
        .post(app.url("/webhooks/netbox"))
        .header("x-hook-signature", "00")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    app.stop().await;
}

async fn bad_bodies_get_400_saying_why(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let cases = [
        ("{not json", "not_json", "not JSON"),
        (r#"{"hello": "world"}"#, "not_an_event", "event"),
        (r#"[1, 2]"#, "not_an_event", "not a NetBox event"),
        (
            r#"{"event": "updated", "timestamp": "t", "object_type": "dcim.device", "data": {"name": "x"}}"#,
            "not_an_event",
            "data.id",
        ),
    ];
    for (body, reason, words) in cases {
        let (status, json) = app.post_signed(body).await;
        assert_eq!(status, 400, "{body}: {json}");
        assert_eq!(json["error"], reason, "{body}");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    app.stop().await;
}

async fn unhandled_and_own_events_are_accepted_not_queued(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let site = event("dcim.site", 1, "updated", 1);
    let job_event = event("dcim.device", 1, "job_ended", 1);
    let own = event("dcim.device", 1, "updated", 1).replace("\"admin\"", "\"hedgehog-sidecar\"");
    for (body, reason) in [
        (site, "unhandled_object_type"),
        (job_event, "unhandled_event"),
        (own, "own_user"),
    ] {
        let (status, json) = app.post_signed(&body).await;
        assert_eq!(status, 202, "{json}");
        assert_eq!(json["status"], "ignored");
        assert_eq!(json["reason"], reason);
    }
    assert!(
        app.queue
            .list(JobState::Queued, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"hhs_webhooks_ignored_total{reason="own_user"}"#),
        "{text}"
    );
    app.stop().await;
}

/// The 23 deliveries NetBox 4.7.3 sent while a fabric was built: every one is accepted with
/// its real signature, and the queue holds one job per object carrying the newest event.
async fn all_real_netbox_deliveries_are_accepted_and_parsed(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let deliveries = netbox_deliveries();
    assert_eq!(deliveries.len(), 23);
    let mut newest: HashMap<String, serde_json::Value> = HashMap::new();
    for delivery in &deliveries {
        let (status, json) = app.post(&delivery.body, Some(&delivery.signature)).await;
        assert_eq!(status, 202, "{json}");
        assert!(
            json["status"] == "queued" || json["status"] == "coalesced",
            "{json}"
        );
        let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap();
        let key = format!(
            "{}:{}",
            body["object_type"].as_str().unwrap(),
            body["data"]["id"]
        );
        newest.insert(key, body);
    }
    let jobs = app.queue.list(JobState::Queued, 100).await.unwrap();
    assert_eq!(jobs.len(), newest.len(), "one job per NetBox object");
    for job in jobs {
        let body = &newest[&job.key];
        assert_eq!(job.object_type, body["object_type"]);
        assert_eq!(job.object_id, body["data"]["id"].as_i64().unwrap());
        assert_eq!(job.event, body["event"]);
        assert_eq!(job.timestamp, body["timestamp"]);
        assert_eq!(job.request_id.as_deref(), body["request"]["id"].as_str());
        assert_eq!(job.user.as_deref(), Some("admin"));
        assert_eq!(job.data.parse(), body["data"]);
        assert_eq!(
            job.fabric.as_deref(),
            body["data"]["custom_fields"]["hedgehog_fabric"].as_str()
        );
    }
    app.stop().await;
}

async fn identical_redeliveries_are_dropped(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let body = event("ipam.vlan", 5, "created", 1);
    let (_, first) = app.post_signed(&body).await;
    let (status, again) = app.post_signed(&body).await;
    assert_eq!(status, 202);
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["job_id"], first["job_id"]);
    let jobs = app.queue.list(JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].data.parse()["version"], 1);
    app.stop().await;
}

async fn health_readiness_and_metrics(backend: Backend) {
    let storage = Storage::new(backend);
    let app = TestApp::spawn_without_workers(&storage.settings()).await;
    let get = |path: &'static str| {
        let request = app.client.get(app.url(path));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    assert_eq!(get("/readyz").await.0, 200);
    app.post(&event("dcim.cable", 1, "created", 1), Some("00"))
        .await;
    app.post_signed(&event("dcim.cable", 1, "created", 1)).await;
    let (status, text) = get("/metrics").await;
    assert_eq!(status, 200);
    for metric in [
        "hhs_webhooks_received_total",
        r#"hhs_webhooks_rejected_total{reason="signature_mismatch"}"#,
        r#"hhs_jobs_queued_total{outcome="queued"}"#,
        "hhs_webhook_seconds_bucket",
        "hhs_build_info{version=",
        // Registered at start, before any NetBox request (per-fabric ones need a fabric). The
        // recorder is the test process's, which other tests' sidecars count into too.
        r#"hhs_netbox_retries_total{method="GET"} "#,
        r#"hhs_webhooks_ignored_total{reason="own_user"} "#,
    ] {
        assert!(text.contains(metric), "{metric} missing from:\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap_or_default();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no # HELP:\n{text}"
        );
    }
    app.stop().await;
}

async fn a_missing_secret_stops_start_up_naming_the_key(backend: Backend) {
    let storage = Storage::new(backend);
    let mut settings = storage.settings();
    settings.webhook.secret = None;
    let started = hedgehog_sidecar::api::spawn_app(
        &settings,
        std::sync::Arc::new(testkit::handler::RecordingHandler::new()),
        tokio_util::sync::CancellationToken::new(),
        hedgehog_sidecar::api::AppOptions::default(),
    )
    .await;
    let error = started.err().expect("start-up fails").to_string();
    assert!(error.contains("webhook.secret"), "{error}");
}
