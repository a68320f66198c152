//! SwitchGroup (wiring.githedgehog.com/v1beta1): an empty spec; the object only has to exist.

use serde::{Deserialize, Serialize};

use super::kind::Kind;
use super::typed::HedgehogSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchGroupSpec {}

impl HedgehogSpec for SwitchGroupSpec {
    const KIND: Kind = Kind::SwitchGroup;
}
