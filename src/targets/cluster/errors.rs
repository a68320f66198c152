//! Which cluster errors stop a publish (unreachable, unauthorized) and which belong to one
//! object (admission denials, schema errors, field-manager conflicts), quoting the cluster.

use std::sync::Arc;

use crate::targets::TargetError;

/// What to do with a failed call about one object.
pub enum Failure {
    /// The object was refused, in the API server's words: report it and carry on with the
    /// others.
    Object(String),
    /// The whole publish cannot go on.
    Abort(TargetError),
}

pub(crate) fn classify(error: kube::Error) -> Failure {
    match error {
        // The apiserver answers 500 when an applied object has fields its schema does not
        // declare: that is this object's fault, and retrying cannot help.
        kube::Error::Api(status)
            if status
                .message
                .starts_with("failed to create typed patch object") =>
        {
            Failure::Object(status.message)
        }
        kube::Error::Api(status) => match status.code {
            401 => Failure::Abort(TargetError::ClusterUnauthorized(Arc::new(
                kube::Error::Api(status),
            ))),
            429 | 500..=599 => Failure::Abort(TargetError::ClusterUnavailable(Arc::new(
                kube::Error::Api(status),
            ))),
            _ => Failure::Object(status.message),
        },
        error @ kube::Error::Auth(_) => {
            Failure::Abort(TargetError::ClusterUnauthorized(Arc::new(error)))
        }
        other => Failure::Abort(TargetError::ClusterUnavailable(Arc::new(other))),
    }
}

/// For calls with no object to blame (lists, health): every failure aborts.
pub(crate) fn abort(error: kube::Error) -> TargetError {
    match classify(error) {
        Failure::Abort(e) => e,
        Failure::Object(message) => TargetError::ClusterRefused(message),
    }
}

/// A cluster error as the target's messages quote it: the API server's own words (with the
/// status code when it failed), else the client's error.
pub(crate) fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if status.code == 401 => status.message.clone(),
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}
