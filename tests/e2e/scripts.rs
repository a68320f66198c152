//! The NetBox custom scripts of `netbox-scripts/`, inside the real NetBox 4.7 that
//! `scripts/test` starts. NetBox accepts the module, lists its three scripts with the
//! variables users fill in, and runs them: in its background worker, where (as here) NetBox's
//! processes lack the sidecar's settings and a script says what to set; and with the settings,
//! through NetBox's `runscript` command, against a running sidecar serving a seeded fabric.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::api::{AppOptions, FabricsApi, spawn_app};
use hedgehog_sidecar::reconcile::{ReconcileOptions, SyncStatus};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::handler::RecordingHandler;
use tokio_util::sync::CancellationToken;

use super::harness::*;

/// The module's name in NetBox: the file's name, as an operator would upload it.
const MODULE: &str = "hedgehog_sidecar";

/// Uploads the module, or replaces it when an earlier run uploaded it (NetBox's API cannot
/// delete a script module). Multipart, which the sidecar's NetBox client does not speak.
async fn upload_scripts() {
    let source = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/netbox-scripts/hedgehog_sidecar.py"
    ))
    .expect("netbox-scripts/hedgehog_sidecar.py");
    let http = reqwest::Client::new();
    let url = format!("{}/api/extras/scripts/upload/", var("NETBOX_URL"));
    let send = |request: reqwest::RequestBuilder| {
        let file = reqwest::multipart::Part::bytes(source.clone())
            .file_name(format!("{MODULE}.py"))
            .mime_str("text/x-python")
            .expect("a MIME type");
        async move {
            let response = request
                .header("Authorization", var("NETBOX_TOKEN_V2"))
                .header("Accept", "application/json")
                .multipart(reqwest::multipart::Form::new().part("file", file))
                .send()
                .await
                .expect("NetBox answers");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    };
    let (created, first) = send(http.post(&url)).await;
    if created == 201 {
        return;
    }
    let (replaced, second) = send(http.put(format!("{url}{MODULE}.py/"))).await;
    assert_eq!(
        replaced, 200,
        "NetBox refused the scripts module: upload {created} {first}, replace {second}"
    );
}

/// Runs `<module>.<class>` in NetBox's worker and returns the finished job.
async fn run_script(class: &str, data: Value) -> Value {
    let path = format!("/extras/scripts/{MODULE}.{class}/");
    let body = json!({"data": data, "commit": false});
    // Running a script needs a write-enabled v2 token in NetBox 4.7 (the harness's client).
    let started: Value = eventually_some(
        Duration::from_secs(30),
        "NetBox to accept a script run: a 503 means its worker is not registered in its Redis \
         (netbox-reset flushes that); restart NetBox with netbox-down and netbox-up, as \
         scripts/test does",
        || async {
            match client().post::<_, Value>(&path, &body).await {
                Ok(started) => Some(started),
                Err(e) if e.status() == Some(503) => None,
                Err(e) => panic!("NetBox did not start {class}: {e}"),
            }
        },
    )
    .await;
    let job = started["result"]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no job in {started}"));
    eventually_some(
        Duration::from_secs(60),
        &format!("{class} to finish: is NetBox's rq worker running?"),
        || async {
            let job = get(&format!("/core/jobs/{job}/")).await;
            let state = job["status"]["value"].as_str().unwrap_or("");
            ["completed", "errored", "failed"]
                .contains(&state)
                .then_some(job)
        },
    )
    .await
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn netbox_lists_the_scripts_and_runs_them_in_its_worker() {
    upload_scripts().await;

    let listed = get("/extras/scripts/?limit=1000").await;
    let ours: Vec<&Value> = listed["results"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| {
            s["display"]
                .as_str()
                .is_some_and(|d| d.ends_with(&format!("({MODULE})")))
        })
        .collect();
    let vars_of = |name: &str| -> Vec<String> {
        let script = ours
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("NetBox does not list {name}: {ours:?}"));
        assert_eq!(script["is_executable"], true, "{script}");
        let mut vars: Vec<String> = script["vars"]
            .as_object()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        vars.sort();
        vars
    };
    assert_eq!(ours.len(), 3, "{ours:?}");
    assert!(vars_of("FabricStatus").is_empty());
    assert_eq!(vars_of("FabricDrift"), ["fabric", "refresh"]);
    assert_eq!(vars_of("ReconcileFabric"), ["dry_run", "fabric"]);

    let job = run_script("FabricStatus", json!({})).await;
    assert_eq!(job["status"]["value"], "errored", "{job}");
    let log = job["data"]["log"].to_string();
    assert!(
        log.contains("Set HEDGEHOG_SIDECAR_URL and HEDGEHOG_SIDECAR_API_TOKEN"),
        "the script says what to configure: {log}"
    );

    // A variable NetBox validates itself: the fabric name is required.
    let refused = client()
        .post::<_, Value>(
            &format!("/extras/scripts/{MODULE}.FabricDrift/"),
            &json!({"data": {}, "commit": false}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(400), "{refused}");
    assert!(refused.to_string().contains("fabric"), "{refused}");
}

/// Runs NetBox's management command `netbox <args>` where `netbox-up` installed NetBox (on
/// this machine, or in its Debian root), with `vars` added to its environment. Returns what it
/// printed.
async fn netbox_command(args: &[&str], vars: &[(&str, &str)]) -> String {
    let root = PathBuf::from(var("NETBOX_E2E_ROOT"));
    let mode = std::fs::read_to_string(root.join("mode")).unwrap_or_default();
    let mut command = if mode.trim() == "chroot" {
        let mut command = tokio::process::Command::new("chroot");
        command
            .arg(root.join("trixie"))
            .args(["env", "NETBOX_ROOT=/opt/netbox", "HOME=/root"])
            .args(vars.iter().map(|(k, v)| format!("{k}={v}")))
            .args([
                "sh",
                "-c",
                "cd /opt/netbox && exec /opt/nb/bin/netbox \"$@\"",
                "netbox",
            ]);
        command
    } else {
        let netbox_root = root.join("netbox");
        let mut command = tokio::process::Command::new(root.join("venv/bin/netbox"));
        command
            .current_dir(&netbox_root)
            .env("NETBOX_ROOT", &netbox_root)
            .envs(vars.iter().copied());
        command
    };
    let output = tokio::time::timeout(Duration::from_secs(180), command.args(args).output())
        .await
        .expect("netbox finishes within 3 minutes")
        .expect("netbox runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `netbox runscript` of one of the module's scripts with `data` (JSON), logging at info level.
async fn runscript(class: &str, data: Option<Value>, vars: &[(&str, &str)]) -> String {
    let data = data.map(|d| d.to_string());
    let mut args = vec!["runscript", "--loglevel", "info"];
    if let Some(data) = &data {
        args.extend(["--data", data]);
    }
    let script = format!("{MODULE}.{class}");
    args.push(&script);
    netbox_command(&args, vars).await
}

/// With the sidecar's settings (here given to NetBox's `runscript` command, in production to
/// NetBox's processes), the status script shows the fabric's last reconcile and the drift
/// script compares NetBox with the cluster on demand.
#[tokio::test]
#[ignore = "needs NetBox"]
async fn with_the_settings_the_scripts_show_a_served_fabrics_status_and_drift() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-scripts").await else {
        return;
    };
    upload_scripts().await;
    let settings = cluster.settings();
    let services = Arc::new(services(&settings).await);
    let ClusterFabric { seeded, .. } = cluster;
    let scheduler = Arc::new(services.scheduler(&settings));
    let first = scheduler
        .reconcile_now(&seeded.name, ReconcileOptions::default())
        .await
        .expect("a first pass");
    assert_eq!(first.sync, SyncStatus::Synced, "{:?}", first.errors);
    let api_token = unique("api-token");
    let shutdown = CancellationToken::new();
    let app = spawn_app(
        &settings,
        Arc::new(RecordingHandler::new()),
        shutdown.clone(),
        AppOptions {
            workers: false,
            fabrics_api: Some(FabricsApi {
                scheduler,
                token: ApiToken(Some(SecretString::from(api_token.clone()))),
            }),
            ..AppOptions::default()
        },
    )
    .await
    .expect("sidecar starts");
    let sidecar_url = format!("http://{}", app.addr);
    let vars = [
        ("HEDGEHOG_SIDECAR_URL", sidecar_url.as_str()),
        ("HEDGEHOG_SIDECAR_API_TOKEN", api_token.as_str()),
    ];

    let status = runscript("FabricStatus", None, &vars).await;
    assert!(
        status.contains(&format!("{} (apply): Synced,", seeded.name)),
        "FabricStatus shows the fabric as synced:\n{status}"
    );
    assert!(!status.contains("Script aborted"), "{status}");

    // The fabric is chosen by its record, which the first reconcile created.
    let records = get(&format!(
        "/virtualization/clusters/?name={}&type=hedgehog-fabric",
        seeded.name
    ))
    .await;
    let record = records["results"][0]["id"]
        .as_u64()
        .expect("the fabric's record");
    let data = json!({"fabric": record, "refresh": true});
    let drift = runscript("FabricDrift", Some(data), &vars).await;
    assert!(
        drift.contains(&format!("{} is Synced", seeded.name)),
        "FabricDrift finds nothing to report:\n{drift}"
    );

    // A wrong token is refused by the sidecar, and the script says so.
    let wrong_token = [vars[0], ("HEDGEHOG_SIDECAR_API_TOKEN", "not-the-token")];
    let refused = runscript("FabricStatus", None, &wrong_token).await;
    assert!(
        refused.contains("The sidecar answered 401"),
        "the refusal is shown:\n{refused}"
    );

    shutdown.cancel();
    app.stopped().await;
    seeded.remove().await;
}
