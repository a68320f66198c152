//! Switch profiles: which ports, speeds, breakouts and features each switch model has. A fabric
//! holds its catalog as SwitchProfile objects; the sidecar reads them from the cluster (apply
//! mode) or uses the catalog built into it (commit mode, offline rendering).

mod builtin;
mod ports;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::model::{Manifest, SwitchProfileSpec, from_manifest, parse_manifests};

pub use builtin::BUILTIN_PROFILES;
pub use ports::{PortKind, SwitchPorts, lane_speed, split_lane};

/// A catalog of switch profiles by name; cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchProfiles(Arc<BTreeMap<String, SwitchProfileSpec>>);

/// A SwitchProfile that cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("switch profile {name}: {message}")]
pub struct ProfileError {
    pub name: String,
    pub message: String,
}

impl SwitchProfiles {
    /// The catalog built into the sidecar.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<SwitchProfiles> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let documents: Vec<Manifest> = BUILTIN_PROFILES
                    .iter()
                    .filter_map(|text| parse_manifests(text).ok())
                    .flatten()
                    .collect();
                // The files are checked by a test; one that did not parse would be missing here.
                Self::from_manifests(&documents).unwrap_or_else(|_| Self::empty())
            })
            .clone()
    }

    pub fn empty() -> Self {
        Self(Arc::new(BTreeMap::new()))
    }

    /// The SwitchProfile manifests among `manifests` (other kinds are ignored).
    pub fn from_manifests(manifests: &[Manifest]) -> Result<Self, ProfileError> {
        let mut profiles = BTreeMap::new();
        for manifest in manifests {
            let Some(spec) = from_manifest::<SwitchProfileSpec>(manifest) else {
                continue;
            };
            let name = manifest.metadata.name.clone();
            let spec = spec.map_err(|e| ProfileError {
                name: name.clone(),
                message: e.to_string(),
            })?;
            profiles.insert(name, spec);
        }
        Ok(Self(Arc::new(profiles)))
    }

    pub fn get(&self, name: &str) -> Option<&SwitchProfileSpec> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for SwitchProfiles {
    /// The built-in catalog.
    fn default() -> Self {
        Self::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_parses() {
        for text in BUILTIN_PROFILES {
            let manifests = parse_manifests(text).expect("YAML");
            SwitchProfiles::from_manifests(&manifests).expect("a SwitchProfile");
        }
        assert_eq!(
            SwitchProfiles::builtin().names().count(),
            BUILTIN_PROFILES.len()
        );
    }

    /// A profile file added to `data/switchprofiles/` without being built in would be ignored.
    #[test]
    fn every_file_of_the_catalog_directory_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/switchprofiles");
        let files = std::fs::read_dir(dir).expect("catalog directory").count();
        assert_eq!(files, BUILTIN_PROFILES.len());
    }
}
