//! The Kubernetes client of a fabric: its kubeconfig file and context, or the in-cluster
//! service account when no kubeconfig is configured.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::targets::TargetError;

fn config_error(message: String) -> TargetError {
    TargetError::Config {
        target: "cluster".into(),
        message,
    }
}

/// Builds a client; `context` picks a kubeconfig context (the current one when `None`).
pub async fn client(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Client, TargetError> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| {
                config_error(format!("cannot read kubeconfig {}: {e}", path.display()))
            })?;
            let options = KubeConfigOptions {
                context: context.map(str::to_owned),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| {
                    config_error(format!("kubeconfig {} is unusable: {e}", path.display()))
                })?
        }
        None => kube::Config::incluster().map_err(|e| {
            config_error(format!(
                "no kubeconfig configured and no in-cluster service account: {e}"
            ))
        })?,
    };
    kube::Client::try_from(config).map_err(|e| config_error(format!("cannot build a client: {e}")))
}
