//! The Hedgehog kinds as Rust types, and the generic [`Manifest`] form they are rendered into.

pub(crate) mod agent;
pub(crate) mod connection;
mod diff;
pub(crate) mod external;
pub(crate) mod external_attachment;
pub(crate) mod external_peering;
pub mod fabric_config;
pub(crate) mod fabric_config_read;
pub(crate) mod ipv4_namespace;
mod kind;
mod manifest;
mod references;
pub(crate) mod server;
pub(crate) mod server_profile;
pub(crate) mod switch;
pub(crate) mod switch_group;
pub(crate) mod switch_profile;
pub(crate) mod typed;
pub mod vlan_namespace;
pub mod vpc;
pub(crate) mod vpc_attachment;
pub(crate) mod vpc_peering;

pub use agent::Agent;
pub use connection::{ConnectionSpec, ConnectionType};
pub use diff::{FieldDiff, diff_managed, without_metadata};
pub use external::ExternalSpec;
pub use external_attachment::ExternalAttachmentSpec;
pub use external_peering::ExternalPeeringSpec;
pub use ipv4_namespace::IPv4NamespaceSpec;
pub use kind::{AGENT_GROUP, Kind, VERSION, VPC_GROUP, WIRING_GROUP};
pub use manifest::{
    Manifest, ManifestMeta, ManifestParseError, ObjectKey, parse_manifests, sort_keys,
};
pub use references::refers_to;
pub use server::ServerSpec;
pub use server_profile::ServerProfileSpec;
pub use switch::SwitchSpec;
pub use switch_group::SwitchGroupSpec;
pub use switch_profile::SwitchProfileSpec;
pub use typed::{HedgehogSpec, ObjectMeta, from_manifest, to_manifest};
pub use vlan_namespace::VLANNamespaceSpec;
pub use vpc::VPCSpec;
pub use vpc_attachment::VPCAttachmentSpec;
pub use vpc_peering::VPCPeeringSpec;
