//! The Home Assistant WebSocket API messages the source exchanges and the device registry
//! entry (as the developer documentation of the WebSocket API and the device registry describe
//! them, Home Assistant 2024.x). Only the fields used are typed.

use serde::{Deserialize, Serialize};

/// A message from the server; `type` tells which.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerMessage {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<u64>,
    /// `auth_invalid`'s reason.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<CommandError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommandError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `{"type": "auth", "access_token": ...}`, the answer to `auth_required`.
#[derive(Serialize)]
pub struct Auth<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub access_token: &'a str,
}

/// `{"id": 1, "type": "config/device_registry/list"}`.
#[derive(Serialize)]
pub struct Command {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One device registry entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Device {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The name the user gave it; wins over `name`.
    #[serde(default)]
    pub name_by_user: Option<String>,
    /// `[["mac", "aa:bb:cc:dd:ee:ff"], ["upnp", "uuid:..."]]`.
    #[serde(default)]
    pub connections: Vec<(String, String)>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub sw_version: Option<String>,
    #[serde(default)]
    pub hw_version: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    /// The device's own web page (`http://192.168.1.40/`), often its address.
    #[serde(default)]
    pub configuration_url: Option<String>,
    /// `service` for integrations that are no hardware (weather, sun).
    #[serde(default)]
    pub entry_type: Option<String>,
    /// Set when the user or an integration disabled the device.
    #[serde(default)]
    pub disabled_by: Option<String>,
}
