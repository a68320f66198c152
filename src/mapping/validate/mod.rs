//! The fabric's admission rules (hedgehog README §3–6), run on the typed objects before anything
//! leaves the sidecar. Each violation names the NetBox objects to change and says how.

mod attachments;
mod connections;
mod dhcp;
mod features;
mod names;
mod namespaces;
mod peerings;
#[cfg(test)]
mod profile_tests;
mod profiles;
mod switches;
mod vpcs;

use crate::config::{FabricConfig, ValidationLevel};
use crate::model::{HedgehogSpec, ObjectKey};

use super::objects::{Draft, FabricObjects};
use super::sources::SourceRef;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The rendered object concerned, when there is one.
    pub object: Option<ObjectKey>,
    /// The NetBox objects to change.
    pub sources: Vec<SourceRef>,
    /// What is wrong and what to change, in NetBox terms.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sources: Vec<String> = self.sources.iter().map(ToString::to_string).collect();
        if !sources.is_empty() {
            write!(f, "{}: ", sources.join(", "))?;
        }
        if let Some(object) = &self.object {
            write!(f, "[{object}] ")?;
        }
        f.write_str(&self.message)
    }
}

/// Violations (which block rendering) and warnings (objects skipped, deprecated features).
#[derive(Debug, Default)]
pub struct Violations {
    pub errors: Vec<Violation>,
    pub warnings: Vec<Violation>,
}

impl Violations {
    /// A violation about NetBox objects, before a Hedgehog object exists.
    pub fn source(&mut self, sources: Vec<SourceRef>, message: String) {
        self.errors.push(Violation {
            object: None,
            sources,
            message,
        });
    }

    /// A violation about a rendered object, blamed on its sources.
    pub fn object<S: HedgehogSpec>(&mut self, draft: &Draft<S>, message: String) {
        self.part(draft, "", message);
    }

    /// A violation about one part of a rendered object (a VPC subnet), blamed on that part's
    /// source when known.
    pub fn part<S: HedgehogSpec>(&mut self, draft: &Draft<S>, part: &str, message: String) {
        self.errors.push(Violation {
            object: Some(ObjectKey {
                kind: S::KIND,
                name: draft.name.clone(),
            }),
            sources: draft.blame(part),
            message,
        });
    }

    pub fn warn(&mut self, sources: Vec<SourceRef>, message: String) {
        self.warnings.push(Violation {
            object: None,
            sources,
            message,
        });
    }
}

/// Runs every rule family.
pub fn validate(fabric: &FabricConfig, objects: &FabricObjects, out: &mut Violations) {
    let complete = fabric.validation == ValidationLevel::Cluster;
    let settings = &fabric.mapping.settings;
    names::check(objects, out);
    namespaces::check(settings, objects, out);
    switches::check(settings, complete, objects, out);
    connections::check(settings, complete, objects, out);
    vpcs::check(settings, objects, out);
    attachments::check(objects, complete, out);
    peerings::check(settings, objects, out);
    profiles::check(&fabric.mapping.profiles, objects, out);
    features::check(&fabric.mapping.profiles, objects, out);
}

/// Parses an IPv4 CIDR (`10.0.0.1/24`).
pub(crate) fn cidr(text: &str) -> Option<ipnet::Ipv4Net> {
    text.parse().ok()
}

/// Parses an IPv4 address, tolerating a prefix length.
pub(crate) fn addr(text: &str) -> Option<std::net::Ipv4Addr> {
    text.split('/').next()?.parse().ok()
}

/// Do two networks overlap?
pub(crate) fn overlaps(a: &ipnet::Ipv4Net, b: &ipnet::Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
