//! Each admission rule (hedgehog README §3–6 and `src/mapping/validate/`), good and bad. The good
//! case is the lab fabric (or the lab changed up to the rule's boundary) rendering fine; a bad
//! case changes one thing in the lab and asserts the violation on the NetBox object to change.

use hedgehog_sidecar::mapping::{RenderError, RenderedFabric};

use super::common::*;

mod attachments;
mod connections;
mod names;
mod peerings;
mod switches;
mod typed;
mod vpcs;

/// The lab with one change.
pub fn changed(change: impl FnOnce(&mut Builder, &Lab)) -> (Builder, Lab) {
    let (mut b, lab) = lab();
    change(&mut b, &lab);
    (b, lab)
}

/// The lab with one change breaks a rule at cluster level.
pub fn lab_err(change: impl FnOnce(&mut Builder, &Lab)) -> (RenderError, Lab) {
    let (b, lab) = changed(change);
    (render_err(&fabric_config(CLUSTER), &b.snapshot), lab)
}

/// The lab with one change (up to a rule's boundary) still renders at cluster level.
pub fn lab_ok(change: impl FnOnce(&mut Builder, &Lab)) -> RenderedFabric {
    let (b, _) = changed(change);
    render_ok(&fabric_config(CLUSTER), &b.snapshot)
}

#[test]
fn the_lab_breaks_no_rule_and_warns_about_nothing() {
    let rendered = lab_ok(|_, _| {});
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
}
