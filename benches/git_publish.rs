//! What a publish to the Git target costs for a 1,000-object fabric, against a local bare
//! repository (so the numbers are the sidecar's and libgit2's work, not a network's):
//! a no-op publish (fetch, read the folder, plan: no commit) and a publish that changes one
//! object (plus commit and push).
//!
//! `cargo bench --bench git_publish`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hedgehog_sidecar::config::GitConfig;
use hedgehog_sidecar::model::{Kind, Manifest, ManifestMeta};
use hedgehog_sidecar::targets::git::GitTarget;
use hedgehog_sidecar::targets::{Cause, Target};

const OBJECTS: usize = 1000;

fn object(kind: Kind, name: String, spec: serde_json::Value) -> Manifest {
    Manifest {
        api_version: kind.api_version(),
        kind: kind.as_str().into(),
        metadata: ManifestMeta {
            name,
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec,
    }
}

/// A fabric of switches, servers and their connections, `OBJECTS` in all.
fn fabric(role_of_first: &str) -> Vec<Manifest> {
    let per_kind = OBJECTS / 3;
    let mut objects = Vec::with_capacity(OBJECTS);
    for i in 0..per_kind {
        let role = if i == 0 { role_of_first } else { "server-leaf" };
        objects.push(object(
            Kind::Switch,
            format!("leaf-{i:04}"),
            serde_json::json!({ "role": role, "asn": 65100 + i, "description": "rack leaf" }),
        ));
        objects.push(object(
            Kind::Server,
            format!("server-{i:04}"),
            serde_json::json!({ "description": "compute node" }),
        ));
        objects.push(object(
            Kind::Connection,
            format!("server-{i:04}--unbundled--leaf-{i:04}"),
            serde_json::json!({ "unbundled": { "link": {
                "server": { "port": format!("server-{i:04}/enp2s1") },
                "switch": { "port": format!("leaf-{i:04}/E1/1") },
            } } }),
        ));
    }
    objects.push(object(Kind::VPC, "vpc-1".into(), serde_json::json!({})));
    objects
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let remote = dir.path().join("remote.git");
    git2::Repository::init_bare(&remote).expect("a bare repository");
    let config = GitConfig {
        url: format!("file://{}", remote.display()),
        branch: "main".into(),
        path: "fabrics/bench".into(),
        author_name: "bench".into(),
        author_email: "bench@example.test".into(),
        username: None,
        ssh_key_file: None,
        token_file: None,
        token_env: None,
        batch_window_ms: 0,
        max_push_attempts: 3,
        workdir: None,
        lock_lease_ms: 60_000,
        lock_wait_ms: 30_000,
    };
    let target =
        GitTarget::new("bench", &config, &dir.path().join("data"), None).expect("a target");
    let cause = Cause {
        reason: "bench".into(),
        ..Default::default()
    };
    let spine = fabric("spine");
    let leaf = fabric("border-leaf");
    runtime
        .block_on(target.publish(&spine, &cause, false))
        .expect("the first publish");

    let mut group = c.benchmark_group("git_publish_1000_objects");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("no_change", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(target.publish(&spine, &cause, false))
                .expect("publish");
            assert!(report.commit.is_none());
            black_box(report)
        })
    });
    let mut flip = false;
    group.bench_function("one_change_commit_and_push", |b| {
        b.iter(|| {
            flip = !flip;
            let desired = if flip { &leaf } else { &spine };
            let report = runtime
                .block_on(target.publish(desired, &cause, false))
                .expect("publish");
            assert!(report.commit.is_some());
            black_box(report)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
