//! The TrueNAS REST API v2.0 answers the source reads (as the API documentation a TrueNAS
//! SCALE 24.04 system serves at `/api/docs` describes them). Only the fields used are typed.

use serde::Deserialize;

/// `GET /system/info`.
#[derive(Debug, Clone, Deserialize)]
pub struct SystemInfo {
    pub hostname: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub system_serial: Option<String>,
    #[serde(default)]
    pub system_product: Option<String>,
    #[serde(default)]
    pub system_manufacturer: Option<String>,
}

/// `GET /interface`.
#[derive(Debug, Clone, Deserialize)]
pub struct Interface {
    pub name: String,
    /// `PHYSICAL`, `BRIDGE`, `LINK_AGGREGATION`, `VLAN`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The configured static addresses.
    #[serde(default)]
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub state: Option<InterfaceState>,
}

/// `interface.state`: what the interface has now (DHCP addresses included).
#[derive(Debug, Clone, Deserialize)]
pub struct InterfaceState {
    #[serde(default)]
    pub link_address: Option<String>,
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

/// An address: `{"type": "INET", "address": "192.168.1.20", "netmask": 24}`; `LINK` entries
/// hold the MAC and are no address.
#[derive(Debug, Clone, Deserialize)]
pub struct Alias {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    #[serde(default)]
    pub netmask: Option<u8>,
}

/// `GET /pool`.
#[derive(Debug, Clone, Deserialize)]
pub struct Pool {
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub healthy: Option<bool>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub free: Option<u64>,
}

/// `GET /sharing/smb`.
#[derive(Debug, Clone, Deserialize)]
pub struct SmbShare {
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// `GET /sharing/nfs`: `path` on SCALE, `paths` on CORE.
#[derive(Debug, Clone, Deserialize)]
pub struct NfsShare {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}
