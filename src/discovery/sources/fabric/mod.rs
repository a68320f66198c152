//! The fabric source: each fabric's Agents, which report per interface the LLDP neighbours,
//! oper state and speed, and for the switch its NOS version, serial, platform and hardware.

mod observe;
mod source;

pub use observe::{observe_agent, parse_speed};
pub use source::FabricSource;
