//! Reads a Home Assistant instance's device registry over its WebSocket API.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::api::Device;
use super::observe::observe_device;
use super::socket::{SocketError, command, connect};
use crate::config::{CustomFieldNames, HostSourceSettings};
use crate::discovery::sources::host::Host;
use crate::discovery::sources::host_source::{Connection, HostSource, ReadHosts};
use crate::discovery::sources::http::SourceHttp;

/// The WebSocket command listing the device registry.
const DEVICE_REGISTRY_LIST: &str = "config/device_registry/list";

/// Reads one Home Assistant instance.
pub struct HomeAssistant {
    http: SourceHttp,
    token: SecretString,
    timeout: Duration,
}

/// The Home Assistant source.
pub type HomeAssistantSource = HostSource<HomeAssistant>;

impl HomeAssistantSource {
    /// The source for table `index` of `[[discovery.home_assistant]]`.
    pub fn new(
        index: usize,
        settings: &HostSourceSettings,
        names: &CustomFieldNames,
    ) -> Result<HomeAssistantSource, String> {
        let connection = Connection::open("home_assistant", index, settings, names, |token| {
            format!("Bearer {token}")
        })?;
        let reader = HomeAssistant {
            http: connection.http,
            token: connection.credential,
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
        };
        Ok(HostSource::from_parts(connection.owner, reader))
    }
}

#[async_trait]
impl ReadHosts for HomeAssistant {
    const VIRTUAL_MACHINES: bool = false;
    type Error = SocketError;

    /// The registry's networked devices as hosts.
    async fn hosts(&self) -> Result<Vec<Host>, SocketError> {
        let exchange = async {
            let mut socket = connect(&self.http, self.token.expose_secret()).await?;
            let result = command(&mut socket, 1, DEVICE_REGISTRY_LIST).await?;
            // Closing is a courtesy; the registry is read either way.
            let _ = socket.close(None).await;
            Ok::<_, SocketError>(result)
        };
        let result = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| SocketError::Timeout(self.timeout))??;
        let devices: Vec<Device> = serde_json::from_value(result)?;
        Ok(devices.iter().filter_map(observe_device).collect())
    }
}
