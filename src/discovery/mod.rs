//! Discovery: what sources observe (the fabric's Agents, inventory files, hosts) written into
//! NetBox.
//!
//! A [`Source`] yields observed devices and virtual machines with their interfaces (MACs, IP
//! addresses), facts and neighbours. A run ([`run()`]) reads the NetBox objects in the sources'
//! scopes, matches each observation to one ([`matching`]: serial, MAC, primary IP, name),
//! merges observations of one thing ([`merge`]), compares LLDP neighbours with cables
//! ([`cabling`]), plans the writes under the ownership rule ([`plan`]) and the creation of what
//! NetBox lacks for sources with creation defaults ([`create`]), and applies them in bulk
//! ([`apply`], [`apply_create`]), or only reports with a dry run. [`schedule`] runs each source
//! on its own interval under `serve`, [`turns`] once per interval across replicas.

pub mod apply;
pub mod apply_create;
pub mod cabling;
pub mod create;
pub mod kind;
pub mod known;
pub mod matching;
pub mod merge;
pub mod observation;
pub mod plan;
pub mod references;
pub mod run;
pub mod schedule;
pub mod source;
pub mod sources;
pub mod turns;

pub use run::{RunOptions, RunReport, run};
pub use source::{Source, SourceError};
