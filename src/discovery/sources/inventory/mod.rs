//! The inventory source: devices and virtual machines listed in YAML, JSON and CSV files (the
//! schema is in the README, examples under `docs/inventory/`). Each file is read whole on
//! every run; a file that cannot be read or does not follow the schema fails the run of the
//! source with the file, the entry and what is wrong, so nothing is tagged stale for it.

mod formats;
mod schema;
mod source;

pub use formats::{Format, parse};
pub use schema::{InterfaceRecord, Record, RecordKind};
pub use source::{InventoryError, InventorySource};

#[cfg(test)]
mod tests;
