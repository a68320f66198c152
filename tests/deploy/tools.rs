//! The external tools the deployment files are checked with, found on `PATH` or in the tools
//! directory `.ci/run` installs them into (`HHS_TOOLS_DIR`, default
//! `/var/tmp/hedgehog-sidecar-tools/bin`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEFAULT_TOOLS_DIR: &str = "/var/tmp/hedgehog-sidecar-tools/bin";

/// The tool's path, or `None` after saying on stderr that the test is skipped and how to get it.
pub fn find(name: &str, how_to_install: &str) -> Option<PathBuf> {
    let tools_dir = std::env::var_os("HHS_TOOLS_DIR").unwrap_or_else(|| DEFAULT_TOOLS_DIR.into());
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::iter::once(PathBuf::from(tools_dir))
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        eprintln!("skipped: `{name}` is not installed ({how_to_install}; .ci/run installs it)");
    }
    found
}

/// Runs `tool args` in the workspace's root.
pub fn run(tool: &Path, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap_or_else(|e| panic!("{} cannot run: {e}", tool.display()))
}

/// Stdout, or a panic with everything the tool said.
pub fn stdout_of(tool: &Path, args: &[&str]) -> String {
    let output = run(tool, args);
    assert!(
        output.status.success(),
        "{} {}: {}\n{}{}",
        tool.display(),
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the workspace, read whole.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}
