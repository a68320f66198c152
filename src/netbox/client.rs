//! The HTTP core of the NetBox client: authentication, TLS, a bound on requests in flight,
//! retries with backoff, and NetBox's error bodies turned into [`NetBoxError`].
//!
//! Paths are relative to `/api/` and end with a slash (`dcim/devices/`), as NetBox's routes do.

use std::error::Error as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::error::{ClientConfigError, ErrorResponse, NetBoxError, parse_error_body};
use super::token::authorization_header;
use crate::config::{NetBoxSettings, resolve_secret};

/// Everything needed to talk to one NetBox.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// NetBox's base URL (`https://netbox.example`), without `/api`.
    pub url: String,
    pub token: SecretString,
    pub verify_tls: bool,
    /// Extra CA certificates (PEM bundle) trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    /// Objects per page when reading.
    pub page_size: usize,
    /// Requests in flight at once, across all callers of this client.
    pub concurrency: usize,
    /// Further attempts after a retryable failure (429, 5xx, connection errors).
    pub max_retries: u32,
}

impl ClientOptions {
    /// Options from the `[netbox]` settings; the token file wins over an inline token.
    pub fn from_settings(settings: &NetBoxSettings) -> Result<Self, NetBoxError> {
        let url = settings
            .url
            .clone()
            .ok_or_else(|| NetBoxError::from(ClientConfigError::NoUrl))?;
        let token = resolve_secret(
            "netbox.token",
            settings.token.as_ref(),
            settings.token_file.as_deref(),
        )
        .map_err(ClientConfigError::Secret)?
        .ok_or_else(|| NetBoxError::from(ClientConfigError::NoToken))?;
        Ok(Self {
            url,
            token,
            verify_tls: settings.verify_tls,
            ca_file: settings.ca_file.clone(),
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            page_size: settings.page_size.clamp(1, 1000),
            concurrency: settings.concurrency.max(1),
            max_retries: settings.max_retries,
        })
    }
}

/// A cheap-to-clone handle on one NetBox.
#[derive(Clone)]
pub struct NetBoxClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    auth: HeaderValue,
    page_size: usize,
    concurrency: usize,
    in_flight: Semaphore,
    backoff: ExponentialBuilder,
    /// Requests sent (each attempt counts), for the costs the benches report.
    sent: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for NetBoxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetBoxClient")
            .field("api", &self.inner.api_base.as_str())
            .finish_non_exhaustive()
    }
}

/// A successful answer.
pub(crate) struct Reply {
    pub body: Bytes,
}

impl NetBoxClient {
    pub fn new(options: ClientOptions) -> Result<Self, NetBoxError> {
        let base = format!("{}/api/", options.url.trim_end_matches('/'));
        let api_base = Url::parse(&base).map_err(|source| ClientConfigError::Url {
            url: options.url.clone(),
            source,
        })?;
        if !matches!(api_base.scheme(), "http" | "https") {
            return Err(ClientConfigError::Scheme(options.url.clone()).into());
        }
        if !options.verify_tls {
            tracing::warn!(
                url = %options.url,
                "netbox.verify_tls = false: NetBox's certificate is not checked, so anyone on \
                 the path can read the token and change what the sidecar renders"
            );
        }
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            // NetBox's usual server, gunicorn, closes idle keep-alive connections after 2 s.
            // A request sent on such a connection as it closes gets "connection reset"; not
            // keeping idle connections that long avoids the race.
            .pool_idle_timeout(Duration::from_secs(1))
            .user_agent(concat!("hedgehog-sidecar/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!options.verify_tls);
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|source| ClientConfigError::CaFile {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                ClientConfigError::CaCertificates {
                    path: path.clone(),
                    source,
                }
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(ClientConfigError::HttpClient)?;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(options.max_retries as usize)
            .with_jitter();
        let concurrency = options.concurrency.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base,
                auth: authorization_header(&options.token)?,
                page_size: options.page_size.clamp(1, 1000),
                concurrency,
                in_flight: Semaphore::new(concurrency),
                backoff,
                sent: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// A client for the `[netbox]` settings.
    pub fn from_settings(settings: &NetBoxSettings) -> Result<Self, NetBoxError> {
        Self::new(ClientOptions::from_settings(settings)?)
    }

    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// Requests this client and its clones have sent so far (each retry counts).
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The absolute URL of an API path with query parameters.
    pub fn url(&self, path: &str, query: &[(String, String)]) -> Result<Url, NetBoxError> {
        let mut url = self
            .inner
            .api_base
            .join(path.trim_start_matches('/'))
            .map_err(|source| ClientConfigError::ApiPath {
                path: path.to_owned(),
                source,
            })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// GET a path and decode the JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, NetBoxError> {
        let url = self.url(path, query)?;
        let reply = self.execute(Method::GET, url, None).await?;
        decode(path, &reply.body)
    }

    /// POST a JSON body (an object, or a list for a bulk create) and decode the answer.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, NetBoxError> {
        self.write(Method::POST, path, body).await
    }

    /// PATCH a JSON body (one object on its detail path, or a list of `{id, ...}` on the list path).
    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, NetBoxError> {
        self.write(Method::PATCH, path, body).await
    }

    /// DELETE a detail path (`body` = None) or a list of `{"id": N}` on the list path.
    pub async fn delete<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), NetBoxError> {
        let url = self.url(path, &[])?;
        let body = body.map(|b| encode(path, b)).transpose()?;
        self.execute(Method::DELETE, url, body).await.map(|_| ())
    }

    async fn write<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, NetBoxError> {
        // Never `?fields=` on writes: NetBox applies it to validation too (see the facts file).
        let url = self.url(path, &[])?;
        let body = encode(path, body)?;
        let reply = self.execute(method, url, Some(body)).await?;
        decode(path, &reply.body)
    }

    /// Sends one request with retries on 429, 5xx and connection errors.
    pub(crate) async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Reply, NetBoxError> {
        let attempt = || async {
            let started = std::time::Instant::now();
            let result = self
                .attempt(method.clone(), url.clone(), body.clone())
                .await;
            super::metrics::record_attempt(&method, started.elapsed(), &result);
            result
        };
        attempt
            .retry(self.inner.backoff)
            .sleep(tokio::time::sleep)
            .when(|error| may_retry(&method, error))
            .adjust(|error, delay| {
                // Honour NetBox's (or a proxy's) Retry-After when it asks for longer.
                let asked = match error {
                    NetBoxError::Api(api) => api.retry_after.map(Duration::from_secs),
                    _ => None,
                };
                delay.map(|d| asked.map_or(d, |a| a.min(Duration::from_secs(60)).max(d)))
            })
            .notify(|error, delay| {
                super::metrics::record_retry(&method);
                tracing::warn!(%method, path = url.path(), ?delay, %error, "retrying NetBox request");
            })
            .await
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Reply, NetBoxError> {
        let _permit = self
            .inner
            .in_flight
            .acquire()
            .await
            .map_err(|_| ClientConfigError::ShutDown)?;
        self.inner
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let started = std::time::Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| unreachable_error(&url, &e, !e.is_connect()))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable_error(&url, &e, true))?;
        log_reply(
            &method,
            &url,
            status,
            request_id.as_deref(),
            body.len(),
            started,
        );
        if status.is_success() {
            return Ok(Reply { body });
        }
        Err(error_reply(
            &method,
            url.path(),
            status,
            request_id,
            retry_after,
            &body,
        ))
    }
}

/// A write at INFO (with NetBox's request id), a read at DEBUG (with its size and time).
fn log_reply(
    method: &Method,
    url: &Url,
    status: StatusCode,
    request_id: Option<&str>,
    bytes: usize,
    started: std::time::Instant,
) {
    let path = url.path();
    if method != Method::GET {
        tracing::info!(%method, path, status = status.as_u16(), request_id = request_id.unwrap_or("-"), "NetBox write");
    } else {
        tracing::debug!(
            path,
            query = url.query().unwrap_or_default(),
            status = status.as_u16(),
            bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "NetBox read"
        );
    }
}

/// The error of a reply NetBox refused: an authentication error for 401 and 403, else the
/// reply's detail and field errors.
fn error_reply(
    method: &Method,
    path: &str,
    status: StatusCode,
    request_id: Option<String>,
    retry_after: Option<u64>,
    body: &[u8],
) -> NetBoxError {
    let (detail, field_errors) = parse_error_body(body);
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return NetBoxError::Auth {
            method: method.to_string(),
            path: path.to_owned(),
            status: status.as_u16(),
            detail: detail.unwrap_or_default(),
        };
    }
    NetBoxError::Api(Box::new(ErrorResponse {
        method: method.to_string(),
        path: path.to_owned(),
        status: status.as_u16(),
        request_id,
        detail,
        field_errors,
        retry_after,
    }))
}

/// Whether a failed request may be sent again. GET, PUT and PATCH may always be repeated:
/// NetBox's PATCH sets fields to the values sent, so a second one leaves the same object. A
/// POST or DELETE is repeated only when NetBox certainly did not act on it.
fn may_retry(method: &Method, error: &NetBoxError) -> bool {
    if matches!(*method, Method::GET | Method::PUT | Method::PATCH) {
        error.is_retryable()
    } else {
        error.is_retryable_write()
    }
}

fn unreachable_error(url: &Url, error: &reqwest::Error, sent: bool) -> NetBoxError {
    // reqwest's top-level message is generic; the cause chain says what actually failed.
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let mut origin = url.clone();
    origin.set_path("");
    origin.set_query(None);
    NetBoxError::Unreachable {
        url: origin.to_string(),
        message,
        sent,
    }
}

fn encode<B: Serialize + ?Sized>(path: &str, body: &B) -> Result<Bytes, NetBoxError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| NetBoxError::Decode {
            path: path.to_owned(),
            message: format!("cannot encode the request body: {e}"),
        })
}

pub(crate) fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, NetBoxError> {
    serde_json::from_slice(body).map_err(|e| NetBoxError::Decode {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NetBoxSettings {
        NetBoxSettings {
            url: Some("https://netbox.example/".into()),
            token: Some(SecretString::from("nbt_abc.def".to_owned())),
            ..NetBoxSettings::default()
        }
    }

    #[test]
    fn a_connection_lost_after_sending_is_retried_only_for_repeatable_methods() {
        let lost = NetBoxError::Unreachable {
            url: "http://nb/".into(),
            message: "connection reset by peer".into(),
            sent: true,
        };
        for method in [Method::GET, Method::PUT, Method::PATCH] {
            assert!(may_retry(&method, &lost), "{method} is repeatable");
        }
        for method in [Method::POST, Method::DELETE] {
            assert!(!may_retry(&method, &lost), "{method} may have been applied");
        }
    }

    #[test]
    fn builds_api_urls_with_query() {
        let client = NetBoxClient::from_settings(&settings()).unwrap();
        let url = client
            .url(
                "dcim/devices/",
                &[("cf_hedgehog_fabric".into(), "lab 1".into())],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://netbox.example/api/dcim/devices/?cf_hedgehog_fabric=lab+1"
        );
        assert!(!format!("{client:?}").contains("nbt_abc"));
    }

    #[test]
    fn token_file_wins_and_missing_settings_are_named() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "0123456789abcdef\n").unwrap();
        let mut from_file = settings();
        from_file.token_file = Some(file.path().to_owned());
        assert!(NetBoxClient::from_settings(&from_file).is_ok());

        let mut no_url = settings();
        no_url.url = None;
        let error = NetBoxClient::from_settings(&no_url)
            .unwrap_err()
            .to_string();
        assert!(error.contains("netbox.url"), "{error}");
        let mut no_token = settings();
        no_token.token = None;
        let error = NetBoxClient::from_settings(&no_token)
            .unwrap_err()
            .to_string();
        assert!(error.contains("netbox.token"), "{error}");
    }

    #[test]
    fn ca_file_is_loaded_and_a_bad_one_is_a_config_error() {
        let mut with_ca = settings();
        with_ca.ca_file = Some("/etc/ssl/certs/ca-certificates.crt".into());
        NetBoxClient::from_settings(&with_ca).unwrap();

        let not_pem = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            not_pem.path(),
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for path in [not_pem.path().to_owned(), "/nonexistent/ca.pem".into()] {
            let mut bad = settings();
            bad.ca_file = Some(path);
            let error = NetBoxClient::from_settings(&bad).unwrap_err();
            assert!(matches!(error, NetBoxError::Config(_)), "{error:?}");
            assert!(error.to_string().contains("netbox.ca_file"), "{error}");
        }
    }
}
