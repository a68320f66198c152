//! ServerProfile (read-only).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerProfileSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<ServerProfileNic>,
}

impl HedgehogSpec for ServerProfileSpec {
    const KIND: Kind = Kind::ServerProfile;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerProfileNic {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServerProfilePort>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerProfilePort {
    pub name: String,
}
