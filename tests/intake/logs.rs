//! Log lines about a job carry NetBox's request id; no secret ever reaches a log.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use testkit::handler::RecordingHandler;

use crate::support::{Backend, Storage, TestApp, captured_logs, eventually, netbox_deliveries};
use testkit::logs::duplicate_keys;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis"]
async fn job_logs_carry_the_request_id_and_secrets_never_appear() {
    let storage = Storage::new(Backend::Redis);
    let mut settings = storage.settings();
    let second_secret = "rotated-secret-must-stay-hidden";
    settings.webhook.previous_secrets = vec![SecretString::from(second_secret)];
    let handler = Arc::new(RecordingHandler::new());
    let app = TestApp::spawn(&settings, handler.clone()).await;
    let delivery = &netbox_deliveries()[0];
    let (status, json) = app.post(&delivery.body, Some(&delivery.signature)).await;
    assert_eq!(status, 202);
    app.post(&delivery.body, Some("deadbeef")).await;
    eventually(Duration::from_secs(10), "the job runs", || async {
        !handler.jobs().is_empty()
    })
    .await;
    app.stop().await;

    let logs = captured_logs();
    let job_id = json["job_id"].as_str().unwrap();
    let request_id = "60d334b1-8c1e-41b9-a412-2675816e7996";
    let job_lines: Vec<&str> = logs.lines().filter(|l| l.contains(job_id)).collect();
    assert!(job_lines.len() >= 2, "the job was logged:\n{logs}");
    for line in &job_lines {
        assert!(line.contains(request_id), "no request id in: {line}");
    }
    assert!(
        logs.lines()
            .any(|l| l.contains("job recorded") && l.contains(request_id)),
        "the handler's own lines carry it too"
    );
    for secret in [crate::support::SECRET, second_secret] {
        assert!(!logs.contains(secret), "a secret was logged");
    }
    assert!(
        !logs.contains(&delivery.signature),
        "a signature was logged"
    );
    let rejected: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("webhook rejected"))
        .collect();
    assert!(!rejected.is_empty(), "the bad signature was logged");
    for line in rejected {
        assert!(
            line.contains(r#""peer":"127.0.0.1:"#),
            "no peer address in: {line}"
        );
        assert!(line.contains(r#""level":"WARN""#), "not a warning: {line}");
    }
    for line in logs.lines() {
        assert_eq!(duplicate_keys(line), Vec::<String>::new(), "in: {line}");
    }
    for line in &job_lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let spans = value["spans"].as_array().cloned().unwrap_or_default();
        let jobs = spans.iter().filter(|s| s["name"] == "job").count();
        assert!(jobs <= 1, "the job's span is printed {jobs} times: {line}");
    }
}

#[test]
fn duplicate_keys_are_found() {
    assert_eq!(
        duplicate_keys(r#"{"message":"a","x":1,"message":"b"}"#),
        ["message"]
    );
    assert!(duplicate_keys(r#"{"message":"a","x":1}"#).is_empty());
}

#[test]
fn turning_tls_verification_off_is_a_warning() {
    crate::support::capture_logs();
    let settings = hedgehog_sidecar::config::NetBoxSettings {
        url: Some("https://netbox.invalid".into()),
        token: Some(SecretString::from("nbt_abc.def")),
        verify_tls: false,
        ..Default::default()
    };
    hedgehog_sidecar::netbox::NetBoxClient::from_settings(&settings).expect("a client");
    let logs = captured_logs();
    assert!(
        logs.lines().any(|l| l.contains(r#""level":"WARN""#)
            && l.contains("verify_tls = false")
            && l.contains("netbox.invalid")),
        "no warning about verify_tls = false:\n{logs}"
    );
}
