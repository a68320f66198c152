//! The service-wide settings (everything except the fabrics).

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::fabric::FabricConfig;
use super::secret::{SecretError, resolve_secret};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address of the HTTP server (webhooks, health, metrics, API).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Redis URL; without one the embedded on-disk queue is used.
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub redis_url: Option<SecretString>,
    /// A file holding the Redis URL (its password included); it wins over `redis_url`.
    #[serde(default)]
    pub redis_url_file: Option<PathBuf>,
    #[serde(default)]
    pub webhook: WebhookSettings,
    #[serde(default)]
    pub queue: QueueSettings,
    #[serde(default)]
    pub netbox: NetBoxSettings,
    #[serde(default)]
    pub api: ApiSettings,
    #[serde(default)]
    pub ui: UiSettings,
    #[serde(default)]
    pub log: LogSettings,
    #[serde(default)]
    pub reconcile: ReconcileSettings,
    #[serde(default)]
    pub discovery: super::DiscoverySettings,
    #[serde(default, rename = "fabric")]
    pub fabrics: Vec<FabricConfig>,
    /// This sidecar's name in NetBox: its webhook, event rules and custom links are named
    /// after it, so two sidecars on one NetBox never take over each other's.
    #[serde(default = "default_instance")]
    pub instance: String,
    /// The sidecar's web UI as browsers reach it, path prefix included
    /// (`https://netbox.example.org/hedgehog`); `setup` links NetBox's objects to it.
    #[serde(default)]
    pub sidecar_public_url: Option<String>,
    /// NetBox as browsers reach it, for links back to NetBox (the rendered objects'
    /// annotations when a fabric sets no `mapping.netbox_public_url`).
    #[serde(default)]
    pub netbox_public_url: Option<String>,
}

fn default_instance() -> String {
    "hedgehog-sidecar".into()
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            redis_url: None,
            redis_url_file: None,
            webhook: WebhookSettings::default(),
            queue: QueueSettings::default(),
            netbox: NetBoxSettings::default(),
            api: ApiSettings::default(),
            ui: UiSettings::default(),
            log: LogSettings::default(),
            reconcile: ReconcileSettings::default(),
            discovery: super::DiscoverySettings::default(),
            fabrics: Vec::new(),
            instance: default_instance(),
            sidecar_public_url: None,
            netbox_public_url: None,
        }
    }
}

impl Settings {
    pub fn fabric(&self, name: &str) -> Option<&FabricConfig> {
        self.fabrics.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// The secret NetBox's webhook signs with (`setup` configures it in NetBox). Taken as
    /// is: every character, commas included, is part of the secret.
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub secret: Option<SecretString>,
    pub secret_file: Option<PathBuf>,
    /// Secrets still accepted while NetBox is switched to a new `secret` (rotation).
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub previous_secrets: Vec<SecretString>,
    /// One more previous secret, read from a file.
    pub previous_secret_file: Option<PathBuf>,
    /// Largest accepted body; NetBox objects are a few KB.
    pub max_body_bytes: usize,
    /// Most bytes held at once, over all requests, for bodies whose signature is not checked
    /// yet; a request that would exceed it gets 503 with `Retry-After`.
    pub max_unverified_bytes: usize,
    /// A body must arrive within this long after the request's headers, else 408.
    pub body_timeout_secs: u64,
    /// Events made by these NetBox users are skipped (the sidecar's own write-backs).
    pub ignore_users: Vec<String>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            secret: None,
            secret_file: None,
            previous_secrets: Vec::new(),
            previous_secret_file: None,
            max_body_bytes: 1024 * 1024,
            max_unverified_bytes: 64 * 1024 * 1024,
            body_timeout_secs: 10,
            ignore_users: vec!["hedgehog-sidecar".into()],
        }
    }
}

impl WebhookSettings {
    /// Every accepted secret, the current one first; empty when none is configured. A blank
    /// secret, or previous secrets without a current one, is an error.
    pub(crate) fn secrets(&self) -> Result<Vec<SecretString>, SecretError> {
        let current = resolve_secret(
            "webhook.secret",
            self.secret.as_ref(),
            self.secret_file.as_deref(),
        )?;
        let mut previous = Vec::new();
        for (i, secret) in self.previous_secrets.iter().enumerate() {
            if let Some(secret) = resolve_secret(
                &format!("webhook.previous_secrets[{i}]"),
                Some(secret),
                None,
            )? {
                previous.push(secret);
            }
        }
        if let Some(file) = resolve_secret(
            "webhook.previous_secret",
            None,
            self.previous_secret_file.as_deref(),
        )? {
            previous.push(file);
        }
        match current {
            Some(current) => Ok(std::iter::once(current).chain(previous).collect()),
            None if previous.is_empty() => Ok(Vec::new()),
            None => Err(SecretError::PreviousWithoutCurrent),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// Directory of the embedded queue (used when no Redis URL is set).
    pub data_dir: PathBuf,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Attempts before a job moves to the dead-letter queue.
    pub max_attempts: u32,
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
    /// A job whose worker has been silent this long is taken over by another. Workers
    /// heartbeat every third of it while a job runs, so long jobs keep their lease.
    pub visibility_timeout_secs: u64,
    /// Concurrent workers in this process; a job waiting in its fabric's round of publishes
    /// frees its worker for the next job.
    pub workers: usize,
    /// How long identical redeliveries are remembered (at least; up to twice as long on Redis).
    pub dedupe_ttl_secs: u64,
    /// On shutdown, how long running jobs may take to finish before they are handed back.
    pub shutdown_grace_secs: u64,
    /// Most webhooks stored in one Redis round trip / one redb transaction (group commit).
    pub batch_max: usize,
    /// Embedded queue: most jobs waiting for a worker. Past it, new events get 503 with
    /// `Retry-After` (events that merge into a waiting job are still taken).
    pub max_queued: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("/var/lib/hedgehog-sidecar"),
            key_prefix: "hhs".into(),
            max_attempts: 8,
            backoff_initial_ms: 500,
            backoff_max_ms: 300_000,
            visibility_timeout_secs: 15,
            workers: 4,
            dedupe_ttl_secs: 3600,
            shutdown_grace_secs: 30,
            batch_max: 512,
            max_queued: 20_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct NetBoxSettings {
    pub url: Option<String>,
    /// A v2 (`nbt_...`, sent as Bearer) or v1 token.
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
    pub verify_tls: bool,
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
    /// Objects per page when reading (NetBox caps it at MAX_PAGE_SIZE, 1000 by default).
    pub page_size: usize,
    /// Pages fetched at once.
    pub concurrency: usize,
    pub max_retries: u32,
    /// `setup` makes the fabric custom field a selection of the configured fabrics, so a
    /// misspelt fabric is refused by NetBox instead of silently dropping the object. False
    /// leaves it free text (a NetBox shared with generated fabric names, like a test NetBox).
    pub fabric_choices: bool,
}

impl Default for NetBoxSettings {
    fn default() -> Self {
        Self {
            url: None,
            token: None,
            token_file: None,
            verify_tls: true,
            ca_file: None,
            timeout_secs: 30,
            page_size: 1000,
            concurrency: 4,
            max_retries: 5,
            fabric_choices: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// Bearer token for `/api/v1` (the NetBox scripts and operators use it).
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// The path a reverse proxy serves the sidecar under (`/hedgehog` when NetBox's proxy
    /// sends `https://netbox.example.com/hedgehog/...` to the sidecar). The UI's links and
    /// cookie carry it; the UI answers under `/ui` and under `<path_prefix>/ui`, so the proxy
    /// may strip the prefix or keep it.
    pub path_prefix: String,
}

impl UiSettings {
    /// The prefix as links use it: empty, or `/segment[/segment...]` without a trailing `/`.
    pub fn normalized_prefix(&self) -> String {
        let trimmed = self.path_prefix.trim().trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info,hedgehog_sidecar=debug`. `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileSettings {
    pub enabled: bool,
    pub interval_secs: u64,
    /// How long the leader lease lasts before another replica may take over.
    pub lease_secs: u64,
    /// A failed pass (NetBox or the target unreadable, errors) is tried again after this
    /// many seconds, doubling up to `interval_secs`, instead of after a whole interval.
    pub retry_initial_secs: u64,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 300,
            lease_secs: 60,
            retry_initial_secs: 10,
        }
    }
}
