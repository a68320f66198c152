//! The binary starts where other software shares its variable prefix: a pod of a Service named
//! `hedgehog-sidecar` (the kubelet's service links) and an env file shared with NetBox (the
//! scripts' `HEDGEHOG_SIDECAR_URL`); its secrets come from files; `config check` and `health`
//! answer with their exit codes.

use crate::binary::{Served, free_port, run};

use testkit::kubelet::SERVICE_LINKS as KUBELET_SERVICE_LINKS;

#[test]
fn serve_starts_with_the_kubelets_variables_and_secrets_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("webhook-secret");
    let token = dir.path().join("api-token");
    std::fs::write(&secret, "s3cret\n").unwrap();
    std::fs::write(&token, "api-t0ken\n").unwrap();
    let data = dir.path().join("data");
    let (secret, token, data) = (
        secret.display().to_string(),
        token.display().to_string(),
        data.display().to_string(),
    );
    let mut env = KUBELET_SERVICE_LINKS.to_vec();
    env.extend([
        ("HEDGEHOG_SIDECAR_URL", "http://hedgehog-sidecar:8080"),
        ("HEDGEHOG_SIDECAR_WEBHOOK_SECRET_FILE", secret.as_str()),
        ("HEDGEHOG_SIDECAR_API_TOKEN_FILE", token.as_str()),
        ("HEDGEHOG_SIDECAR_DATA_DIR", data.as_str()),
        ("HEDGEHOG_SIDECAR_RECONCILE__ENABLED", "false"),
    ]);

    let check = run(&["config", "check"], &env);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "config check: {stdout}{:?}", check);
    assert!(
        stdout.contains("HEDGEHOG_SIDECAR_PORT_8080_TCP_ADDR")
            && stdout.contains("HEDGEHOG_SIDECAR_URL"),
        "config check names the variables it leaves alone: {stdout}"
    );

    let log = dir.path().join("serve.log");
    let served = Served::start(&env, &log);
    let ready = run(&["health", "--ready", "--url", &served.url()], &[]);
    assert!(ready.status.success(), "{ready:?}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("not settings") && log.contains("HEDGEHOG_SIDECAR_SERVICE_HOST"),
        "serve names the variables it ignores: {log}"
    );
    assert!(!log.contains("10.0.0.1"), "values are not logged: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a log that is not a terminal: {log}"
    );
}

#[test]
fn health_fails_when_nothing_answers_and_config_check_fails_on_a_missing_secret() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let health = run(&["health", "--url", &closed, "--timeout-secs", "1"], &[]);
    assert_eq!(health.status.code(), Some(1), "{health:?}");
    assert!(
        String::from_utf8_lossy(&health.stderr).contains("no answer"),
        "{health:?}"
    );

    let check = run(
        &["config", "check"],
        &[(
            "HEDGEHOG_SIDECAR_WEBHOOK_SECRET_FILE",
            "/nonexistent/webhook-secret",
        )],
    );
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("error: webhook.secret_file"),
        "{check:?}"
    );
}
