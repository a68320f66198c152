//! The ways to deploy the sidecar (`deploy/`): the binary starts in the environment a
//! Kubernetes pod or a shared env file gives it, its health command answers container health
//! checks, and the container, systemd, Kubernetes and netbox-docker files pass their tools'
//! checks. Tests that need a tool are ignored like the other tests needing a service
//! (`scripts/test` runs them), and when the tool is missing they say so and pass without
//! checking; `.ci/run` installs them.

mod binary;
mod compose;
mod container;
mod demo;
mod demo_stop;
mod kubernetes;
mod rbac;
mod startup;
mod systemd;
mod tools;
