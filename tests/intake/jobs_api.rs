//! Jobs while `serve` runs: `/api/v1/jobs/{id}` shows a job, `.../retry` and `.../drop` act on
//! dead letters (and refuse other jobs), and `hedgehog-sidecar jobs` does all of it through the
//! running sidecar's API while the embedded queue's file is locked by it.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use hedgehog_sidecar::api::AppOptions;
use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::queue::JobState;
use secrecy::SecretString;
use serde_json::Value;
use testkit::handler::RecordingHandler;

use crate::support::{Backend, Storage, TestApp, both_backends, event};

both_backends!(
    dead_letters_are_shown_retried_and_dropped_over_the_api,
    the_jobs_command_talks_to_the_running_sidecar,
);

const API_TOKEN: &str = "operator-token";

async fn serving(storage: &Storage) -> TestApp {
    let options = AppOptions {
        workers: false,
        api_token: ApiToken(Some(SecretString::from(API_TOKEN))),
        ..AppOptions::default()
    };
    let handler = Arc::new(RecordingHandler::new());
    TestApp::spawn_with(&storage.settings(), handler, options).await
}

/// Queues an event for device `id` and dead-letters it with `error`; returns the job's id.
async fn dead_letter(app: &TestApp, id: i64, error: &str) -> String {
    let (status, body) = app
        .post_signed(&event("dcim.device", id, "updated", 1))
        .await;
    assert_eq!(status, 202, "{body}");
    let lease = app
        .queue
        .claim("test", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("the job is claimed");
    app.queue.dead_letter(&lease, error).await.unwrap();
    lease.job.id
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str) -> (u16, Value) {
    let request = match method {
        "POST" => app.client.post(app.url(path)),
        _ => app.client.get(app.url(path)),
    };
    let response = request.bearer_auth(token).send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn dead_letters_are_shown_retried_and_dropped_over_the_api(backend: Backend) {
    let storage = Storage::new(backend);
    let app = serving(&storage).await;
    let first = dead_letter(&app, 1, "NetBox refused the token").await;
    let second = dead_letter(&app, 2, "the cluster refused it").await;

    let (status, _) = call(&app, "GET", &format!("/api/v1/jobs/{first}"), "wrong").await;
    assert_eq!(status, 401, "the API token is required");
    let (status, job) = call(&app, "GET", &format!("/api/v1/jobs/{first}"), API_TOKEN).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["state"], "dead");
    assert_eq!(job["last_error"], "NetBox refused the token");
    assert_eq!(job["data"]["id"], 1, "the event data is shown");

    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/jobs/{first}/retry"),
        "wrong",
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/jobs/{first}/retry"),
        API_TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, job) = call(&app, "GET", &format!("/api/v1/jobs/{first}"), API_TOKEN).await;
    assert_eq!(job["state"], "queued", "retried: back in the queue");
    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/jobs/{first}/drop"),
        API_TOKEN,
    )
    .await;
    assert_eq!(status, 409, "a queued job is not a dead letter: {body}");

    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/jobs/{second}/drop"),
        API_TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&app, "GET", &format!("/api/v1/jobs/{second}"), API_TOKEN).await;
    assert_eq!(status, 404, "dropped: gone");
    let (status, _) = call(&app, "POST", "/api/v1/jobs/no-such-job/retry", API_TOKEN).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/jobs/{first}/run"),
        API_TOKEN,
    )
    .await;
    assert_eq!(status, 404, "only retry and drop");
    let (_, list) = call(&app, "GET", "/api/v1/jobs?state=dead", API_TOKEN).await;
    assert_eq!(list["counts"]["dead"], 0, "{list}");
    assert_eq!(app.queue.stats().await.unwrap().queued, 1);
    app.stop().await;
}

/// `hedgehog-sidecar jobs ...` against the sidecar at `url`; (success, stdout, stderr).
fn jobs_command(storage: &Storage, url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .arg("jobs")
        .args(["--url", url])
        .args(args)
        .env_remove("HEDGEHOG_SIDECAR_CONFIG")
        .env_remove("HEDGEHOG_SIDECAR_REDIS_URL")
        .envs(storage.cli_env())
        .env("HEDGEHOG_SIDECAR_API_TOKEN", API_TOKEN)
        .output()
        .expect("the binary runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

async fn the_jobs_command_talks_to_the_running_sidecar(backend: Backend) {
    let storage = Storage::new(backend);
    let app = serving(&storage).await;
    let first = dead_letter(&app, 1, "NetBox refused the token").await;
    let second = dead_letter(&app, 2, "the cluster refused it").await;
    let url = app.url("");
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        jobs_command(&storage, &url, &args)
    };

    let (ok, out, err) = run(vec!["list".into(), "--state".into(), "dead".into()]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("queued 0  running 0  retrying 0  dead 2"),
        "{out}"
    );
    assert!(
        out.contains(&first) && out.contains("last_error=NetBox refused the token"),
        "{out}"
    );
    let (ok, out, err) = run(vec!["show".into(), first.clone()]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (shown["state"].as_str(), shown["id"].as_str()),
        (Some("dead"), Some(first.as_str()))
    );
    let (ok, out, err) = run(vec!["retry".into(), first.clone()]);
    assert!(ok && out.contains("queued again"), "{out}{err}");
    let (ok, _, err) = run(vec!["retry".into(), first.clone()]);
    assert!(!ok && err.contains("not in the dead-letter queue"), "{err}");
    let (ok, out, err) = run(vec!["drop".into(), second.clone()]);
    assert!(ok && out.contains("dropped"), "{out}{err}");

    let stats = app.queue.stats().await.unwrap();
    assert_eq!((stats.queued, stats.dead), (1, 0));
    let state = app
        .queue
        .show(&first)
        .await
        .unwrap()
        .map(|(state, _)| state);
    assert_eq!(state, Some(JobState::Queued));
    app.stop().await;

    let (ok, _, err) = run(vec!["list".into()]);
    assert!(!ok, "no sidecar answers any more");
    assert!(
        err.contains(&url) && err.contains("is `serve` running?"),
        "{err}"
    );
}
