//! End to end: the real NetBox (`scripts/test` starts it), the Kubernetes test server, real Git
//! repositories, and the sidecar's own service. See `e2e/` for the scenarios.

mod e2e {
    pub mod harness;
    mod publish;
    mod quiet_writeback;
    mod reconcile;
    mod render;
    mod scripts;
    pub mod webhook_counter;
}
