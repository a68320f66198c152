//! The fabric source: each fabric's Agents, which report per interface the LLDP neighbours,
//! oper state and speed, and for the switch its NOS version, serial, platform and hardware.
//! Neighbour ports named by the NOS are renamed as the fabric names them.

mod observe;
mod ports;
mod source;

pub use observe::{observe_agent, parse_speed};
pub use ports::FabricPortNames;
pub use source::FabricSource;
