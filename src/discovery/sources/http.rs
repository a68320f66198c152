//! The HTTP connection the host sources share: TLS verified unless the source's table opts out,
//! an extra CA file, a timeout, a credential header marked sensitive, and JSON reads whose
//! failures name the URL and the status, never the credential.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::HostSourceSettings;
use crate::discovery::source::SourceError;

/// Why one read failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("GET {url}: {status}{}", detail(.message))]
    Status {
        url: String,
        status: reqwest::StatusCode,
        /// What the server said, when it said something short.
        message: Option<String>,
    },
    #[error("GET {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url}: still more after {pages} pages")]
    TooManyPages { url: String, pages: usize },
    #[error("GET {url}: the answer is not the documented shape: {source}")]
    Shape {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

fn detail(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}

/// An HTTP client for one source instance.
#[derive(Clone)]
pub struct SourceHttp {
    client: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
}

impl SourceHttp {
    /// A client for `settings`, sending `authorization` (made from the credential) on every
    /// request. `key` names the table in errors (`discovery.proxmox[0]`).
    pub fn new(
        key: &str,
        settings: &HostSourceSettings,
        authorization: &str,
    ) -> Result<SourceHttp, String> {
        let base = Url::parse(&settings.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| format!("{key}.url: `{}` is not an http(s) URL", settings.url))?;
        let mut authorization = HeaderValue::from_str(authorization)
            .map_err(|_| format!("{key}: the credential holds characters a header cannot"))?;
        authorization.set_sensitive(true);
        if !settings.verify_tls {
            tracing::warn!(source = key, url = %base,
                "verify_tls = false: the server's certificate is not checked");
        }
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // The WebSocket upgrade (Home Assistant) is an HTTP/1.1 mechanism.
            .http1_only()
            .user_agent(concat!("hedgehog-sidecar/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!settings.verify_tls);
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("{key}.ca_file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{key}.ca_file {}: {e}", path.display()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(|e| format!("{key}: {e}"))?;
        Ok(SourceHttp {
            client,
            base,
            authorization,
        })
    }

    /// `path` (`api2/json/nodes`) under the base URL, keeping the base's own path.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// GETs `path` with `query` and decodes the JSON answer as `T`. A status other than 2xx
    /// is an error carrying the server's short message, if any.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, FetchError> {
        let mut url = self.url(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let shown = url.to_string();
        let transport = |source| FetchError::Transport {
            url: shown.clone(),
            source,
        };
        let response = self
            .client
            .get(url)
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown,
                status,
                message: short_message(&body),
            });
        }
        serde_json::from_slice(&body).map_err(|source| FetchError::Shape { url: shown, source })
    }
}

/// The server's explanation of a failure: a JSON `message` (Proxmox, TrueNAS, Home
/// Assistant) or a short text body.
fn short_message(body: &[u8]) -> Option<String> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = match json {
        Some(value) => value
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_owned)?,
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let text = text.trim();
    (!text.is_empty() && text.len() <= 300).then(|| text.to_owned())
}

/// A [`SourceError`] of source `name`.
pub fn source_error(name: &str, message: impl ToString) -> SourceError {
    SourceError {
        source_name: name.to_owned(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> HostSourceSettings {
        serde_json::from_value(serde_json::json!({"name": "t", "url": url})).unwrap()
    }

    #[test]
    fn paths_join_under_the_base_path() {
        let http = SourceHttp::new("k", &settings("https://h:8006/"), "x").unwrap();
        assert_eq!(
            http.url("api2/json/nodes").as_str(),
            "https://h:8006/api2/json/nodes"
        );
        let http = SourceHttp::new("k", &settings("https://h/nas"), "x").unwrap();
        assert_eq!(
            http.url("/api/v2.0/pool").as_str(),
            "https://h/nas/api/v2.0/pool"
        );
    }

    #[test]
    fn a_bad_url_or_ca_file_names_the_setting() {
        let err = SourceHttp::new("discovery.truenas[0]", &settings("nas:80"), "x")
            .err()
            .unwrap();
        assert!(err.starts_with("discovery.truenas[0].url"), "{err}");
        let mut bad_ca = settings("https://h");
        bad_ca.ca_file = Some("/nonexistent/ca.pem".into());
        let err = SourceHttp::new("k", &bad_ca, "x").err().unwrap();
        assert!(err.starts_with("k.ca_file"), "{err}");
    }

    #[test]
    fn failure_messages_are_short_and_taken_from_json_when_there() {
        assert_eq!(
            short_message(br#"{"data":null,"message":"QEMU guest agent is not running\n"}"#)
                .as_deref(),
            Some("QEMU guest agent is not running")
        );
        assert_eq!(
            short_message(b"Unauthorized").as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(short_message(&[b'x'; 400]), None);
    }
}
