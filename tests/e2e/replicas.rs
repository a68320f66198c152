//! Two replicas behind one Redis: one leader runs the periodic reconcile (once per interval in
//! all, not once per replica), and both answer `/api/v1/fabrics` with the same report, which
//! says `Unknown` until the first reconcile ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hedgehog_sidecar::api::fabrics::ApiToken;
use hedgehog_sidecar::api::{AppOptions, FabricsApi, spawn_app};
use hedgehog_sidecar::config::{FabricConfig, Settings};
use hedgehog_sidecar::lease::RedisLease;
use hedgehog_sidecar::pipeline::FabricServices;
use hedgehog_sidecar::reconcile::scheduler::{Cadence, FabricRunner, Scheduler};
use hedgehog_sidecar::reconcile::{FabricReport, ReconcileOptions};
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::harness::*;

const INTERVAL: Duration = Duration::from_secs(2);

/// Counts the passes of every replica.
struct Counted {
    inner: Arc<FabricServices>,
    passes: Arc<AtomicUsize>,
}

#[async_trait]
impl FabricRunner for Counted {
    async fn reconcile(&self, fabric: &FabricConfig, options: ReconcileOptions) -> FabricReport {
        self.passes.fetch_add(1, Ordering::SeqCst);
        self.inner.reconcile(&fabric.name, options).await.unwrap()
    }
}

/// One replica: its scheduler (not started) and the address of its API.
async fn replica(
    settings: &Settings,
    passes: &Arc<AtomicUsize>,
    shutdown: &CancellationToken,
) -> (Arc<Scheduler>, String) {
    let services = Arc::new(FabricServices::build(settings, None).await.unwrap());
    let lease = RedisLease::new(
        services.redis.clone().expect("the Redis queue"),
        settings.queue.key_prefix.clone(),
    );
    let runner = Arc::new(Counted {
        inner: services.clone(),
        passes: passes.clone(),
    });
    let scheduler = Arc::new(Scheduler::new(
        settings.fabrics.clone(),
        runner,
        Arc::new(lease),
        services.shared.clone(),
        Cadence::new(INTERVAL, Duration::from_secs(settings.reconcile.lease_secs)),
    ));
    let token = ApiToken(settings.api.token.clone());
    let options = AppOptions {
        fabrics_api: Some(FabricsApi {
            scheduler: scheduler.clone(),
            token: token.clone(),
        }),
        api_token: token,
        shared: Some(services.shared.clone()),
        ..AppOptions::default()
    };
    let app = spawn_app(
        settings,
        Arc::new(services.job_handler()),
        shutdown.clone(),
        options,
    )
    .await
    .unwrap();
    (scheduler, format!("http://{}/api/v1/fabrics", app.addr))
}

async fn fabrics(url: &str, token: &str) -> Value {
    let answer = testkit::http::get_json(&reqwest::Client::new(), url, token).await;
    answer["fabrics"][0].clone()
}

#[tokio::test]
#[ignore = "needs NetBox"]
async fn two_replicas_give_one_answer_and_run_one_reconcile_per_interval() {
    let Some((_netbox, cluster)) = cluster_scenario("e2e-replicas").await else {
        return;
    };
    let mut settings = with_redis(cluster.settings());
    let ClusterFabric { seeded, server, .. } = cluster;
    settings.reconcile.lease_secs = 6;
    let token = unique("api-token");
    settings.api.token = Some(SecretString::from(token.clone()));
    let shutdown = CancellationToken::new();
    let passes = Arc::new(AtomicUsize::new(0));
    let (one, one_url) = replica(&settings, &passes, &shutdown).await;
    let (two, two_url) = replica(&settings, &passes, &shutdown).await;

    let before = fabrics(&one_url, &token).await;
    assert_eq!(
        (before["sync"].as_str(), before["status"].as_str()),
        (Some("Unknown"), Some("unknown")),
        "nothing is known before the first reconcile: {before}"
    );

    let started = Instant::now();
    tokio::spawn(one.run(shutdown.clone()));
    tokio::spawn(two.run(shutdown.clone()));
    let first = eventually_some(Duration::from_secs(60), "a reconciled fabric", || async {
        let answer = fabrics(&one_url, &token).await;
        (answer["sync"] == "Synced").then_some(answer)
    })
    .await;
    assert!(first["last_success"].is_string(), "{first}");
    tokio::time::sleep(INTERVAL * 4).await;
    let elapsed = started.elapsed();
    let ran = passes.load(Ordering::SeqCst);
    let intervals = (elapsed.as_secs_f64() / INTERVAL.as_secs_f64()).ceil() as usize;
    assert!(
        ran >= 2 && ran <= intervals + 1,
        "{ran} passes in {elapsed:?}: one per {INTERVAL:?} interval in all"
    );

    // Both replicas serve the report of whichever ran the pass (polled: a pass may end
    // between the two requests).
    eventually_some(Duration::from_secs(30), "the same answer", || async {
        let (a, b) = (
            fabrics(&one_url, &token).await,
            fabrics(&two_url, &token).await,
        );
        (a == b).then_some(())
    })
    .await;

    shutdown.cancel();
    testkit::redis::delete_keys(&testkit::redis::redis_url(), &settings.queue.key_prefix);
    seeded.remove().await;
    server.shutdown().await;
}
