//! A client of a running sidecar's `/api/v1`, for commands that must not open what `serve`
//! holds (the embedded queue's file is locked while it runs).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::{Settings, resolve_secret};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SidecarApi {
    base: String,
    token: SecretString,
    client: reqwest::Client,
}

impl SidecarApi {
    /// The instance at `url`, else the configured `listen` address; the token is `api.token`
    /// (or its file or variable) from the configuration.
    pub fn from_settings(settings: &Settings, url: Option<String>) -> anyhow::Result<Self> {
        let token = resolve_secret(
            "api.token",
            settings.api.token.as_ref(),
            settings.api.token_file.as_deref(),
        )
        .context("invalid configuration")?
        .context("api.token is not set (HEDGEHOG_SIDECAR_API_TOKEN): the API needs it")?;
        let base = url.unwrap_or_else(|| format!("http://{}", local_address(settings.listen)));
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("cannot build an HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            client,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.client.post(self.url(path))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The answer's JSON; an error status becomes an error with the API's own message.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .with_context(|| format!("{}: no answer (is `serve` running?)", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no message");
            anyhow::bail!("{}: {status}: {message}", self.base);
        }
        Ok(body)
    }
}

/// Where a local client reaches a server listening on `listen`.
pub(crate) fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_on_every_address_is_asked_on_loopback() {
        let local = |listen: &str| local_address(listen.parse().unwrap()).to_string();
        assert_eq!(local("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(local("[::]:9000"), "[::1]:9000");
        assert_eq!(local("10.1.2.3:8080"), "10.1.2.3:8080");
    }
}
