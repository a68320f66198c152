//! Request handling, one file per verb family: reads (get, list), watch, writes (create,
//! update, patch, apply) and deletes.

mod delete;
mod read;
mod table;
mod watch;
mod write;

use std::collections::HashMap;

use actix_web::web::Bytes;
use serde_json::Value;

use super::auth::UserInfo;
use super::routing::Target;
use super::server::ApiServer;
use super::status::ApiError;
use super::store::State;

pub use watch::WatchStream;
pub use write::now;

/// An API request, decoded from HTTP.
pub struct Request {
    pub method: String,
    pub target: Target,
    pub query: HashMap<String, String>,
    pub content_type: String,
    pub accept: String,
    pub user_agent: Option<String>,
    pub body: Bytes,
    /// Who asks, when RBAC is enabled (writes that create check `create` too).
    pub user: Option<UserInfo>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }

    /// The namespace part of the store key ("" for cluster-scoped objects).
    pub fn namespace(&self) -> String {
        self.target.namespace.clone().unwrap_or_default()
    }

    /// `dryRun=All` (the only value the apiserver accepts).
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.query.get("dryRun").map(String::as_str) {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {other:?}: supported values: \"All\""
            ))),
        }
    }

    /// Whether the client asked for `meta.k8s.io` Tables (kubectl get).
    pub fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }
}

/// What a handler answers.
pub enum Reply {
    Json {
        code: u16,
        body: Value,
        warnings: Vec<String>,
    },
    Watch(WatchStream),
    /// A non-JSON body (the protobuf OpenAPI v2 document).
    Raw {
        content_type: &'static str,
        body: Vec<u8>,
    },
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply::Json {
            code: 200,
            body,
            warnings: vec![],
        }
    }
}

pub fn handle(server: &ApiServer, request: Request) -> Result<Reply, ApiError> {
    let has_name = request.target.name.is_some();
    if request.target.resource.read_only && request.method != "GET" {
        return Err(ApiError::method_not_allowed());
    }
    let is_status = request.target.subresource.is_some();
    match (request.method.as_str(), has_name) {
        ("GET", false) if request.flag("watch") => watch::watch(server, &request),
        ("GET", false) => read::list(server, &request),
        ("GET", true) => read::get(server, &request),
        ("POST", false) => write::create(server, &request),
        ("PUT", true) => write::update(server, &request),
        ("PATCH", true) => write::patch(server, &request),
        ("DELETE", true) if !is_status => delete::delete(server, &request),
        ("DELETE", false) => delete::delete_collection(server, &request),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Fails with `404 namespaces "x" not found` unless the request's namespace exists.
fn require_namespace(server: &ApiServer, state: &State, request: &Request) -> Result<(), ApiError> {
    let Some(namespace) = &request.target.namespace else {
        return Ok(());
    };
    if state
        .get("namespaces", &(String::new(), namespace.clone()))
        .is_some()
    {
        Ok(())
    } else {
        let namespaces = server
            .registry
            .find("", "v1", "namespaces")
            .ok_or_else(|| ApiError::internal("namespaces are not served"))?;
        Err(ApiError::not_found(&namespaces, namespace))
    }
}

/// The object's store key from the request.
fn object_key(request: &Request) -> (String, String) {
    (
        request.namespace(),
        request.target.name.clone().unwrap_or_default(),
    )
}
