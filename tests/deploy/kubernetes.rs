//! `deploy/kubernetes/`: each overlay renders with `kubectl kustomize`; the rendered Deployment
//! is what the binary needs (probes on its endpoints, service links off, a writable data
//! volume); its configuration and secrets, laid out as the pod sees them, pass `config check`;
//! and the monitoring objects use only metrics the sidecar exports.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::binary;
use crate::tools;

pub const OVERLAYS: [&str; 2] = ["apply", "commit"];

/// The rendered objects of an overlay, or `None` (test skipped) without kubectl.
pub fn render(overlay: &str) -> Option<Vec<Value>> {
    let kubectl = tools::find("kubectl", "https://kubernetes.io/docs/tasks/tools/")?;
    let dir = format!("deploy/kubernetes/overlays/{overlay}");
    let yaml = tools::stdout_of(&kubectl, &["kustomize", &dir]);
    Some(
        serde_yaml_ng::Deserializer::from_str(&yaml)
            .map(|doc| serde::Deserialize::deserialize(doc).expect("rendered YAML"))
            .collect(),
    )
}

pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn container(objects: &[Value]) -> &Value {
    let deployment = find(objects, "Deployment", "hedgehog-sidecar").expect("a Deployment");
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = e["value"].as_str().expect("plain values only");
            (e["name"].as_str().unwrap().to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
#[ignore = "needs kubectl"]
fn every_overlay_renders_a_deployment_the_binary_can_run_in() {
    for overlay in OVERLAYS {
        let Some(objects) = render(overlay) else {
            return;
        };
        let deployment = find(&objects, "Deployment", "hedgehog-sidecar").unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["enableServiceLinks"], false, "{overlay}");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{overlay}");
        let container = container(&objects);
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert!(container["resources"]["limits"]["memory"].is_string());
        let env = env_of(container);
        let data_dir = env
            .iter()
            .find(|(n, _)| n == "HEDGEHOG_SIDECAR_DATA_DIR")
            .map(|(_, v)| v.as_str())
            .expect("a data directory");
        let mounts = container["volumeMounts"].as_array().unwrap();
        assert!(
            mounts
                .iter()
                .any(|m| m["mountPath"] == data_dir && m["readOnly"] != true),
            "{overlay}: {data_dir} is a writable volume"
        );
        for object in &objects {
            let namespaced = !["Namespace"].contains(&object["kind"].as_str().unwrap());
            assert!(
                !namespaced || object["metadata"]["namespace"].is_string(),
                "{overlay}: {} has no namespace",
                object["metadata"]["name"]
            );
        }
    }
}

#[test]
#[ignore = "needs kubectl"]
fn commit_mode_gets_no_access_to_the_fabrics_cluster() {
    let Some(objects) = render("commit") else {
        return;
    };
    let kinds: BTreeSet<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert!(
        !kinds.contains("Role") && !kinds.contains("RoleBinding"),
        "{kinds:?}"
    );
    let deployment = find(&objects, "Deployment", "hedgehog-sidecar").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["automountServiceAccountToken"],
        false
    );
    let apply = render("apply").unwrap();
    for (kind, name) in [
        ("Role", "hedgehog-sidecar"),
        ("RoleBinding", "hedgehog-sidecar-fabric-config"),
    ] {
        assert!(
            find(&apply, kind, name).is_some(),
            "apply mode has {kind} {name}"
        );
    }
}

/// Writes the pod's view of the configuration (ConfigMap and example Secret) under `root` and
/// returns the Deployment's environment with its paths moved there.
fn lay_out_pod_files(overlay: &str, objects: &[Value], root: &Path) -> Vec<(String, String)> {
    let config = objects
        .iter()
        .find(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("hedgehog-sidecar-config")
        })
        .expect("the configuration's ConfigMap");
    let secret_yaml = tools::read(&format!(
        "deploy/kubernetes/overlays/{overlay}/secret.example.yaml"
    ));
    let secret: Value = serde_yaml_ng::from_str(&secret_yaml).unwrap();
    let relocate = |text: &str| {
        text.replace(
            "/etc/hedgehog-sidecar",
            &root.join("config").display().to_string(),
        )
        .replace(
            "/run/secrets/hedgehog-sidecar",
            &root.join("secrets").display().to_string(),
        )
        .replace(
            "/var/lib/hedgehog-sidecar",
            &root.join("data").display().to_string(),
        )
    };
    for (dir, data) in [
        ("config", &config["data"]),
        ("secrets", &secret["stringData"]),
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        for (key, value) in data.as_object().unwrap() {
            std::fs::write(root.join(dir).join(key), relocate(value.as_str().unwrap())).unwrap();
        }
    }
    env_of(container(objects))
        .into_iter()
        .filter(|(name, _)| name != "HOME")
        .map(|(name, value)| (name, relocate(&value)))
        .collect()
}

#[test]
#[ignore = "needs kubectl"]
fn each_overlays_configuration_and_example_secret_pass_config_check() {
    for overlay in OVERLAYS {
        let Some(objects) = render(overlay) else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let env = lay_out_pod_files(overlay, &objects, root.path());
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let check = binary::run(&["config", "check"], &env);
        let stdout = String::from_utf8_lossy(&check.stdout);
        assert!(check.status.success(), "{overlay}: {stdout}{check:?}");
        assert!(
            stdout.contains("ok: fabric `lab`") && !stdout.contains("warning: not settings"),
            "{overlay}: a fabric is served and every variable is a setting: {stdout}"
        );
    }
}

/// Every `hhs_*` name the sidecar's sources define.
fn exported_metrics() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs = vec![tools::workspace().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for quoted in text.split("= \"hhs_").skip(1) {
                    let name = quoted.split('"').next().unwrap();
                    names.insert(format!("hhs_{name}"));
                }
            }
        }
    }
    names
}

/// The `hhs_*` names a PromQL expression uses, histogram suffixes removed when the base name
/// is a histogram (`_seconds`).
fn metrics_in(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("hhs_"))
        .map(|word| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .filter(|base| base.ends_with("_seconds"))
                .unwrap_or(word)
                .to_owned()
        })
        .collect()
}

#[test]
#[ignore = "needs kubectl"]
fn alerts_and_the_dashboard_use_only_exported_metrics() {
    let Some(objects) = render("apply") else {
        return;
    };
    let exported = exported_metrics();
    assert!(exported.contains("hhs_fabric_sync_status"), "{exported:?}");
    let rule = find(&objects, "PrometheusRule", "hedgehog-sidecar").expect("a PrometheusRule");
    let mut exprs: Vec<String> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expr"].as_str().unwrap().to_owned())
        .collect();
    let alerts: Vec<&str> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["alert"].as_str())
        .collect();
    for expected in [
        "HedgehogFabricOutOfSync",
        "HedgehogJobsDeadLettered",
        "HedgehogReconcileFailing",
        "HedgehogSourceUnreachable",
    ] {
        assert!(alerts.contains(&expected), "{alerts:?}");
    }
    let dashboard_map = find(&objects, "ConfigMap", "hedgehog-sidecar-dashboard").unwrap();
    let dashboard: Value = serde_json::from_str(
        dashboard_map["data"]["hedgehog-sidecar.json"]
            .as_str()
            .unwrap(),
    )
    .expect("the dashboard is JSON");
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    let used: BTreeSet<String> = exprs.iter().flat_map(|e| metrics_in(e)).collect();
    let unknown: Vec<&String> = used.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported: {unknown:?}");
    assert!(
        used.len() >= 15,
        "the dashboard shows most metrics: {used:?}"
    );
}
