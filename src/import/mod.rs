//! Onboarding an existing fabric: the reverse of [`crate::mapping`]. Hedgehog objects
//! from a cluster or a wiring file become the native NetBox objects of the design document,
//! tagged `hedgehog-imported`, so that rendering the imported state gives the same objects back.
//!
//! * [`inverse`] is pure: manifests → a [`FabricSnapshot`] in NetBox's REST shape with synthetic
//!   ids, one module per concern (namespaces, switches, connections, VPCs, externals);
//! * [`roundtrip`] renders that snapshot and says which objects would not come back the same;
//! * [`plan`] matches it against the fabric's current NetBox state by natural keys, so only
//!   what is missing is created (a second import creates nothing);
//! * [`run`] does the NetBox side: model setup, loading, creating, and the report.

mod builder;
mod connections;
mod externals;
mod input;
mod namespaces;
pub(crate) mod plan;
mod problems;
pub(crate) mod report;
pub mod roundtrip;
pub(crate) mod run;
pub mod source;
mod switches;
mod vpcs;

pub use problems::{Finding, Unmappable};
pub use report::ImportReport;
pub use run::{ImportError, ImportOptions, import_fabric};

use crate::config::FabricConfig;
use crate::model::Manifest;
use crate::netbox::FabricSnapshot;

use builder::Builder;
use input::Input;

/// The NetBox objects of an import, with what could not be represented.
#[derive(Debug, Clone)]
pub(crate) struct Inverse {
    /// The objects to exist in NetBox, with synthetic ids (unique across types).
    pub snapshot: FabricSnapshot,
    /// Objects imported with something left out, or not imported because NetBox cannot hold them.
    pub notes: Vec<Finding>,
    /// Input documents of kinds the import does not map (`Kind/name`, reason).
    pub skipped: Vec<(String, &'static str)>,
}

/// Maps Hedgehog objects to the NetBox objects that render them. Pure: no I/O. Fails, naming
/// every object concerned, when an object refers to something not in the input or cannot be
/// read.
pub(crate) fn inverse(
    fabric: &FabricConfig,
    manifests: &[Manifest],
) -> Result<Inverse, Unmappable> {
    let mut b = Builder::new(fabric);
    let input = Input::read(manifests, &mut b.problems);
    namespaces::import_vlan_namespaces(&mut b, &input);
    namespaces::import_ipv4_namespaces(&mut b, &input);
    switches::import_switches(&mut b, &input);
    switches::import_servers(&mut b, &input);
    let subnets = vpcs::import_vpcs(&mut b, &input);
    externals::import_externals(&mut b, &input);
    let connections = connections::import_connections(&mut b, &input);
    vpcs::import_vpc_attachments(&mut b, &input, &connections, &subnets);
    vpcs::import_vpc_peerings(&mut b, &input);
    externals::import_external_attachments(&mut b, &input, &connections);
    externals::import_external_peerings(&mut b, &input);
    if !b.problems.errors.is_empty() {
        return Err(Unmappable {
            errors: b.problems.errors,
        });
    }
    Ok(Inverse {
        snapshot: b.snapshot,
        notes: b.problems.notes,
        skipped: input.skipped,
    })
}

#[cfg(test)]
mod tests;
