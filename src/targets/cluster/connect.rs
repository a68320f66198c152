//! The Kubernetes client of a fabric: its kubeconfig file and context, or the in-cluster
//! service account when no kubeconfig is configured.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::config::{InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::targets::TargetError;

/// Why a fabric's cluster client cannot be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: Arc<KubeconfigError>,
    },
    #[error("kubeconfig {} is unusable: {source}", path.display())]
    Unusable {
        path: PathBuf,
        #[source]
        source: Arc<KubeconfigError>,
    },
    #[error("no kubeconfig configured and no in-cluster service account: {0}")]
    NoServiceAccount(#[source] Arc<InClusterError>),
    #[error("cannot build a client: {0}")]
    Client(#[source] Arc<kube::Error>),
}

/// Builds a client; `context` picks a kubeconfig context (the current one when `None`).
pub async fn client(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Client, TargetError> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| ConnectError::Read {
                path: path.to_owned(),
                source: Arc::new(e),
            })?;
            let options = KubeConfigOptions {
                context: context.map(str::to_owned),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| ConnectError::Unusable {
                    path: path.to_owned(),
                    source: Arc::new(e),
                })?
        }
        None => {
            kube::Config::incluster().map_err(|e| ConnectError::NoServiceAccount(Arc::new(e)))?
        }
    };
    let client = kube::Client::try_from(config).map_err(|e| ConnectError::Client(Arc::new(e)))?;
    Ok(client)
}
