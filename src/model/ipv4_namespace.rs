//! IPv4Namespace (vpc.githedgehog.com/v1beta1).

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IPv4NamespaceSpec {
    pub subnets: Vec<String>,
}

impl HedgehogSpec for IPv4NamespaceSpec {
    const KIND: Kind = Kind::IPv4Namespace;
}
