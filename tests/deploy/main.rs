//! The ways to deploy the sidecar (`deploy/`): the binary starts in the environment a
//! Kubernetes pod or a shared env file gives it, and its health command answers container
//! health checks.

mod binary;
mod startup;
