//! The discovery sources, one folder each with files named by role: `source.rs` (the
//! [`Source`](super::Source) implementation and where it reads from) and `observe.rs` (what it
//! reads, turned into observations).

pub mod fabric;
