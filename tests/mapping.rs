//! Tests of the NetBox → Hedgehog mapping: the two published samples, every kind and connection
//! type, the grouping and naming rules, and each admission rule (good and bad).

#[path = "mapping/cli.rs"]
mod cli;
#[path = "mapping/common.rs"]
mod common;
#[path = "mapping/connections.rs"]
mod connections;
#[path = "mapping/differential.rs"]
mod differential;
#[path = "mapping/kinds.rs"]
mod kinds;
#[path = "mapping/oracle.rs"]
mod oracle;
#[path = "mapping/rules.rs"]
mod rules;
#[path = "mapping/samples.rs"]
mod samples;
