//! Authentication by bearer token, as the API server does it with its token authenticators:
//! the kubeconfig's token is a cluster administrator (group `system:masters`); tokens issued
//! for ServiceAccounts authenticate as `system:serviceaccount:<namespace>:<name>` while the
//! ServiceAccount object exists; a request without a token is `system:anonymous`; any other
//! token is refused with `401 Unauthorized`. Only consulted when RBAC is enabled.

use std::collections::HashMap;
use std::sync::Mutex;

use super::status::ApiError;
use super::store::State;

/// The token of the kubeconfig [`crate::kubeconfig_yaml`] writes.
pub const ADMIN_TOKEN: &str = "kubetest";

/// The groups every authenticated user has.
const AUTHENTICATED: &str = "system:authenticated";

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        }
    }

    fn admin() -> UserInfo {
        UserInfo {
            name: ADMIN_TOKEN.into(),
            groups: vec!["system:masters".into(), AUTHENTICATED.into()],
        }
    }

    fn service_account(namespace: &str, name: &str) -> UserInfo {
        UserInfo {
            name: service_account_user(namespace, name),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                AUTHENTICATED.into(),
            ],
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.groups.iter().any(|g| g == AUTHENTICATED)
    }
}

/// The user name of a ServiceAccount.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// Issued ServiceAccount tokens: token → (namespace, name).
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, (String, String)>>,
}

impl Tokens {
    /// A new token for the ServiceAccount `namespace/name` (as `kubectl create token` gives).
    pub fn issue(&self, namespace: &str, name: &str) -> String {
        let token = format!("sa-{}", uuid::Uuid::new_v4().simple());
        self.issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(token.clone(), (namespace.to_owned(), name.to_owned()));
        token
    }

    /// The user of an `Authorization` header's value.
    pub fn authenticate(
        &self,
        state: &State,
        authorization: Option<&str>,
    ) -> Result<UserInfo, ApiError> {
        let Some(header) = authorization else {
            return Ok(UserInfo::anonymous());
        };
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        if token == ADMIN_TOKEN {
            return Ok(UserInfo::admin());
        }
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (namespace, name) = issued.get(token).ok_or_else(ApiError::unauthorized)?;
        // A deleted ServiceAccount's tokens stop working.
        let key = (namespace.clone(), name.clone());
        if state.get("serviceaccounts", &key).is_none() {
            return Err(ApiError::unauthorized());
        }
        Ok(UserInfo::service_account(namespace, name))
    }
}
