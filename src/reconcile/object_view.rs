//! One object of a fabric as NetBox renders it and as the target holds it, read on demand
//! (the reports keep states and diffs, not whole objects).

use serde::Serialize;
use serde_json::Value;

use super::compare::key_of;
use super::engine::{Desired, SourceError};
use crate::model::ObjectKey;
use crate::targets::TargetError;

/// Why one object cannot be shown now.
#[derive(Debug, thiserror::Error)]
pub enum ObjectReadError {
    #[error("no fabric named `{0}` is configured")]
    UnknownFabric(String),
    #[error("the fabric has no target")]
    NoTarget,
    #[error("this runner cannot read objects")]
    Unsupported,
    #[error(transparent)]
    Desired(#[from] SourceError),
    #[error("cannot read the {target}: {source}")]
    Actual {
        target: &'static str,
        #[source]
        source: TargetError,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectView {
    /// The object rendered from NetBox now; none when NetBox renders no such object.
    pub rendered: Option<Value>,
    /// Why the rendered object is held back (it breaks an admission rule, or depends on one
    /// that does); it is then not in `rendered`.
    pub held_back: Option<String>,
    /// The target's object now, without `managedFields`; none when the target has none.
    pub live: Option<Value>,
}

/// `key` in NetBox's rendering and in the target's objects.
pub fn view_of(desired: &Desired, actual: &[Value], key: &ObjectKey) -> ObjectView {
    let rendered = desired
        .manifests
        .iter()
        .find(|m| m.key().as_ref() == Some(key))
        .map(crate::model::Manifest::to_value);
    let live = actual
        .iter()
        .find(|object| key_of(object).as_ref() == Some(key))
        .map(|object| crate::model::without_metadata(object, &["managedFields"]));
    ObjectView {
        rendered,
        held_back: desired.held_back.get(key).cloned(),
        live,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Kind;

    fn switch(name: &str) -> Value {
        json!({"apiVersion": "wiring.githedgehog.com/v1beta1", "kind": "Switch",
               "metadata": {"name": name, "managedFields": [{"manager": "hedgehog-sidecar"}]},
               "spec": {"asn": 65101}})
    }

    #[test]
    fn shows_the_rendered_and_live_object_without_managed_fields() {
        let manifest = serde_json::from_value(switch("leaf-01")).unwrap();
        let desired = Desired {
            manifests: vec![manifest],
            ..Desired::default()
        };
        let key = ObjectKey {
            kind: Kind::Switch,
            name: "leaf-01".into(),
        };
        let view = view_of(&desired, &[switch("leaf-02"), switch("leaf-01")], &key);
        assert_eq!(view.rendered.unwrap()["spec"]["asn"], 65101);
        let live = view.live.unwrap();
        assert_eq!(live["metadata"]["name"], "leaf-01");
        assert!(live["metadata"].get("managedFields").is_none(), "{live}");
        assert_eq!(view.held_back, None);
    }

    #[test]
    fn a_held_back_object_says_why_and_a_missing_one_is_none() {
        let key = ObjectKey {
            kind: Kind::VPC,
            name: "vpc-1".into(),
        };
        let desired = Desired {
            held_back: [(key.clone(), "subnet overlaps vpc-2".to_owned())].into(),
            ..Desired::default()
        };
        let view = view_of(&desired, &[], &key);
        assert_eq!(view.held_back.as_deref(), Some("subnet overlaps vpc-2"));
        assert_eq!((view.rendered, view.live), (None, None));
    }
}
