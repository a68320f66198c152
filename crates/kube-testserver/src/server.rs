//! The HTTP side: an actix-web server that routes every path to discovery or to the resource
//! handlers, and [`TestServer`], the in-process handle tests use (port 0, kubeconfig, client).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::auth::{ADMIN_TOKEN, Tokens, UserInfo};
use super::discovery;
use super::handlers::{self, Reply, Request};
use super::rbac;
use super::resources::Registry;
use super::routing::{Route, Target, route};
use super::status::ApiError;
use super::store::Store;
use crate::crd::{CrdError, CrdSet};

#[derive(Debug, thiserror::Error)]
pub enum KubeTestError {
    #[error(transparent)]
    Crds(#[from] CrdError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot read the test server's kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error("cannot build a Kubernetes client for the test server: {0}")]
    Client(#[source] kube::Error),
}

/// Knobs of the test server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How many changes watches can resume from; older resourceVersions get 410 Expired.
    pub history_limit: usize,
    /// How often watches that allow bookmarks get one (the apiserver sends about one a minute).
    pub bookmark_interval: Duration,
    /// Authenticate bearer tokens and authorize with RBAC ([`crate::auth`], [`crate::rbac`]).
    /// Off by default: every request may do anything. [`TestServer::enable_rbac`] turns it on
    /// later, e.g. once a test has seeded the cluster.
    pub rbac: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(60),
            rbac: false,
        }
    }
}

/// The API server's state: served types, stored objects and options.
pub struct ApiServer {
    pub registry: Registry,
    pub store: Store,
    pub options: ServerOptions,
    /// ServiceAccount tokens issued by [`TestServer::service_account_token`].
    pub tokens: Tokens,
    rbac: AtomicBool,
    address: OnceLock<String>,
}

impl ApiServer {
    pub fn new(crds: CrdSet, options: ServerOptions) -> ApiServer {
        let server = ApiServer {
            registry: Registry::new(crds),
            store: Store::new(options.history_limit),
            rbac: AtomicBool::new(options.rbac),
            options,
            tokens: Tokens::default(),
            address: OnceLock::new(),
        };
        server.seed_namespaces();
        server
    }

    /// `default`, `kube-system` and `kube-public` exist in every cluster.
    fn seed_namespaces(&self) {
        let mut state = self.store.lock();
        for name in ["default", "kube-public", "kube-system"] {
            let rv = state.next_resource_version();
            let namespace = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": uuid::Uuid::new_v4().to_string(),
                    "resourceVersion": rv.to_string(),
                    "creationTimestamp": handlers::now(),
                    "labels": {"kubernetes.io/metadata.name": name},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            state.put(
                "namespaces",
                (String::new(), name.to_owned()),
                namespace,
                rv,
            );
        }
        // The CRDs are served (read-only) as the apiextensions objects they are.
        let mut seen = std::collections::BTreeSet::new();
        for definition in &self.registry.crds.definitions {
            if !seen.insert(definition.name.clone()) {
                continue;
            }
            let mut document = definition.document.clone();
            let rv = state.next_resource_version();
            document["metadata"]["uid"] = serde_json::json!(uuid::Uuid::new_v4().to_string());
            document["metadata"]["resourceVersion"] = serde_json::json!(rv.to_string());
            document["metadata"]["creationTimestamp"] = serde_json::json!(handlers::now());
            document["metadata"]["generation"] = serde_json::json!(1);
            state.put(
                "customresourcedefinitions.apiextensions.k8s.io",
                (String::new(), definition.name.clone()),
                document,
                rv,
            );
        }
    }

    /// Turns authentication and RBAC authorization on or off.
    pub fn set_rbac(&self, enabled: bool) {
        self.rbac.store(enabled, Ordering::SeqCst);
    }

    /// The requester, when RBAC is on.
    fn authenticate(&self, http: &HttpRequest) -> Result<Option<UserInfo>, ApiError> {
        if !self.rbac.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let header = http
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let state = self.store.lock();
        self.tokens.authenticate(&state, header).map(Some)
    }

    fn authorize(&self, request: &Request) -> Result<(), ApiError> {
        let Some(user) = &request.user else {
            return Ok(());
        };
        let attributes = rbac::Attributes {
            verb: rbac::verb(request),
            target: &request.target,
        };
        rbac::authorize(&self.store.lock(), user, &attributes)
    }

    fn handle(&self, http: &HttpRequest, body: web::Bytes) -> Result<Handled, ApiError> {
        let method = http.method().as_str().to_owned();
        let user = self.authenticate(http)?;
        let route = route(&self.registry, http.path())?;
        if let Some(user) = &user
            && !matches!(route, Route::Resource(_))
        {
            rbac::authorize_path(user, &route, http.path())?;
        }
        let read_only = |body: Value| {
            if method == "GET" {
                Ok(Reply::Json {
                    code: 200,
                    body,
                    warnings: vec![],
                })
            } else {
                Err(ApiError::method_not_allowed())
            }
        };
        let accept = http
            .headers()
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        match route {
            Route::CoreVersions | Route::Groups
                if method == "GET" && discovery::wants_aggregated(&accept) =>
            {
                let document =
                    discovery::aggregated(&self.registry, matches!(route, Route::CoreVersions));
                Ok(Reply::Raw {
                    content_type: discovery::AGGREGATED,
                    body: serde_json::to_vec(&document).unwrap_or_default(),
                })
            }
            Route::Version => read_only(discovery::version()),
            Route::Health => read_only(Value::String("ok".into())),
            Route::CoreVersions => read_only(discovery::core_versions(
                self.address.get().map(String::as_str).unwrap_or(""),
            )),
            Route::CoreResources => read_only(discovery::resources(&self.registry, "", "v1")),
            Route::Groups => read_only(discovery::groups(&self.registry)),
            Route::Group(group) => read_only(discovery::group(&self.registry, &group)),
            Route::GroupResources(group, version) => {
                read_only(discovery::resources(&self.registry, &group, &version))
            }
            Route::OpenApiV3 => read_only(discovery::openapi_v3_index(&self.registry)),
            Route::OpenApiV3GroupVersion(group, version) => read_only(
                discovery::openapi_v3_document(&self.registry, &group, &version),
            ),
            Route::OpenApiV2 => {
                if accept.contains("protobuf") {
                    // client-go only reads v2 as protobuf; an empty document (no definitions)
                    // makes kubectl leave validation to the server, whose v3 documents
                    // declare fieldValidation support.
                    Ok(Reply::Raw {
                        content_type: discovery::OPENAPI_V2_PROTOBUF,
                        body: discovery::openapi_v2_protobuf(),
                    })
                } else {
                    read_only(discovery::openapi_v2(&self.registry))
                }
            }
            Route::Resource(target) => {
                let request = resource_request(http, method, target, body, user)?;
                self.authorize(&request)?;
                return Ok(Handled::Resource(request));
            }
        }
        .map(Handled::Reply)
    }
}

/// A request answered at once, or a resource request still to run.
enum Handled {
    Reply(Reply),
    Resource(Request),
}

/// A request for a resource: the verb's inputs read from the HTTP request.
fn resource_request(
    http: &HttpRequest,
    method: String,
    target: Target,
    body: web::Bytes,
    user: Option<UserInfo>,
) -> Result<Request, ApiError> {
    let header = |name: &str| {
        http.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let query: HashMap<String, String> =
        web::Query::<Vec<(String, String)>>::from_query(http.query_string())
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?
            .into_inner()
            .into_iter()
            .collect();
    Ok(Request {
        method,
        target,
        query,
        content_type: header("content-type").unwrap_or_default(),
        accept: header("accept").unwrap_or_default(),
        user_agent: header("user-agent"),
        body,
        user,
    })
}

async fn entry(http: HttpRequest, body: web::Bytes, server: web::Data<ApiServer>) -> HttpResponse {
    let result = match server.handle(&http, body) {
        Ok(Handled::Reply(reply)) => Ok(reply),
        // Reads and watches call no webhook: they stay on the worker.
        Ok(Handled::Resource(request)) if request.method == "GET" => {
            handlers::handle(&server, request)
        }
        // A write may call admission webhooks, which may call back into this server over a
        // connection that is pinned to this HTTP worker: the request runs on a blocking thread,
        // so the worker keeps serving while the webhook answers.
        Ok(Handled::Resource(request)) => {
            let server = server.clone();
            web::block(move || handlers::handle(&server, request))
                .await
                .unwrap_or_else(|error| Err(ApiError::internal(error.to_string())))
        }
        Err(error) => Err(error),
    };
    let code = match &result {
        Ok(Reply::Json { code, .. }) => *code,
        Ok(Reply::Watch(_) | Reply::Raw { .. }) => 200,
        Err(error) => error.code,
    };
    tracing::debug!(method = %http.method(), path = %http.path(), query = %http.query_string(), code, "kube-testserver request");
    match result {
        Ok(Reply::Json {
            code,
            body,
            warnings,
        }) => {
            let mut response =
                HttpResponse::build(StatusCode::from_u16(code).unwrap_or(StatusCode::OK));
            for warning in warnings {
                response.append_header(("Warning", format!("299 - {warning:?}")));
            }
            response.content_type("application/json").json(body)
        }
        Ok(Reply::Raw { content_type, body }) => {
            HttpResponse::Ok().content_type(content_type).body(body)
        }
        Ok(Reply::Watch(stream)) => HttpResponse::Ok()
            .content_type("application/json")
            .streaming(stream),
        Err(error) => HttpResponse::build(
            StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("application/json")
        .json(error.to_status()),
    }
}

/// Binds the HTTP server; the returned future runs it until stopped through the handle.
pub fn bind(
    api: Arc<ApiServer>,
    address: &str,
) -> Result<(actix_web::dev::Server, SocketAddr), KubeTestError> {
    let data = web::Data::from(api.clone());
    let http = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .default_service(web::to(entry))
    })
    .workers(4)
    .disable_signals()
    .bind(address)
    .map_err(|source| KubeTestError::Bind {
        address: address.to_owned(),
        source,
    })?;
    let local = http
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| KubeTestError::Bind {
            address: address.to_owned(),
            source: std::io::Error::other("no address bound"),
        })?;
    let _ = api.address.set(local.to_string());
    Ok((http.run(), local))
}

/// A running test server (in-process). Dropping it without [`TestServer::shutdown`] leaves
/// the server running until the runtime ends.
pub struct TestServer {
    api: Arc<ApiServer>,
    url: String,
    handle: ServerHandle,
}

impl TestServer {
    /// Serves the CRDs of `crds_dir` on `127.0.0.1` with a free port.
    pub async fn start(crds_dir: &Path) -> Result<TestServer, KubeTestError> {
        TestServer::start_with(CrdSet::load_dir(crds_dir)?, ServerOptions::default()).await
    }

    pub async fn start_with(
        crds: CrdSet,
        options: ServerOptions,
    ) -> Result<TestServer, KubeTestError> {
        let api = Arc::new(ApiServer::new(crds, options));
        let (server, address) = bind(api.clone(), "127.0.0.1:0")?;
        let handle = server.handle();
        tokio::spawn(server);
        Ok(TestServer {
            api,
            url: format!("http://{address}"),
            handle,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's state, for tests that inspect or provoke things directly.
    pub fn api(&self) -> &ApiServer {
        &self.api
    }

    /// Forgets the change history, as an etcd compaction does: watches from older
    /// resourceVersions now get 410 Expired.
    pub fn compact(&self) {
        self.api.store.lock().compact();
    }

    /// Waits until at least `count` watches are open, for at most `limit`; whether they are.
    pub async fn wait_for_watchers(&self, count: usize, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.api.store.lock().watchers() < count {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// A kubeconfig with one context, `kubetest`, pointing at this server.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig_yaml(&self.url)
    }

    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// Turns on bearer-token authentication and RBAC authorization: from now on the
    /// kubeconfig's token is a cluster administrator, ServiceAccount tokens are what their
    /// Roles and ClusterRoles grant, and requests without a token are `system:anonymous`.
    pub fn enable_rbac(&self) {
        self.api.set_rbac(true);
    }

    /// A token authenticating as the ServiceAccount `namespace/name` (valid while the
    /// ServiceAccount exists).
    pub fn service_account_token(&self, namespace: &str, name: &str) -> String {
        self.api.tokens.issue(namespace, name)
    }

    /// A kubeconfig for this server that authenticates with `token`.
    pub fn kubeconfig_yaml_with_token(&self, token: &str) -> String {
        kubeconfig_yaml_with_token(&self.url, token)
    }

    /// A kube-rs client for this server, as its administrator.
    pub async fn client(&self) -> Result<kube::Client, KubeTestError> {
        self.client_with_token(ADMIN_TOKEN).await
    }

    /// A kube-rs client for this server that authenticates with `token`.
    pub async fn client_with_token(&self, token: &str) -> Result<kube::Client, KubeTestError> {
        let kubeconfig =
            kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml_with_token(token))
                .map_err(KubeTestError::Kubeconfig)?;
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .map_err(KubeTestError::Kubeconfig)?;
        kube::Client::try_from(config).map_err(KubeTestError::Client)
    }

    /// Stops the server (open watches are cut).
    pub async fn shutdown(self) {
        self.handle.stop(false).await;
    }
}

/// The kubeconfig YAML of a server at `url` (context, cluster and user named `kubetest`).
pub fn kubeconfig_yaml(url: &str) -> String {
    kubeconfig_yaml_with_token(url, ADMIN_TOKEN)
}

/// Like [`kubeconfig_yaml`], authenticating with `token`.
pub fn kubeconfig_yaml_with_token(url: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubetest\n  cluster:\n    server: {url}\n\
         contexts:\n- name: kubetest\n  context:\n    cluster: kubetest\n    user: kubetest\n    namespace: default\n\
         current-context: kubetest\nusers:\n- name: kubetest\n  user:\n    token: {token}\n"
    )
}
