//! The labels that mark an object as the sidecar's, per fabric. Pruning only ever deletes
//! objects carrying both, so objects created by hand or by other tools are never touched.

use serde_json::{Value, json};

pub const MANAGED_BY_KEY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "hedgehog-sidecar";

/// The label keys and values of one fabric.
#[derive(Debug, Clone)]
pub struct FabricLabels {
    fabric_key: String,
    fabric: String,
}

impl FabricLabels {
    /// `label_domain` is `MappingConfig::label_domain` (`hedgehog-sidecar.io`).
    pub fn new(label_domain: &str, fabric: &str) -> FabricLabels {
        FabricLabels {
            fabric_key: format!("{label_domain}/fabric"),
            fabric: fabric.to_owned(),
        }
    }

    /// `app.kubernetes.io/managed-by=hedgehog-sidecar,<domain>/fabric=<fabric>`.
    pub(crate) fn selector(&self) -> String {
        format!(
            "{MANAGED_BY_KEY}={MANAGED_BY_VALUE},{}={}",
            self.fabric_key, self.fabric
        )
    }

    /// Adds the labels to an object about to be applied (kept when already there).
    pub(crate) fn stamp(&self, object: &mut Value) {
        if !object.get("metadata").is_some_and(Value::is_object) {
            object["metadata"] = json!({});
        }
        let metadata = &mut object["metadata"];
        if !metadata.get("labels").is_some_and(Value::is_object) {
            metadata["labels"] = json!({});
        }
        metadata["labels"][MANAGED_BY_KEY] = json!(MANAGED_BY_VALUE);
        metadata["labels"][&self.fabric_key] = json!(self.fabric);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamping_adds_both_labels_and_keeps_others() {
        let labels = FabricLabels::new("hedgehog-sidecar.io", "east");
        let mut object = json!({"metadata": {"name": "a", "labels": {"x": "1"}}});
        labels.stamp(&mut object);
        assert_eq!(
            object["metadata"]["labels"],
            json!({"x": "1", "app.kubernetes.io/managed-by": "hedgehog-sidecar", "hedgehog-sidecar.io/fabric": "east"})
        );
        assert_eq!(
            labels.selector(),
            "app.kubernetes.io/managed-by=hedgehog-sidecar,hedgehog-sidecar.io/fabric=east"
        );
    }
}
