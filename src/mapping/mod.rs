//! The NetBox → Hedgehog mapping: renders a fabric's objects from a NetBox snapshot and
//! validates them with the fabric's admission rules.
//!
//! Pure and deterministic: the same snapshot and configuration always give byte-identical
//! output. The snapshot is indexed once ([`index`]); each concern has its own module.

mod connections;
pub mod defaulting;
mod externals;
pub(crate) mod index;
pub(crate) mod labels;
mod namespaces;
pub(crate) mod naming;
pub mod objects;
pub(crate) mod ports;
mod render;
mod servers;
pub mod sources;
mod switches;
pub mod validate;
mod vpcs;

pub(crate) use render::render_all;
pub use render::{RenderError, RenderedFabric, build, manifests, render};
pub use sources::SourceRef;
pub use validate::Violation;
