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
