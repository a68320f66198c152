//! NetBox's IPAM as the fabric's allocator. A running fabric refuses a switch without its ASN,
//! management, protocol and VTEP IPs, and a fabric or mesh link without its /31s; `hhfab`
//! fills those in at install time only. For a fabric with `allocate = true`, the sidecar takes
//! what is missing from pools mirrored into NetBox (an ASN range and container prefixes, from
//! the fabric's own configuration), through NetBox's own allocation endpoints so NetBox's
//! uniqueness rules and locks hold. Values a user set are never changed; one that breaks the
//! fabric's rules is reported, not replaced. What deleted switches and cables held is
//! released, and one allocator per fabric runs at a time (see [`AllocatorLease`]).

mod error;
mod execute;
mod lease;
mod mirror;
mod plan;
#[cfg(test)]
mod plan_tests;
mod pools;
mod release;
mod run;

pub use error::AllocationError;
pub use execute::{Allocated, execute};
pub use lease::AllocatorLease;
pub use mirror::{PoolIds, ensure_pools};
pub use plan::{AllocationProblem, AsnNeed, LinkNeed, Plan, Scope, Slot, SwitchNeeds, plan};
pub use pools::Pools;
pub use release::{Released, release_orphans};
pub use run::{AllocationReport, allocate_and_load, allocate_fabric, allocate_snapshot};
