//! A Kubernetes API test server for the Hedgehog CRDs: no real API server can be installed on
//! the development machines, so tests (kube-rs and kubectl) run against this one. It serves discovery,
//! CRUD, merge/JSON patch, server-side apply with managedFields, dry-run, finalizers, the
//! status subresource and watches, with the status codes and `Status` reasons of a real
//! apiserver.
//!
//! One concept per file: [`store`] (objects, the global resourceVersion, watch history),
//! [`routing`], [`discovery`], [`handlers`] (one file per verb family), [`strategy`] (what
//! every write goes through), [`apply`] + [`managed_fields`] + [`fieldset`] (server-side
//! apply), [`validation`] against the CRDs of [`crd`], [`selectors`], [`status`] (errors),
//! [`admission`] (calling admission webhooks), [`auth`] + [`rbac`] (bearer tokens and RBAC,
//! when enabled), [`server`] (HTTP, TestServer), and [`fixtures`] for tests that drive it
//! through kube-rs.
//! The `kube-testserver` binary serves it standalone.

pub mod admission;
pub mod apply;
pub mod auth;
pub mod crd;
pub mod discovery;
pub mod fieldset;
pub mod fixtures;
pub mod handlers;
pub mod managed_fields;
pub mod rbac;
pub mod resources;
pub mod routing;
pub mod selectors;
pub mod server;
pub mod status;
pub mod store;
pub mod strategy;
pub mod validation;

pub use server::{
    ApiServer, KubeTestError, ServerOptions, TestServer, bind, kubeconfig_yaml,
    kubeconfig_yaml_with_token,
};
