//! The binary's own behaviour around intake: configuration mistakes stop it with a clear
//! message, and its output survives a closed pipe.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Backend, Storage};

/// Runs `hedgehog-sidecar args` with `env`, killing it after `limit`; (exit code, stderr).
fn run_bounded(args: &[&str], env: &[(String, String)], limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    (status, stderr)
}

fn serve_env(storage: &Storage) -> Vec<(String, String)> {
    let mut env = storage.cli_env();
    env.push(("HEDGEHOG_SIDECAR_LISTEN".into(), "127.0.0.1:0".into()));
    env.push(("HEDGEHOG_SIDECAR_WEBHOOK_SECRET".into(), "s3cret".into()));
    env
}

#[test]
fn serve_refuses_a_blank_api_token_from_any_source() {
    let storage = Storage::new(Backend::Embedded);
    let blank_file = storage.dir.path().join("blank-token");
    std::fs::write(&blank_file, "\n").unwrap();
    let cases = [
        ("HEDGEHOG_SIDECAR_API__TOKEN", String::new(), "api.token"),
        ("HEDGEHOG_SIDECAR_API__TOKEN", "  ".to_owned(), "api.token"),
        ("HEDGEHOG_SIDECAR_API_TOKEN", String::new(), "API_TOKEN"),
        (
            "HEDGEHOG_SIDECAR_API_TOKEN_FILE",
            blank_file.display().to_string(),
            "api.token_file",
        ),
        (
            "HEDGEHOG_SIDECAR_WEBHOOK_SECRET",
            " ".to_owned(),
            "WEBHOOK_SECRET",
        ),
    ];
    for (var, value, key) in cases {
        let mut env = serve_env(&storage);
        env.retain(|(name, _)| name != var);
        env.push((var.to_owned(), value));
        let (code, stderr) = run_bounded(&["serve"], &env, Duration::from_secs(10));
        assert_eq!(code, Some(1), "{var}: serve must stop at once: {stderr}");
        assert!(
            stderr.contains(key),
            "{var}: the error names {key}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn start_up_errors_say_their_cause_once() {
    let storage = Storage::new(Backend::Embedded);
    let file = storage.dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let mut env = serve_env(&storage);
    env.retain(|(name, _)| name != "HEDGEHOG_SIDECAR_DATA_DIR");
    env.push((
        "HEDGEHOG_SIDECAR_DATA_DIR".into(),
        file.join("queue").display().to_string(),
    ));
    let (code, stderr) = run_bounded(&["serve"], &env, Duration::from_secs(10));
    assert_eq!(code, Some(1), "{stderr}");
    let message = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(message.contains("cannot create"), "{stderr}");
    for part in ["cannot create", "queue back-end unavailable"] {
        assert_eq!(
            message.matches(part).count(),
            1,
            "`{part}` repeated: {message}"
        );
    }
}

#[test]
fn jobs_list_into_a_closed_pipe_does_not_panic() {
    let storage = Storage::new(Backend::Embedded);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hedgehog-sidecar"))
        .args(["jobs", "--offline", "list", "--state", "queued"])
        .env_remove("HEDGEHOG_SIDECAR_CONFIG")
        .env_remove("HEDGEHOG_SIDECAR_REDIS_URL")
        .envs(storage.cli_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // As `| head -0` does: the reader is gone before anything is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{stderr}");
}
