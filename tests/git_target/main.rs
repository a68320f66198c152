//! The Git target against real repositories: a local bare repository is the remote (as Argo CD
//! or Flux would read it), a second writer commits to it directly, and a tiny HTTP server that
//! answers 401 stands in for a Git host refusing a token.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use git2::{Oid, Repository, Signature};
use hedgehog_sidecar::config::{FabricConfig, GitConfig, Settings};
use hedgehog_sidecar::model::{Kind, Manifest, ManifestMeta};
use hedgehog_sidecar::targets::git::{GitError, GitTarget, LocalLock, RepoLease, RepoLock};
use hedgehog_sidecar::targets::{Cause, PublishReport, Target, TargetError};
use tempfile::TempDir;
use testkit::logs::{capture_logs, captured_logs};

const BRANCH: &str = "main";
const FOLDER: &str = "fabrics/lab";

// ---------------------------------------------------------------- fixtures

struct Fixture {
    _dir: TempDir,
    remote: PathBuf,
    data: PathBuf,
}

impl Fixture {
    /// An empty bare repository (no branch yet) as the remote.
    fn new() -> Self {
        capture_logs();
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().join("remote.git");
        Repository::init_bare(&remote).unwrap();
        let data = dir.path().join("data");
        Self {
            _dir: dir,
            remote,
            data,
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.remote.display())
    }

    fn config(&self, window_ms: u64) -> GitConfig {
        git_config(&self.url(), window_ms)
    }

    fn target(&self, window_ms: u64) -> GitTarget {
        GitTarget::new("lab", &self.config(window_ms), &self.data, None).unwrap()
    }

    fn repo(&self) -> Repository {
        Repository::open_bare(&self.remote).unwrap()
    }

    fn tip(&self) -> Option<Oid> {
        self.repo()
            .refname_to_id(&format!("refs/heads/{BRANCH}"))
            .ok()
    }

    /// Every file on the branch tip: path → content.
    fn files(&self) -> BTreeMap<String, String> {
        let repo = self.repo();
        let mut files = BTreeMap::new();
        let Some(tip) = self.tip() else { return files };
        let tree = repo.find_commit(tip).unwrap().tree().unwrap();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                let blob = repo.find_blob(entry.id()).unwrap();
                files.insert(
                    format!("{dir}{}", entry.name().unwrap()),
                    String::from_utf8(blob.content().to_vec()).unwrap(),
                );
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        files
    }

    fn commit_count(&self) -> usize {
        let Some(tip) = self.tip() else { return 0 };
        let repo = self.repo();
        let mut walk = repo.revwalk().unwrap();
        walk.push(tip).unwrap();
        walk.count()
    }

    fn message(&self) -> String {
        let repo = self.repo();
        let commit = repo.find_commit(self.tip().unwrap()).unwrap();
        commit.message().unwrap().to_owned()
    }

    /// A target (no batching window) that has published [`fabric`] once.
    async fn published(&self) -> GitTarget {
        let target = self.target(0);
        publish_as_alice(&target, &fabric(), "req-1").await;
        target
    }

    /// Someone else commits `files` straight onto the remote branch (as their push would).
    fn someone_else_commits(&self, files: &[(&str, &str)]) -> Oid {
        commit_files(&self.remote, files)
    }
}

fn git_config(url: &str, window_ms: u64) -> GitConfig {
    GitConfig {
        url: url.to_owned(),
        branch: BRANCH.into(),
        path: FOLDER.into(),
        author_name: "hedgehog-sidecar".into(),
        author_email: "sidecar@example.test".into(),
        username: None,
        ssh_key_file: None,
        token_file: None,
        token_env: None,
        batch_window_ms: window_ms,
        max_push_attempts: 3,
        workdir: None,
        lock_lease_ms: 10_000,
        lock_wait_ms: 5_000,
    }
}

fn commit_files(remote: &Path, files: &[(&str, &str)]) -> Oid {
    let repo = Repository::open_bare(remote).unwrap();
    let reference = format!("refs/heads/{BRANCH}");
    let parent = repo
        .refname_to_id(&reference)
        .ok()
        .map(|id| repo.find_commit(id).unwrap());
    let base = match &parent {
        Some(commit) => commit.tree().unwrap(),
        None => repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap(),
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes()).unwrap();
        update.upsert(*path, blob, git2::FileMode::Blob);
    }
    let tree = repo
        .find_tree(update.create_updated(&repo, &base).unwrap())
        .unwrap();
    let someone = Signature::now("Someone Else", "someone@example.test").unwrap();
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(
        Some(&reference),
        &someone,
        &someone,
        "their change",
        &tree,
        &parents,
    )
    .unwrap()
}

fn object(kind: Kind, name: &str, spec: serde_json::Value) -> Manifest {
    Manifest {
        api_version: kind.api_version(),
        kind: kind.as_str().into(),
        metadata: ManifestMeta {
            name: name.into(),
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec,
    }
}

fn switch(name: &str, role: &str) -> Manifest {
    object(Kind::Switch, name, serde_json::json!({ "role": role }))
}

fn fabric() -> Vec<Manifest> {
    vec![
        switch("spine-1", "spine"),
        switch("leaf-1", "server-leaf"),
        object(
            Kind::VPC,
            "vpc-1",
            serde_json::json!({ "subnets": { "default": { "subnet": "10.0.1.0/24" } } }),
        ),
    ]
}

fn fabric_with_leaf_2() -> Vec<Manifest> {
    let mut desired = fabric();
    desired.push(switch("leaf-2", "server-leaf"));
    desired
}

/// The fabric with switch `name` given role `role`.
fn with_role(name: &str, role: &str) -> Vec<Manifest> {
    let mut changed = fabric();
    for manifest in changed.iter_mut().filter(|m| m.metadata.name == name) {
        *manifest = switch(name, role);
    }
    changed
}

/// Publishes `manifests` as alice's request `request`, without a dry run.
async fn publish_as_alice(
    target: &GitTarget,
    manifests: &[Manifest],
    request: &str,
) -> PublishReport {
    target
        .publish(manifests, &cause("alice", request), false)
        .await
        .unwrap()
}

/// Publishes the fabric with switch `name` given `role`, as `user`'s second request; the report
/// must name that switch as the one update.
async fn publish_new_role(
    target: &GitTarget,
    name: &str,
    role: &str,
    user: &str,
    dry_run: bool,
) -> PublishReport {
    let report = target
        .publish(&with_role(name, role), &cause(user, "req-2"), dry_run)
        .await
        .unwrap();
    assert_eq!(report.updated.len(), 1, "{report:?}");
    assert_eq!(report.updated[0].name, name);
    report
}

/// Publishes `manifests` as bob's request `request`; the publish must fail with an error the
/// queue retries, which is returned.
async fn retryable_failure(
    target: &GitTarget,
    manifests: &[Manifest],
    request: &str,
) -> TargetError {
    let error = target
        .publish(manifests, &cause("bob", request), false)
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    error
}

fn cause(user: &str, request: &str) -> Cause {
    Cause {
        request_id: Some(request.into()),
        user: Some(user.into()),
        reason: format!("webhook change by {user}"),
        credits: vec![],
    }
}

fn path(relative: &str) -> String {
    format!("{FOLDER}/{relative}")
}

// ---------------------------------------------------------------- publish

#[tokio::test]
async fn first_commit_into_an_empty_repository_writes_one_file_per_object_and_a_kustomization() {
    let fx = Fixture::new();
    assert_eq!(fx.tip(), None, "the remote starts without a branch");
    let target = fx.target(0);

    let report = publish_as_alice(&target, &fabric(), "req-1").await;

    assert_eq!(report.created.len(), 3);
    let commit = report.commit.clone().expect("a commit was made");
    assert_eq!(fx.tip().unwrap().to_string(), commit);
    let files = fx.files();
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        vec![
            path("kustomization.yaml"),
            path("switches/leaf-1.yaml"),
            path("switches/spine-1.yaml"),
            path("vpcs/vpc-1.yaml"),
        ]
    );
    assert_eq!(files[&path("switches/leaf-1.yaml")], fabric()[1].to_yaml());
    let kustomization = &files[&path("kustomization.yaml")];
    assert!(
        kustomization.contains(
            "resources:\n- switches/leaf-1.yaml\n- switches/spine-1.yaml\n- vpcs/vpc-1.yaml\n"
        ),
        "{kustomization}"
    );
    let message = fx.message();
    assert!(message.starts_with("lab: 3 created, 0 updated, 0 deleted"));
    assert!(message.contains("user alice, request req-1"), "{message}");
    let diff = report.diff.unwrap();
    assert!(
        diff.contains("+++ b/fabrics/lab/switches/leaf-1.yaml"),
        "{diff}"
    );
    assert!(diff.contains("+  role: server-leaf"), "{diff}");
}

#[tokio::test]
async fn an_update_rewrites_only_the_changed_object() {
    let fx = Fixture::new();
    let target = fx.published().await;
    let before = fx.files();
    let first = fx.tip().unwrap();

    let report = publish_new_role(&target, "leaf-1", "border-leaf", "bob", false).await;

    assert!(report.created.is_empty() && report.deleted.is_empty());
    assert_eq!(report.unchanged, 2);
    let after = fx.files();
    assert!(after[&path("switches/leaf-1.yaml")].contains("role: border-leaf"));
    for file in [
        "switches/spine-1.yaml",
        "vpcs/vpc-1.yaml",
        "kustomization.yaml",
    ] {
        assert_eq!(before[&path(file)], after[&path(file)], "{file} unchanged");
    }
    let repo = fx.repo();
    let tip = repo.find_commit(fx.tip().unwrap()).unwrap();
    assert_eq!(tip.parent_id(0).unwrap(), first);
    assert!(fx.message().contains("Updated:\n  Switch/leaf-1\n"));
    let diff = report.diff.unwrap();
    assert!(
        diff.contains("-  role: server-leaf") && diff.contains("+  role: border-leaf"),
        "{diff}"
    );
}

#[tokio::test]
async fn publishing_the_same_objects_again_makes_no_commit() {
    let fx = Fixture::new();
    let target = fx.published().await;
    let tip = fx.tip();

    let report = publish_as_alice(&target, &fabric(), "req-2").await;

    assert!(!report.changed());
    assert_eq!(report.commit, None);
    assert_eq!(report.unchanged, 3);
    assert_eq!(fx.tip(), tip, "the branch did not move");
    assert_eq!(fx.commit_count(), 1);
}

#[tokio::test]
async fn objects_no_longer_desired_are_removed() {
    let fx = Fixture::new();
    let target = fx.published().await;

    // The VPC is deleted in NetBox: the next desired set no longer has it.
    let remaining: Vec<Manifest> = fabric().into_iter().take(2).collect();
    let report = publish_as_alice(&target, &remaining, "req-2").await;

    assert_eq!(report.deleted.len(), 1);
    assert_eq!(report.deleted[0].name, "vpc-1");
    let files = fx.files();
    assert!(!files.contains_key(&path("vpcs/vpc-1.yaml")));
    assert!(!files[&path("kustomization.yaml")].contains("vpc-1"));
    // No empty folder is left behind either.
    let repo = fx.repo();
    let tree = repo.find_commit(fx.tip().unwrap()).unwrap().tree().unwrap();
    assert!(tree.get_path(Path::new(&path("vpcs"))).is_err());
    assert!(fx.message().contains("Deleted:\n  VPC/vpc-1\n"));
}

#[tokio::test]
async fn a_hundred_changes_in_one_window_make_one_commit() {
    let fx = Fixture::new();
    let target = fx.target(400);

    // Each NetBox change re-renders the whole fabric: change i sees i servers.
    let calls = (1..=100).map(|i| {
        let desired: Vec<Manifest> = (1..=i)
            .map(|n| object(Kind::Server, &format!("server-{n}"), serde_json::json!({})))
            .collect();
        let target = target.clone();
        async move {
            target
                .publish(
                    &desired,
                    &cause(&format!("user-{i}"), &format!("req-{i}")),
                    false,
                )
                .await
        }
    });
    let results = futures::future::join_all(calls).await;

    let commits: std::collections::BTreeSet<String> = results
        .into_iter()
        .map(|r| r.unwrap().commit.expect("every caller gets the commit"))
        .collect();
    assert_eq!(commits.len(), 1, "all 100 callers share one commit");
    assert_eq!(fx.commit_count(), 1);
    assert_eq!(fx.files().len(), 101, "100 servers and the kustomization");
    let message = fx.message();
    assert!(message.starts_with("lab: 100 created"), "{message}");
    for i in [1, 50, 100] {
        assert!(
            message.contains(&format!("NetBox-User: user-{i}\n")),
            "{message}"
        );
        assert!(message.contains(&format!("NetBox-Request-Id: req-{i}\n")));
    }
}

#[tokio::test]
async fn a_concurrent_commit_by_someone_else_is_kept_and_the_push_still_lands() {
    let fx = Fixture::new();
    let target = fx.published().await;

    // Between our fetch and our push, someone else pushes to the same branch.
    let remote = fx.remote.clone();
    let theirs = Arc::new(Mutex::new(None));
    let record = Arc::clone(&theirs);
    target.set_before_push(Some(Arc::new(move |attempt| {
        if attempt == 1 {
            *record.lock().unwrap() = Some(commit_files(
                &remote,
                &[
                    ("README.md", "their readme\n"),
                    ("fabrics/lab/NOTES.md", "notes\n"),
                ],
            ));
        }
    })));
    let changed = fabric_with_leaf_2();
    let report = target
        .publish(&changed, &cause("bob", "req-2"), false)
        .await
        .unwrap();

    let theirs = theirs.lock().unwrap().expect("their commit was made");
    let ours = Oid::from_str(&report.commit.unwrap()).unwrap();
    assert_eq!(fx.tip(), Some(ours), "our push landed");
    let repo = fx.repo();
    assert_eq!(
        repo.find_commit(ours).unwrap().parent_id(0).unwrap(),
        theirs,
        "re-applied on top of their commit"
    );
    let files = fx.files();
    assert_eq!(files["README.md"], "their readme\n");
    assert_eq!(files[&path("NOTES.md")], "notes\n");
    assert!(files.contains_key(&path("switches/leaf-2.yaml")));
}

#[tokio::test]
async fn a_branch_that_keeps_moving_is_retryable_and_nothing_is_lost() {
    let fx = Fixture::new();
    let target = fx.published().await;

    let remote = fx.remote.clone();
    let attempts = Arc::new(Mutex::new(0u32));
    let seen = Arc::clone(&attempts);
    target.set_before_push(Some(Arc::new(move |attempt| {
        *seen.lock().unwrap() = attempt;
        commit_files(&remote, &[(&format!("other/{attempt}.txt"), "x\n")]);
    })));
    let changed = fabric_with_leaf_2();
    let error = retryable_failure(&target, &changed, "req-2").await;
    assert!(
        matches!(error, TargetError::Git(GitError::Rejected(_))),
        "{error:?}"
    );
    assert_eq!(*attempts.lock().unwrap(), 3, "bounded by max_push_attempts");
    assert!(!fx.files().contains_key(&path("switches/leaf-2.yaml")));

    // The queue retries the job later, by when the branch has calmed down.
    target.set_before_push(None);
    let report = target
        .publish(&changed, &cause("bob", "req-2"), false)
        .await
        .unwrap();
    assert!(report.commit.is_some());
    assert!(fx.files().contains_key(&path("switches/leaf-2.yaml")));
    assert_eq!(fx.files()["other/3.txt"], "x\n", "their commits are kept");
}

#[tokio::test]
async fn an_unreachable_remote_is_retryable_and_the_next_publish_pushes_the_change() {
    let fx = Fixture::new();
    let target = fx.published().await;

    let away = fx.remote.with_extension("away");
    std::fs::rename(&fx.remote, &away).unwrap();
    let changed = fabric_with_leaf_2();
    retryable_failure(&target, &changed, "req-lost").await;
    assert!(target.health_check().await.unwrap_err().is_retryable());

    std::fs::rename(&away, &fx.remote).unwrap();
    target.health_check().await.unwrap();
    // A later publish (here: a reconcile with the same desired set) pushes the change, and its
    // message still names the request whose publish failed.
    let report = target
        .publish(
            &changed,
            &Cause {
                reason: "reconcile".into(),
                ..Default::default()
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.created.len(), 1);
    assert!(fx.files().contains_key(&path("switches/leaf-2.yaml")));
    let message = fx.message();
    assert!(message.contains("NetBox-Request-Id: req-lost"), "{message}");
    assert!(message.contains("reconcile"), "{message}");
}

#[tokio::test]
async fn files_outside_the_folder_and_unmanaged_files_inside_it_are_never_touched() {
    let fx = Fixture::new();
    let outside = [
        ("README.md", "hello\n"),
        ("fabrics/other/switches/x.yaml", "kind: Switch\n"),
        ("fabrics/lab-2/kustomization.yaml", "resources: []\n"),
        ("fabrics/lab/README.md", "managed by the sidecar\n"),
        ("fabrics/lab/switches/notes.txt", "not yaml\n"),
    ];
    fx.someone_else_commits(&outside);
    let target = fx.target(0);

    publish_as_alice(&target, &fabric(), "req-1").await;
    publish_as_alice(&target, &[], "req-2").await;

    let files = fx.files();
    for (file, content) in outside {
        assert_eq!(files.get(file).map(String::as_str), Some(content), "{file}");
    }
    assert_eq!(
        files.len(),
        outside.len() + 1,
        "only the (now empty) kustomization was added: {files:?}"
    );
    assert!(files[&path("kustomization.yaml")].contains("resources: []"));
}

#[tokio::test]
async fn a_dry_run_shows_the_diff_and_commits_nothing() {
    let fx = Fixture::new();
    let target = fx.published().await;
    let tip = fx.tip();

    let report = publish_new_role(&target, "spine-1", "border-leaf", "alice", true).await;

    assert_eq!(report.commit, None);
    assert!(report.diff.unwrap().contains("+  role: border-leaf"));
    assert_eq!(fx.tip(), tip);
}

#[tokio::test]
async fn actual_reads_the_objects_on_the_branch_tip() {
    let fx = Fixture::new();
    let target = fx.target(0);
    assert!(
        target.actual().await.unwrap().is_empty(),
        "empty repository"
    );
    publish_as_alice(&target, &fabric(), "req-1").await;

    let mut actual = target.actual().await.unwrap();
    actual.sort_by_key(|v| v["metadata"]["name"].as_str().unwrap_or("").to_owned());
    let mut expected: Vec<serde_json::Value> = fabric().iter().map(Manifest::to_value).collect();
    expected.sort_by_key(|v| v["metadata"]["name"].as_str().unwrap_or("").to_owned());
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn actual_names_a_file_in_the_repository_that_is_not_yaml() {
    let fx = Fixture::new();
    let target = fx.published().await;
    fx.someone_else_commits(&[(&path("switches/broken.yaml"), "role: [unclosed\n")]);
    let error = target.actual().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("fabrics/lab/switches/broken.yaml"),
        "{error}"
    );
}

#[tokio::test]
async fn a_broken_working_clone_is_rebuilt() {
    let fx = Fixture::new();
    let target = fx.published().await;
    std::fs::remove_dir_all(target.workdir().join("objects")).unwrap();
    let report = target
        .publish(&fabric_with_leaf_2(), &cause("bob", "req-2"), false)
        .await
        .unwrap();
    assert_eq!(report.created.len(), 1, "planned against the remote tip");
    assert!(fx.files().contains_key(&path("switches/leaf-2.yaml")));
}

#[tokio::test]
async fn objects_with_unusable_names_are_reported_and_the_rest_is_published() {
    let fx = Fixture::new();
    let target = fx.target(0);
    let mut desired = fabric();
    desired.push(switch("../escape", "spine"));
    let report = publish_as_alice(&target, &desired, "req-1").await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.created.len(), 3);
    assert!(fx.files().keys().all(|f| !f.contains("escape")));
}

// ---------------------------------------------------------------- credentials

/// A Git host that refuses every request with 401 and records what it was sent.
fn refusing_http_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "http://127.0.0.1:{}/fabric.git",
        listener.local_addr().unwrap().port()
    );
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&request).into_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, requests)
}

#[tokio::test]
async fn refused_credentials_give_a_clear_error_without_the_token() {
    let fx = Fixture::new();
    let (url, requests) = refusing_http_server();
    let token = format!("tok-{}", uuid::Uuid::new_v4());
    let token_file = fx.data.with_file_name("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let mut config = git_config(&url, 0);
    config.token_file = Some(token_file);
    let target = GitTarget::new("lab", &config, &fx.data, None).unwrap();

    let error = target
        .publish(&fabric(), &cause("alice", "req-1"), false)
        .await
        .unwrap_err();
    let health = target.health_check().await.unwrap_err();

    for error in [&error, &health] {
        assert!(error.is_unauthorized(), "{error:?}");
        assert!(!error.is_retryable());
        let text = format!("{error} {error:?}");
        assert!(text.contains("refused the token"), "{text}");
        assert!(!text.contains(&token), "the token leaked: {text}");
    }
    assert!(
        requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.to_ascii_lowercase().contains("authorization: basic")),
        "the token was offered to the server"
    );
    let logs = captured_logs();
    assert!(!logs.contains(&token), "the token reached a log line");
}

/// What the health check says with `config`, which must be a configuration error.
async fn configuration_error(fx: &Fixture, config: &GitConfig) -> TargetError {
    let target = GitTarget::new("lab", config, &fx.data, None).unwrap();
    let error = target.health_check().await.unwrap_err();
    assert!(error.is_misconfigured(), "{error:?}");
    error
}

#[tokio::test]
async fn a_missing_token_variable_is_a_configuration_error_that_names_it() {
    let fx = Fixture::new();
    let mut config = fx.config(0);
    config.token_env = Some(format!("HHS_TEST_UNSET_{}", uuid::Uuid::new_v4().simple()));
    let error = configuration_error(&fx, &config).await;
    assert!(error.to_string().contains("HHS_TEST_UNSET_"), "{error}");
}

#[tokio::test]
async fn a_missing_ssh_key_file_is_a_configuration_error_that_names_it() {
    let fx = Fixture::new();
    let mut config = git_config("ssh://git@127.0.0.1:1/fabric.git", 0);
    config.ssh_key_file = Some(fx.data.with_file_name("no-such-key"));
    let error = configuration_error(&fx, &config).await;
    assert!(error.to_string().contains("git.ssh_key_file"), "{error}");
}

// ---------------------------------------------------------------- locks

#[tokio::test]
async fn the_local_lock_admits_one_holder_at_a_time() {
    let key = format!("test-{}", uuid::Uuid::new_v4());
    let first = LocalLock.acquire(&key).await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(100), LocalLock.acquire(&key)).await;
    assert!(waiting.is_err(), "the second holder waits");
    drop(first);
    let _second = tokio::time::timeout(Duration::from_secs(1), LocalLock.acquire(&key))
        .await
        .expect("free once released")
        .unwrap();
}

fn redis_pool() -> deadpool_redis::Pool {
    deadpool_redis::Config::from_url(testkit::redis::redis_url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap()
}

/// Deletes the Redis key of `lease`'s lock on `repo`: as if it had expired, or to clean up.
async fn delete_lease_key(pool: &deadpool_redis::Pool, lease: &RepoLease) {
    let mut conn = pool.get().await.unwrap();
    let _: () = deadpool_redis::redis::cmd("DEL")
        .arg(lease.redis_key("repo"))
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn the_redis_lease_admits_one_replica_and_releases_only_its_own() {
    let pool = redis_pool();
    let prefix = format!("hhs-test-{}", uuid::Uuid::new_v4().simple());
    let replica_a = RepoLease::new(
        pool.clone(),
        &prefix,
        Duration::from_millis(300),
        Duration::from_millis(100),
    );
    let replica_b = RepoLease::new(
        pool.clone(),
        &prefix,
        Duration::from_secs(5),
        Duration::from_millis(100),
    );

    let held = replica_a.acquire("repo").await.unwrap();
    let refused = replica_b.acquire("repo").await.err().expect("A holds it");
    assert!(
        TargetError::from(refused.clone()).is_retryable(),
        "{refused}"
    );

    // A keeps renewing its lease past the 300 ms it was taken for.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        replica_b.acquire("repo").await.is_err(),
        "A renewed its lease"
    );

    // A loses its lease (say it stalled past expiry) and B takes over: A neither renews nor
    // releases B's lease.
    delete_lease_key(&pool, &replica_a).await;
    let b_holds = replica_b.acquire("repo").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        replica_a.acquire("repo").await.is_err(),
        "B still holds the lease after A's release"
    );
    drop(b_holds);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _a_again = replica_a.acquire("repo").await.unwrap();

    delete_lease_key(&pool, &replica_a).await;
}

#[tokio::test]
#[ignore = "needs Redis"]
async fn two_replicas_with_one_lease_both_land_their_commits() {
    let fx = Fixture::new();
    let pool = redis_pool();
    let prefix = format!("hhs-test-{}", uuid::Uuid::new_v4().simple());
    let lease = |_: ()| -> Option<Arc<dyn RepoLock>> {
        Some(Arc::new(RepoLease::new(
            pool.clone(),
            &prefix,
            Duration::from_secs(10),
            Duration::from_secs(10),
        )))
    };
    let dir = tempfile::tempdir().unwrap();
    let a = GitTarget::new("lab", &fx.config(0), &dir.path().join("a"), lease(())).unwrap();
    let b = GitTarget::new("lab", &fx.config(0), &dir.path().join("b"), lease(())).unwrap();
    let with_b = fabric_with_leaf_2();
    let (desired_a, cause_a, cause_b) = (fabric(), cause("alice", "req-a"), cause("bob", "req-b"));
    let (ra, rb) = tokio::join!(
        a.publish(&desired_a, &cause_a, false),
        b.publish(&with_b, &cause_b, false),
    );
    // Whichever went second changed something on top of the first: two commits, both pushed.
    assert!(ra.unwrap().commit.is_some());
    assert!(rb.unwrap().commit.is_some());
    assert_eq!(fx.commit_count(), 2);
    assert!(fx.files().contains_key(&path("switches/spine-1.yaml")));
}

// ---------------------------------------------------------------- command line

#[tokio::test]
async fn the_commit_command_publishes_a_yaml_file_of_rendered_objects() {
    use hedgehog_sidecar::cli::commit::{CommitArgs, commit_with};

    let fx = Fixture::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/hedgehog/samples/docs_build-wiring_sample-wiring-diagram.yaml");
    let mut settings = Settings::default();
    settings.queue.data_dir = fx.data.clone();
    let mut fabric: FabricConfig = FabricConfig {
        name: "lab".into(),
        mode: Default::default(),
        validation: Default::default(),
        kubeconfig: None,
        fabric_config_file: None,
        cluster: Default::default(),
        git: Some(fx.config(60_000)),
        mapping: Default::default(),
        allocate: false,
        publish_debounce_ms: hedgehog_sidecar::config::DEFAULT_PUBLISH_DEBOUNCE_MS,
        keep_snapshot: true,
    };
    fabric.mode = hedgehog_sidecar::config::FabricMode::Commit;
    settings.fabrics.push(fabric);
    let args = |dry_run| CommitArgs {
        fabric: "lab".into(),
        dry_run,
        from_yaml: Some(sample.clone()),
        output: hedgehog_sidecar::cli::output::OutputFormat::Text,
    };

    let dry = commit_with(&settings, &args(true)).await.unwrap();
    assert!(dry.created.len() > 5, "{dry:?}");
    assert_eq!(fx.tip(), None, "a dry run pushes nothing");

    // The configured window is a minute: the command must not wait for it.
    let real = tokio::time::timeout(
        Duration::from_secs(30),
        commit_with(&settings, &args(false)),
    )
    .await
    .expect("the command does not wait for a batching window")
    .unwrap();
    assert_eq!(real.created, dry.created);
    assert_eq!(fx.tip().unwrap().to_string(), real.commit.unwrap());
    assert!(fx.files().contains_key(&path("switches/leaf-01.yaml")));
    assert!(fx.message().contains("cli commit"));
}
