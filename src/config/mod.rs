//! Typed, layered configuration: defaults, then the TOML file, then `HEDGEHOG_SIDECAR_*`
//! environment variables. Secrets are wrapped in [`secrecy::SecretString`] so they never reach a
//! log through `Debug`. Every problem is reported with the key that causes it.

mod creation;
mod discovery;
mod discovery_hosts;
mod environment;
#[cfg(test)]
mod example_keys;
mod fabric;
mod load;
mod scanner;
mod secret;
mod settings;
mod settings_overrides;

pub use creation::CreateDefaults;
pub use discovery::{DiscoverySettings, FabricSourceSettings, InventorySourceSettings};
pub use discovery_hosts::{CredentialError, HostSourceSettings};
pub use environment::{ENV_PREFIX, Environment};
pub use fabric::{
    ClusterOptions, CustomFieldNames, DEFAULT_PUBLISH_DEBOUNCE_MS, FabricConfig, FabricMode,
    FabricSettings, GitConfig, MappingConfig, PoolNames, ValidationLevel,
};
pub use load::{ConfigError, load, load_from};
pub use scanner::ScannerSourceSettings;
pub use secret::SecretError;
pub(crate) use secret::{is_blank, read_secret_file, resolve_secret};
pub use settings::{
    ApiSettings, LogFormat, LogSettings, NetBoxSettings, QueueSettings, ReconcileSettings,
    Settings, UiSettings, WebhookSettings,
};
pub use settings_overrides::SettingsOverrides;
