//! The network scanner source: ICMP echoes and TCP connects to the addresses of the configured
//! prefixes (never outside them, never inside an excluded one), rate limited and bounded in
//! concurrency, then the kernel's ARP table for MACs and reverse DNS for names.

mod arp;
mod observe;
mod probe;
mod rdns;
mod scan;
mod source;
mod targets;

pub use arp::parse_arp_table;
pub use observe::{FoundHost, observe_host};
pub use source::ScannerSource;
pub use targets::{ScanTargets, TargetsError};
