//! VPCAttachment (vpc.githedgehog.com/v1beta1).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::{HedgehogSpec, is_false};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VPCAttachmentSpec {
    /// `<vpc>/<subnet>`.
    pub subnet: String,
    pub connection: String,
    #[serde(default, rename = "nativeVLAN", skip_serializing_if = "is_false")]
    pub native_vlan: bool,
}

impl HedgehogSpec for VPCAttachmentSpec {
    const KIND: Kind = Kind::VPCAttachment;
}

impl VPCAttachmentSpec {
    /// The VPC and subnet names (`/default` when only the VPC is given).
    pub fn vpc_and_subnet(&self) -> (&str, &str) {
        self.subnet
            .split_once('/')
            .unwrap_or((&self.subnet, "default"))
    }
}
