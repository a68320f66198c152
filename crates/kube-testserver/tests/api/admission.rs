//! Admission webhooks as the API server calls them: an `https` webhook trusted through its
//! configuration's `caBundle`, `failurePolicy` when the webhook cannot be reached,
//! `timeoutSeconds`, and webhooks with side effects refusing dry-run requests. The webhook is
//! a small AdmissionReview server made here, over http or https with a CA made in the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use base64::Engine;
use serde_json::{Value, json};

use super::*;

/// How long the webhook's `/slow` path takes to answer.
const SLOW: Duration = Duration::from_secs(5);

/// A running AdmissionReview server that admits everything, adding the label
/// `admitted: "yes"` (a JSONPatch), and counts the reviews it answered.
struct Webhook {
    base: String,
    calls: Arc<AtomicUsize>,
    dry_runs: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

/// A certificate authority and a serving certificate for 127.0.0.1 it signed, both PEM.
struct Pki {
    ca_pem: String,
    serving: rustls::ServerConfig,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "webhook test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let key = KeyPair::generate().expect("serving key");
    let certificate = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("serving parameters")
        .signed_by(&key, &ca)
        .expect("serving certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let serving = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("a private key"),
        )
        .expect("TLS configuration");
    Pki {
        ca_pem: ca.pem(),
        serving,
    }
}

#[derive(Clone)]
struct Counters {
    calls: Arc<AtomicUsize>,
    dry_runs: Arc<AtomicUsize>,
}

async fn review(
    path: web::Path<String>,
    body: web::Json<Value>,
    counters: web::Data<Counters>,
) -> HttpResponse {
    if path.as_str() == "slow" {
        tokio::time::sleep(SLOW).await;
    }
    counters.calls.fetch_add(1, Ordering::SeqCst);
    if body["request"]["dryRun"] == true {
        counters.dry_runs.fetch_add(1, Ordering::SeqCst);
    }
    let patch = json!([{"op": "add", "path": "/metadata/labels/admitted", "value": "yes"}]);
    let patch = base64::engine::general_purpose::STANDARD.encode(patch.to_string());
    HttpResponse::Ok().json(json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "response": {"uid": body["request"]["uid"], "allowed": true,
                     "patchType": "JSONPatch", "patch": patch},
    }))
}

impl Webhook {
    /// Serves on a free port, over https with `tls` when given.
    async fn start(tls: Option<rustls::ServerConfig>) -> Webhook {
        let counters = Counters {
            calls: Arc::default(),
            dry_runs: Arc::default(),
        };
        let data = web::Data::new(counters.clone());
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route("/{path}", web::post().to(review))
        })
        .workers(1)
        .disable_signals();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = match tls {
            Some(config) => server.bind_rustls_0_23("127.0.0.1:0", config),
            None => server.bind("127.0.0.1:0"),
        }
        .expect("the webhook binds");
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Webhook {
            base: format!("{scheme}://{address}"),
            calls: counters.calls,
            dry_runs: counters.dry_runs,
            handle,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// A URL nothing listens on.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("an address");
    drop(listener);
    format!("http://{address}/review")
}

const WEBHOOKS: &str = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

/// Registers a mutating webhook on Switch creates; `extra` adds or overrides its fields.
async fn register(server: &TestServer, name: &str, url: &str, extra: Value) {
    let mut webhook = json!({
        "name": format!("{name}.example.com"), "admissionReviewVersions": ["v1"],
        "sideEffects": "None", "failurePolicy": "Fail", "clientConfig": {"url": url},
        "rules": [{"apiGroups": ["wiring.githedgehog.com"], "apiVersions": ["v1beta1"],
                   "operations": ["CREATE"], "resources": ["switches"]}],
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        webhook[key] = value.clone();
    }
    let config = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name}, "webhooks": [webhook],
    });
    let (code, body, _) = http(
        server,
        "POST",
        WEBHOOKS,
        "application/json",
        &config.to_string(),
    )
    .await;
    assert_eq!(code, 201, "{body}");
}

async fn unregister(server: &TestServer, name: &str) {
    let (code, body, _) = http(server, "DELETE", &format!("{WEBHOOKS}/{name}"), "", "").await;
    assert_eq!(code, 200, "{body}");
}

/// Creates Switch `name` (dry-run when asked); the status code and body.
async fn create_switch(server: &TestServer, name: &str, dry_run: bool) -> (u16, Value) {
    let query = if dry_run { "?dryRun=All" } else { "" };
    let body = switch_json(name, "spine").to_string();
    let (code, body, _) = http(
        server,
        "POST",
        &format!("{SWITCHES}{query}"),
        "application/json",
        &body,
    )
    .await;
    (code, body)
}

/// An https webhook is called when its certificate is signed by the configuration's
/// `caBundle`, and only then: without the bundle the call fails as an untrusted certificate.
#[tokio::test]
async fn an_https_webhook_is_trusted_through_its_ca_bundle() {
    let server = start().await;
    let pki = pki();
    let webhook = Webhook::start(Some(pki.serving)).await;
    assert!(webhook.base.starts_with("https://"));
    let bundle = base64::engine::general_purpose::STANDARD.encode(&pki.ca_pem);
    let url = format!("{}/review", webhook.base);
    register(
        &server,
        "trusted",
        &url,
        json!({"clientConfig": {"url": url, "caBundle": bundle}}),
    )
    .await;
    let (code, created) = create_switch(&server, "spine-01", false).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["metadata"]["labels"]["admitted"], "yes",
        "the webhook's patch is applied"
    );
    unregister(&server, "trusted").await;

    register(&server, "untrusted", &url, json!({})).await;
    let (code, refused) = create_switch(&server, "spine-02", false).await;
    assert_eq!(
        (code, refused["reason"].as_str()),
        (500, Some("InternalError"))
    );
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "Internal error occurred: failed calling webhook \"untrusted.example.com\": "
        ),
        "{message}"
    );
    assert_eq!(webhook.calls(), 1, "the untrusted call never reached it");
    webhook.stop().await;
    server.shutdown().await;
}

/// A webhook that cannot be reached fails the request under `failurePolicy: Fail` and is
/// skipped under `Ignore`.
#[tokio::test]
async fn failure_policy_decides_what_an_unreachable_webhook_means() {
    let server = start().await;
    let url = unreachable_url();
    register(&server, "lenient", &url, json!({"failurePolicy": "Ignore"})).await;
    let (code, created) = create_switch(&server, "spine-01", false).await;
    assert_eq!(code, 201, "Ignore admits without the webhook: {created}");
    assert!(created["metadata"]["labels"].get("admitted").is_none());
    unregister(&server, "lenient").await;

    register(&server, "strict", &url, json!({"failurePolicy": "Fail"})).await;
    let (code, refused) = create_switch(&server, "spine-02", false).await;
    assert_eq!(
        (code, refused["reason"].as_str()),
        (500, Some("InternalError"))
    );
    assert!(
        refused["message"].as_str().unwrap_or_default().starts_with(
            "Internal error occurred: failed calling webhook \"strict.example.com\": "
        ),
        "{refused}"
    );
    let (code, _, _) = http(&server, "GET", &format!("{SWITCHES}/spine-02"), "", "").await;
    assert_eq!(code, 404, "nothing was stored");
    server.shutdown().await;
}

/// A webhook slower than its `timeoutSeconds` fails the request after that time (not the
/// webhook's), or is skipped under `failurePolicy: Ignore`.
#[tokio::test]
async fn a_webhook_slower_than_its_timeout_is_given_up_on_in_time() {
    let server = start().await;
    let webhook = Webhook::start(None).await;
    let url = format!("{}/slow", webhook.base);
    register(&server, "slow", &url, json!({"timeoutSeconds": 1})).await;
    let started = Instant::now();
    let (code, refused) = create_switch(&server, "spine-01", false).await;
    let waited = started.elapsed();
    assert_eq!(code, 500, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("failed calling webhook \"slow.example.com\""),
        "{refused}"
    );
    assert!(
        waited >= Duration::from_secs(1) && waited < SLOW - Duration::from_secs(1),
        "given up after its timeout: {waited:?}"
    );
    unregister(&server, "slow").await;

    register(
        &server,
        "slow-lenient",
        &url,
        json!({"timeoutSeconds": 1, "failurePolicy": "Ignore"}),
    )
    .await;
    let started = Instant::now();
    let (code, created) = create_switch(&server, "spine-01", false).await;
    assert_eq!(code, 201, "{created}");
    assert!(started.elapsed() < SLOW - Duration::from_secs(1));
    assert!(created["metadata"]["labels"].get("admitted").is_none());
    webhook.stop().await;
    server.shutdown().await;
}

/// A dry-run request is refused, without calling it, by a webhook whose `sideEffects` are
/// `Some` or `Unknown`, whatever its failure policy; `NoneOnDryRun` webhooks are called with
/// `dryRun: true`; real requests call them all.
#[tokio::test]
async fn webhooks_with_side_effects_refuse_dry_run_requests() {
    let server = start().await;
    let webhook = Webhook::start(None).await;
    let url = format!("{}/review", webhook.base);
    for side_effects in ["Some", "Unknown"] {
        let name = format!("effects-{}", side_effects.to_lowercase());
        let extra = json!({"sideEffects": side_effects, "failurePolicy": "Ignore"});
        register(&server, &name, &url, extra).await;
        let (code, refused) = create_switch(&server, "spine-01", true).await;
        assert_eq!(
            (code, refused["reason"].as_str()),
            (400, Some("BadRequest")),
            "{refused}"
        );
        assert_eq!(
            refused["message"],
            format!("admission webhook \"{name}.example.com\" does not support dry run")
        );
        assert_eq!(webhook.calls(), 0, "{side_effects}: never called");
        unregister(&server, &name).await;
    }

    register(
        &server,
        "effects-none-on-dry-run",
        &url,
        json!({"sideEffects": "NoneOnDryRun"}),
    )
    .await;
    let (code, body) = create_switch(&server, "spine-01", true).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["metadata"]["labels"]["admitted"], "yes");
    assert_eq!(webhook.dry_runs.load(Ordering::SeqCst), 1);
    unregister(&server, "effects-none-on-dry-run").await;

    register(
        &server,
        "effects-some",
        &url,
        json!({"sideEffects": "Some"}),
    )
    .await;
    let (code, body) = create_switch(&server, "spine-01", false).await;
    assert_eq!(code, 201, "a real request calls it: {body}");
    assert_eq!(body["metadata"]["labels"]["admitted"], "yes");
    assert_eq!(webhook.calls(), 2);
    webhook.stop().await;
    server.shutdown().await;
}
