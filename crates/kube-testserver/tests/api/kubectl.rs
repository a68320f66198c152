//! kubectl against the test server: `apply --server-side`, `get`, `get --watch`, `delete`.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::*;

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("kubectl finishes")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const SWITCH_YAML: &str = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata:\n  name: leaf-01\nspec:\n  role: server-leaf\n  profile: vs\n  description: first\n";

/// kubectl against one test server, its kubeconfig in a temporary folder.
struct Kubectl {
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(server: &TestServer) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("kubeconfig");
        server.write_kubeconfig(&config).unwrap();
        Self { config, _dir: dir }
    }

    /// Runs kubectl with `args` (and `stdin`) on a blocking thread; the handle gives its output.
    fn run(
        &self,
        args: Vec<&'static str>,
        stdin: Option<String>,
    ) -> tokio::task::JoinHandle<Output> {
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || kubectl(&config, &args, stdin.as_deref()))
    }

    /// `kubectl apply --server-side` of `yaml`.
    async fn apply(&self, yaml: String) -> Output {
        self.run(vec!["apply", "--server-side", "-f", "-"], Some(yaml))
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs kubectl"]
async fn kubectl_applies_and_gets_and_is_refused_as_by_a_cluster() {
    let server = start().await;
    let kubectl = Kubectl::new(&server);
    let applied = kubectl.apply(SWITCH_YAML.into()).await;
    assert!(applied.status.success(), "{}", text(&applied));
    assert_eq!(
        text(&applied).trim(),
        "switch.wiring.githedgehog.com/leaf-01 serverside-applied"
    );

    let listed = kubectl.run(vec!["get", "switches"], None).await.unwrap();
    let listed = text(&listed);
    assert!(listed.starts_with("NAME"), "{listed}");
    assert!(
        listed.lines().nth(1).unwrap().starts_with("leaf-01") && listed.contains("server-leaf"),
        "{listed}"
    );

    let yaml = kubectl
        .run(
            vec![
                "get",
                "switch",
                "leaf-01",
                "-o",
                "jsonpath={.spec.description} {.metadata.managedFields[0].manager}",
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(text(&yaml), "first kubectl");

    // A conflicting apply by another manager fails like against a real cluster.
    let conflicting = kubectl
        .run(
            vec!["apply", "--server-side", "--field-manager=other", "-f", "-"],
            Some(SWITCH_YAML.replace("first", "second")),
        )
        .await
        .unwrap();
    assert!(!conflicting.status.success());
    assert!(
        text(&conflicting)
            .contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.description"),
        "{}",
        text(&conflicting)
    );

    let invalid = kubectl
        .apply(SWITCH_YAML.replace("server-leaf", "core"))
        .await;
    assert!(
        text(&invalid).contains("spec.role: Unsupported value: \"core\""),
        "{}",
        text(&invalid)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs kubectl"]
async fn kubectl_watches_and_deletes() {
    let server = start().await;
    let kubectl = Kubectl::new(&server);
    let applied = kubectl.apply(SWITCH_YAML.into()).await;
    assert!(applied.status.success(), "{}", text(&applied));

    let watcher = kubectl.run(
        vec!["get", "switches", "--watch", "--request-timeout=6s"],
        None,
    );
    assert!(
        server.wait_for_watchers(1, Duration::from_secs(10)).await,
        "kubectl opened its watch"
    );
    let deleted = kubectl
        .run(vec!["delete", "switch", "leaf-01"], None)
        .await
        .unwrap();
    assert_eq!(
        text(&deleted).trim(),
        "switch.wiring.githedgehog.com \"leaf-01\" deleted"
    );
    let watched = text(&watcher.await.unwrap());
    let rows: Vec<&str> = watched
        .lines()
        .filter(|l| l.starts_with("leaf-01"))
        .collect();
    assert_eq!(rows.len(), 2, "the initial row and the deletion: {watched}");

    let missing = kubectl
        .run(vec!["get", "switch", "leaf-01"], None)
        .await
        .unwrap();
    assert_eq!(
        text(&missing).trim(),
        "Error from server (NotFound): switches.wiring.githedgehog.com \"leaf-01\" not found"
    );
    server.shutdown().await;
}

/// kubectl creates, lists and deletes webhook configurations and ConfigMaps.
#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_manages_webhook_configurations_and_configmaps() {
    let server = start().await;
    let kubectl = Kubectl::new(&server);
    let objects = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n\
                   metadata:\n  name: fabric\nwebhooks:\n- name: vvpc.kb.io\n  admissionReviewVersions: [v1]\n  \
                   sideEffects: None\n  clientConfig:\n    url: http://127.0.0.1:1/validate\n  rules:\n  \
                   - {apiGroups: [vpc.githedgehog.com], apiVersions: [v1beta1], operations: [CREATE], resources: [vpcs]}\n\
                   ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fabric-ctrl-config\n  namespace: default\n\
                   data:\n  config.yaml: |\n    fabricMode: spine-leaf\n";
    // kubectl blocks; the server runs on this test's runtime.
    let created = kubectl
        .run(vec!["create", "-f", "-"], Some(objects.into()))
        .await
        .unwrap();
    assert!(created.status.success(), "{}", text(&created));
    let listed = kubectl
        .run(
            vec![
                "get",
                "validatingwebhookconfigurations,configmaps",
                "-o",
                "name",
            ],
            None,
        )
        .await
        .unwrap();
    let names = text(&listed);
    assert!(
        names.contains("validatingwebhookconfiguration.admissionregistration.k8s.io/fabric"),
        "{names}"
    );
    assert!(names.contains("configmap/fabric-ctrl-config"), "{names}");
    let deleted = kubectl
        .run(vec!["delete", "-f", "-"], Some(objects.into()))
        .await
        .unwrap();
    assert!(deleted.status.success(), "{}", text(&deleted));
}
