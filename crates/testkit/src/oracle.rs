//! `hh-fabric-oracle`: the fabric's own defaulting and validating webhooks, built from
//! `../shared/hedgehog/fabric-oracle` once per test binary (`HH_FABRIC_ORACLE` names a built
//! binary instead). Tests that need it skip, saying why, only when it cannot be built.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// The oracle's binary, or why there is none.
pub fn binary() -> Result<&'static Path, &'static str> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(build)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(String::as_str)
}

/// The oracle's binary; `None` (after saying why on stderr) when it cannot be built.
pub fn binary_or_skip(test: &str) -> Option<&'static Path> {
    match binary() {
        Ok(path) => Some(path),
        Err(why) => {
            eprintln!("SKIPPED {test}: hh-fabric-oracle cannot be built here: {why}");
            None
        }
    }
}

fn build() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("HH_FABRIC_ORACLE") {
        return Ok(PathBuf::from(path));
    }
    let script = crate::paths::shared("hedgehog/fabric-oracle/build.sh");
    let output = Command::new(&script)
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout.lines().last().unwrap_or_default().trim();
    if path.is_empty() || !Path::new(path).exists() {
        return Err(format!("{} printed no binary path", script.display()));
    }
    Ok(PathBuf::from(path))
}

/// One object's verdict from `hh-fabric-oracle check`.
#[derive(Debug, Clone, Deserialize)]
pub struct Verdict {
    pub kind: String,
    pub name: String,
    pub allowed: bool,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The defaulting webhook's JSON patch.
    #[serde(default)]
    pub defaulted: Vec<PatchOp>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Value,
}

/// Admits the objects of `yaml` as a fresh cluster with the fabric configuration
/// `config_yaml` would.
pub fn check(oracle: &Path, yaml: &str, config_yaml: &str) -> Vec<Verdict> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let objects = dir.path().join("objects.yaml");
    let config = dir.path().join("config.yaml");
    std::fs::write(&objects, yaml).expect("objects written");
    std::fs::write(&config, config_yaml).expect("configuration written");
    let output = Command::new(oracle)
        .arg("check")
        .arg("--config")
        .arg(&config)
        .arg(&objects)
        .output()
        .expect("hh-fabric-oracle runs");
    // Exit 1 means some object was refused; 2 means the oracle itself failed.
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "hh-fabric-oracle check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("verdict {l}: {e}")))
        .collect()
}

/// The patch operations of `verdict` that change a field `desired` (the object as sent) sets:
/// its spec's fields and its own labels and annotations. Fields the defaulting adds beside them
/// (the fabric's labels, empty lists) are not the sidecar's.
pub fn touched_managed_fields(desired: &Value, verdict: &Verdict) -> Vec<String> {
    verdict
        .defaulted
        .iter()
        .filter(|op| {
            let managed = ["/spec", "/metadata/labels", "/metadata/annotations"]
                .iter()
                .any(|root| op.path == *root || op.path.starts_with(&format!("{root}/")));
            let (parent, last) = op.path.rsplit_once('/').unwrap_or_default();
            let resolves = desired.pointer(&op.path).is_some();
            let appends_to_list =
                last == "-" && desired.pointer(parent).is_some_and(Value::is_array);
            managed && (resolves || appends_to_list)
        })
        .map(|op| format!("{} {} {}", op.op, op.path, op.value))
        .collect()
}

/// The fabric's kinds with webhooks, as `(group, plural, kind)`: what the fabric registers.
const WEBHOOK_KINDS: [(&str, &str, &str); 12] = [
    ("wiring.githedgehog.com", "connections", "connection"),
    ("wiring.githedgehog.com", "servers", "server"),
    ("wiring.githedgehog.com", "switches", "switch"),
    ("wiring.githedgehog.com", "switchprofiles", "switchprofile"),
    ("wiring.githedgehog.com", "vlannamespaces", "vlannamespace"),
    ("vpc.githedgehog.com", "externals", "external"),
    (
        "vpc.githedgehog.com",
        "externalattachments",
        "externalattachment",
    ),
    ("vpc.githedgehog.com", "externalpeerings", "externalpeering"),
    ("vpc.githedgehog.com", "ipv4namespaces", "ipv4namespace"),
    ("vpc.githedgehog.com", "vpcs", "vpc"),
    ("vpc.githedgehog.com", "vpcattachments", "vpcattachment"),
    ("vpc.githedgehog.com", "vpcpeerings", "vpcpeering"),
];

/// The fabric's webhook configurations for a webhook server at `base` (`http://host:port`), as
/// the fabric registers them: defaulting on create and update, validation on create, update and
/// delete, failing closed.
pub fn webhook_configurations(base: &str) -> (Value, Value) {
    let hooks = |mutating: bool| -> Vec<Value> {
        WEBHOOK_KINDS
            .iter()
            .map(|(group, plural, kind)| {
                let (prefix, letter, operations) = if mutating {
                    ("mutate", "m", serde_json::json!(["CREATE", "UPDATE"]))
                } else {
                    (
                        "validate",
                        "v",
                        serde_json::json!(["CREATE", "UPDATE", "DELETE"]),
                    )
                };
                let path = format!("/{prefix}-{}-v1beta1-{kind}", group.replace('.', "-"));
                serde_json::json!({
                    "name": format!("{letter}{kind}.kb.io"),
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                    "failurePolicy": "Fail",
                    "clientConfig": {"url": format!("{base}{path}")},
                    "rules": [{"apiGroups": [group], "apiVersions": ["v1beta1"],
                               "operations": operations, "resources": [plural]}],
                })
            })
            .collect()
    };
    let config = |kind: &str, mutating: bool| {
        serde_json::json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": "fabric-webhook-configuration"},
            "webhooks": hooks(mutating),
        })
    };
    (
        config("MutatingWebhookConfiguration", true),
        config("ValidatingWebhookConfiguration", false),
    )
}

/// `hh-fabric-oracle serve` against a test server: the fabric's webhooks, registered there as
/// the fabric registers them, with its configuration in `fab/fabric-ctrl-config`. Stopped on drop.
pub struct FabricWebhooks {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    pub url: String,
}

impl FabricWebhooks {
    /// Starts the webhooks for `server` with the fabric configuration `config_yaml`; `None` when
    /// the oracle cannot be built (said on stderr).
    pub async fn start(
        server: &kube_testserver::TestServer,
        config_yaml: &str,
        test: &str,
    ) -> Option<FabricWebhooks> {
        let oracle = binary_or_skip(test)?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        let config = dir.path().join("config.yaml");
        server
            .write_kubeconfig(&kubeconfig)
            .expect("kubeconfig written");
        std::fs::write(&config, config_yaml).expect("configuration written");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(oracle)
            .args(["serve", "--listen", &listen, "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--config")
            .arg(&config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("hh-fabric-oracle serve starts");
        let webhooks = FabricWebhooks {
            child,
            _dir: dir,
            url: format!("http://{listen}"),
        };
        crate::eventually_some(
            std::time::Duration::from_secs(30),
            "the fabric's webhooks listen",
            || async { tokio::net::TcpStream::connect(&listen).await.ok() },
        )
        .await;
        seed(server, config_yaml, &webhooks.url).await;
        Some(webhooks)
    }
}

impl Drop for FabricWebhooks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Namespace `fab` with the ConfigMap `fabric-ctrl-config`, and the webhook configurations.
async fn seed(server: &kube_testserver::TestServer, config_yaml: &str, url: &str) {
    let post = |path: &str, body: Value| {
        let url = format!("{}{path}", server.url());
        async move {
            let response = reqwest_post(&url, &body).await;
            assert!(
                response.0 < 300 || response.0 == 409,
                "POST {url}: {}",
                response.1
            );
        }
    };
    post(
        "/api/v1/namespaces",
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fab"}}),
    )
    .await;
    post(
        "/api/v1/namespaces/fab/configmaps",
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "fabric-ctrl-config", "namespace": "fab"},
            "data": {"config.yaml": config_yaml}}),
    )
    .await;
    let (mutating, validating) = webhook_configurations(url);
    let base = "/apis/admissionregistration.k8s.io/v1";
    post(&format!("{base}/mutatingwebhookconfigurations"), mutating).await;
    post(
        &format!("{base}/validatingwebhookconfigurations"),
        validating,
    )
    .await;
}

pub(crate) async fn reqwest_post(url: &str, body: &Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("the test server answers");
    let code = response.status().as_u16();
    (code, response.text().await.unwrap_or_default())
}

/// A Kubernetes test server running the fabric's own webhooks, configured as the sidecar's
/// default fabric settings describe the fabric: what every test that applies to a cluster
/// applies to.
pub struct FabricCluster {
    pub server: kube_testserver::TestServer,
    pub webhooks: FabricWebhooks,
}

impl FabricCluster {
    /// `None`, said on stderr, when the oracle cannot be built.
    pub async fn start(test: &str) -> Option<FabricCluster> {
        FabricCluster::start_with(&hedgehog_sidecar::config::FabricSettings::default(), test).await
    }

    /// A cluster of a fabric with the fabric-wide `settings` (its subnets, ASN ranges, ...).
    pub async fn start_with(
        settings: &hedgehog_sidecar::config::FabricSettings,
        test: &str,
    ) -> Option<FabricCluster> {
        let config = hedgehog_sidecar::model::fabric_config::fabric_config_yaml(settings);
        let server = kube_testserver::TestServer::start(&crate::paths::crds_dir())
            .await
            .expect("the test server starts");
        let webhooks = FabricWebhooks::start(&server, &config, test).await?;
        Some(FabricCluster { server, webhooks })
    }

    /// Stops the server, then the webhooks.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// The cluster is used as its test server (its client, kubeconfig and URL).
impl std::ops::Deref for FabricCluster {
    type Target = kube_testserver::TestServer;

    fn deref(&self) -> &Self::Target {
        &self.server
    }
}
