//! `[discovery]`: what the discovery run may write, when an object counts as stale, and each
//! source's own table (`[discovery.fabric]`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct DiscoverySettings {
    /// Objects a source owned and stopped reporting are tagged stale after this many seconds
    /// (never deleted) with the mapping's `tag_stale`.
    pub stale_after_secs: u64,
    pub fabric: FabricSourceSettings,
}

impl Default for DiscoverySettings {
    fn default() -> Self {
        Self {
            stale_after_secs: 7 * 24 * 3600,
            fabric: FabricSourceSettings::default(),
        }
    }
}

/// The fabric source: every configured fabric's Agents.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct FabricSourceSettings {
    /// Run on `serve`'s scheduler every `interval_secs` (`discover` runs it regardless).
    pub enabled: bool,
    pub interval_secs: u64,
    /// Create the cables LLDP proves where NetBox has none on either end; never deletes one.
    pub create_cables: bool,
}

impl Default for FabricSourceSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            interval_secs: 600,
            create_cables: false,
        }
    }
}
