//! Discovery: what sources observe (the fabric's Agents first) written into NetBox.
//!
//! A [`Source`] yields observed devices with their interfaces, facts and neighbours. A run
//! ([`run()`]) reads the NetBox devices in the sources' scopes, matches each observation to one
//! ([`matching`]: serial, MAC, primary IP, name), merges observations of one thing
//! ([`merge`]), compares LLDP neighbours with cables ([`cabling`]), plans the writes under the
//! ownership rule ([`plan`]) and applies them in bulk, or only reports with a dry run.
//! [`schedule`] runs each source on its own interval under `serve`.

pub mod apply;
pub mod cabling;
pub mod known;
pub mod matching;
pub mod merge;
pub mod observation;
pub mod plan;
pub mod run;
pub mod schedule;
pub mod source;
pub mod sources;

pub use run::{RunOptions, RunReport, run};
pub use source::{Source, SourceError};
