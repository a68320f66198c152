//! Helpers shared by hedgehog-sidecar's integration tests and benchmarks; never a dependency of
//! the product itself.
//!
//! * [`browser`]: headless Chromium for the web UI's tests.
//! * [`synthetic`]: generated spine-leaf fabrics of any size, as NetBox snapshots.
//! * [`paths`]: the workspace's fixtures and the shared reference material (`../shared`).
//! * [`oracle`]: `hh-fabric-oracle`, the fabric's own admission webhooks (check and serve).
//! * [`netbox`]: the real test NetBox (its variables, a client, unique names, one test at a time).
//! * [`redis`]: the test Redis database and a private Redis server that can be stopped.
//! * [`poll`]: waiting until a condition holds, with a deadline.
//! * [`fabric_env`]: a test server seeded with the fabric's configuration and switch profiles.
//! * [`kube`]: the Hedgehog kinds through kube-rs.
//! * [`logs`]: capturing what the code under test logs.
//! * [`handler`]: a job handler that remembers the jobs it is given.
//! * [`kubelet`]: the environment the kubelet gives a pod of a Service named like the sidecar.
//! * [`http`]: reading the sidecar's token-protected API.
//! * [`discovery`]: discovery runs against the test NetBox and removing what they created.
//! * [`recorded_api`]: a local HTTP server answering with recorded API responses.
//! * [`proxmox`]: a generated Proxmox VE API of any size, for that server.

pub mod browser;
pub mod discovery;
pub mod fabric_env;
pub mod handler;
pub mod http;
pub mod kube;
pub mod kubelet;
pub mod logs;
pub mod netbox;
pub mod oracle;
pub mod paths;
pub mod poll;
pub mod proxmox;
pub mod recorded_api;
pub mod redis;
pub mod synthetic;

pub use poll::{eventually, eventually_some};
