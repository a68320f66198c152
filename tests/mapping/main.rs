//! Tests of the NetBox → Hedgehog mapping: the two published samples, every kind and connection
//! type, the grouping and naming rules, and each admission rule (good and bad).

mod cli;
mod common;
mod connections;
mod differential;
mod kinds;
mod oracle;
mod progress;
mod rules;
mod samples;
