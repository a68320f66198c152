//! Where fixtures live: the workspace's own `tests/fixtures` and the shared reference material
//! next to the workspace (`../shared`: CRDs, samples, NetBox webhook deliveries).

use std::path::{Path, PathBuf};

/// The workspace's root directory (where the product's Cargo.toml is).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path inside the shared reference material, e.g. `shared("hedgehog/crds")`.
pub fn shared(relative: &str) -> PathBuf {
    workspace_root().join("../shared").join(relative)
}

/// The Hedgehog CRDs.
pub fn crds_dir() -> PathBuf {
    shared("hedgehog/crds")
}

/// A file of the product's `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(name)
}
