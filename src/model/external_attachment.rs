//! ExternalAttachment (vpc.githedgehog.com/v1beta1).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::{HedgehogSpec, is_false};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalAttachmentSpec {
    pub external: String,
    pub connection: String,
    /// Required by the schema, `{}` for static attachments.
    pub switch: AttachmentSwitch,
    /// Required by the schema, `{}` for static attachments.
    pub neighbor: AttachmentNeighbor,
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_attachment: Option<AttachmentStatic>,
}

impl HedgehogSpec for ExternalAttachmentSpec {
    const KIND: Kind = Kind::ExternalAttachment;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentSwitch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl AttachmentSwitch {
    pub fn is_empty(&self) -> bool {
        self.vlan.is_none() && self.ip.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentNeighbor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl AttachmentNeighbor {
    pub fn is_empty(&self) -> bool {
        self.asn.is_none() && self.ip.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentStatic {
    #[serde(rename = "remoteIP")]
    pub remote_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy: bool,
}
