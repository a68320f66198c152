//! A sidecar serving fabric `lab`: one drifted switch, one in sync, one held back and one the
//! pass found missing and its self-heal applied, a dead
//! letter, a publish in the recent publishes, and the switch published from NetBox device 12.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::api::{AppOptions, FabricsApi, RunningApp, spawn_app};
use hedgehog_sidecar::config::{FabricConfig, Settings};
use hedgehog_sidecar::intake::sign;
use hedgehog_sidecar::lease::LocalLease;
use hedgehog_sidecar::model::{FieldDiff, Kind, ObjectKey};
use hedgehog_sidecar::pipeline::RecentPublishes;
use hedgehog_sidecar::queue::JobQueue;
use hedgehog_sidecar::reconcile::scheduler::{Cadence, FabricRunner, Scheduler};
use hedgehog_sidecar::reconcile::{
    FabricReport, Health, ObjectReadError, ObjectReport, ObjectState, ObjectView, Problem,
    ReconcileOptions, SourceRef, SwitchHealth, SyncStatus,
};
use hedgehog_sidecar::state::{MemoryState, SharedState};
use hedgehog_sidecar::targets::{Cause, PublishReport};
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "ui-operator-token";
const SECRET: &str = "webhook-secret";
pub const DEAD_ERROR: &str = "fabric lab: the cluster refused the credentials";

pub fn key(kind: Kind, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        name: name.into(),
    }
}

/// Finds `leaf-01` drifted in its ASN, `spine-01` in sync and `vpc-broken` held back.
struct DriftingFabric;

#[async_trait]
impl FabricRunner for DriftingFabric {
    async fn reconcile(&self, fabric: &FabricConfig, options: ReconcileOptions) -> FabricReport {
        let mut report = FabricReport::new(&fabric.name, "apply", options.dry_run);
        report.sync = SyncStatus::OutOfSync;
        report.health = Health::Progressing;
        let object = |kind, name, state, diffs| ObjectReport {
            key: key(kind, name),
            state,
            diffs,
            managed: true,
        };
        let asn = FieldDiff {
            path: "spec.asn".into(),
            desired: json!(65101),
            actual: json!(65199),
        };
        report.objects = vec![
            object(Kind::Switch, "leaf-01", ObjectState::Drifted, vec![asn]),
            object(Kind::Switch, "spine-01", ObjectState::InSync, vec![]),
            object(Kind::VPC, "vpc-broken", ObjectState::HeldBack, vec![]),
            object(Kind::Switch, "leaf-02", ObjectState::Missing, vec![]),
        ];
        report.healed = Some(PublishReport {
            created: vec![key(Kind::Switch, "leaf-02")],
            ..PublishReport::default()
        });
        report.switches = vec![SwitchHealth {
            switch: "leaf-01".into(),
            health: Health::Progressing,
            desired_generation: Some(4),
            applied_generation: Some(3),
            last_heartbeat: None,
            nos_version: Some("4.5.0".into()),
            message: "applying generation 4".into(),
        }];
        report.problems = vec![Problem {
            objects: vec![source("ipam.vrf", 40, "vpc-broken")],
            message: "VRF vpc-broken: subnet 10.0.0.0/33 is not a prefix".into(),
        }];
        report
    }

    async fn object(
        &self,
        _fabric: &FabricConfig,
        key: &ObjectKey,
    ) -> Result<ObjectView, ObjectReadError> {
        let switch = |asn: u32| {
            json!({"apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
                   "metadata": {"name": key.name, "namespace": "default"},
                   "spec": {"role": "server-leaf", "asn": asn}})
        };
        Ok(ObjectView {
            rendered: Some(switch(65101)),
            held_back: None,
            live: Some(switch(65199)),
        })
    }
}

pub fn source(object_type: &str, id: u64, name: &str) -> SourceRef {
    SourceRef {
        object_type: object_type.into(),
        id,
        name: name.into(),
    }
}

pub struct Sidecar {
    pub addr: SocketAddr,
    pub queue: Arc<dyn JobQueue>,
    pub dead_job: String,
    shutdown: CancellationToken,
    running: Option<RunningApp>,
    _dir: tempfile::TempDir,
}

impl Sidecar {
    /// Starts the sidecar (links under `prefix`, empty for none) and reconciles `lab` once.
    pub async fn start(prefix: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = settings(&dir, prefix);
        let shared = Arc::new(MemoryState::default());
        let scheduler = Arc::new(Scheduler::new(
            settings.fabrics.clone(),
            Arc::new(DriftingFabric),
            Arc::new(LocalLease::default()),
            shared.clone(),
            Cadence::new(Duration::from_secs(300), Duration::from_secs(30)),
        ));
        scheduler
            .reconcile_now("lab", ReconcileOptions::default())
            .await
            .expect("reconciled");
        let sources = [(
            key(Kind::Switch, "leaf-01"),
            vec![source("dcim.device", 12, "leaf-01")],
        )];
        shared
            .set_published_sources("lab", &sources.into_iter().collect())
            .await
            .unwrap();
        let token = ApiToken(Some(SecretString::from(TOKEN)));
        let options = AppOptions {
            workers: false,
            http_threads: Some(1),
            fabrics_api: Some(FabricsApi {
                scheduler,
                token: token.clone(),
            }),
            api_token: token,
            recent: Some(recent()),
            ..AppOptions::default()
        };
        let shutdown = CancellationToken::new();
        let handler = Arc::new(testkit::handler::RecordingHandler::new());
        let running = spawn_app(&settings, handler, shutdown.clone(), options)
            .await
            .expect("the sidecar starts");
        let mut sidecar = Self {
            addr: running.addr,
            queue: running.queue.clone(),
            dead_job: String::new(),
            shutdown,
            running: Some(running),
            _dir: dir,
        };
        sidecar.dead_job = sidecar.dead_letter().await;
        sidecar
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A webhook for device 12, taken by a worker and dead-lettered.
    async fn dead_letter(&self) -> String {
        let body = json!({
            "event": "updated", "timestamp": "2026-11-22T03:00:00+00:00",
            "object_type": "dcim.device",
            "data": {"id": 12, "name": "leaf-01", "custom_fields": {"hedgehog_fabric": "lab"}},
            "request": {"id": "req-ui-1", "user": "alice"},
            "snapshots": {"prechange": null, "postchange": null}
        })
        .to_string();
        let response = reqwest::Client::new()
            .post(self.url("/webhooks/netbox"))
            .header("x-hook-signature", sign(SECRET, body.as_bytes()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("intake answers");
        assert_eq!(response.status(), 202);
        let lease = self
            .queue
            .claim("ui-test", Duration::from_secs(2))
            .await
            .unwrap()
            .expect("claimed");
        self.queue.dead_letter(&lease, DEAD_ERROR).await.unwrap();
        lease.job.id
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running.stopped().await;
        }
    }
}

fn settings(dir: &tempfile::TempDir, prefix: &str) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Settings::default()
    };
    settings.webhook.secret = Some(SecretString::from(SECRET));
    settings.queue.data_dir = dir.path().join("queue");
    settings.ui.path_prefix = prefix.to_owned();
    settings.fabrics = vec![serde_json::from_value(json!({"name": "lab"})).expect("fabric")];
    settings
}

/// One publish by alice's change.
fn recent() -> Arc<RecentPublishes> {
    let recent = Arc::new(RecentPublishes::default());
    let cause = Cause {
        request_id: Some("req-ui-0".into()),
        user: Some("alice".into()),
        reason: "webhook dcim.device 12 updated".into(),
        credits: vec![],
    };
    let report = PublishReport {
        updated: vec![key(Kind::Switch, "leaf-01")],
        ..PublishReport::default()
    };
    recent.record("lab", "cluster", &cause, &report);
    recent
}
