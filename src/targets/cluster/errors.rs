//! Which cluster errors stop a publish (unreachable, unauthorized) and which belong to one
//! object (admission denials, schema errors, field-manager conflicts), quoting the cluster.

use crate::targets::TargetError;

/// What to do with a failed call about one object.
pub enum Failure {
    /// The object was refused: report it and carry on with the others.
    Object(String),
    /// The whole publish cannot go on.
    Abort(TargetError),
}

pub(crate) fn classify(error: kube::Error) -> Failure {
    let target = || "cluster".to_owned();
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
            401 => Failure::Abort(TargetError::Unauthorized {
                target: target(),
                message: status.message,
            }),
            429 | 500..=599 => Failure::Abort(TargetError::Unavailable {
                target: target(),
                message: format!("{} ({})", status.message, status.code),
            }),
            _ => Failure::Object(status.message),
        },
        kube::Error::Auth(e) => Failure::Abort(TargetError::Unauthorized {
            target: target(),
            message: e.to_string(),
        }),
        other => Failure::Abort(TargetError::Unavailable {
            target: target(),
            message: other.to_string(),
        }),
    }
}

/// For calls with no object to blame (lists, health): every failure aborts.
pub(crate) fn abort(error: kube::Error) -> TargetError {
    match classify(error) {
        Failure::Abort(e) => e,
        Failure::Object(message) => TargetError::Other {
            target: "cluster".into(),
            message,
        },
    }
}
