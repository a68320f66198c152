//! End to end: the real NetBox (`scripts/test` starts it), the Kubernetes test server, real Git
//! repositories, and the sidecar's own service. One file per scenario family; `harness` holds
//! the shared set-up.

mod allocation;
mod attribution;
mod cable;
mod docs_fabric;
mod harness;
mod incremental;
mod own_writes;
mod publish;
mod quiet_writeback;
mod reconcile;
mod render;
mod replicas;
mod saved_filters;
mod scripts;
mod steady;
mod ui_object;
mod webhook_counter;
