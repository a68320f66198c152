//! The fabric custom field as a selection of the configured fabrics: NetBox then refuses a
//! misspelt fabric name instead of the object silently dropping out of its fabric. Fabrics
//! are added to the choice set, never removed (objects may still name a retired fabric, and
//! another sidecar on the same NetBox may serve other fabrics).

use serde_json::json;

use super::ensure::Desired;
use crate::netbox::endpoints as ep;

/// The choice set of fabric custom field `field` (`hedgehog_fabric` → `hedgehog-fabric-choices`).
pub fn choice_set_name(field: &str) -> String {
    format!("{}-choices", field.replace('_', "-"))
}

/// The choice set holding `fabrics` (and what it held before).
pub(crate) fn choice_set(field: &str, fabrics: &[String]) -> Desired {
    let name = choice_set_name(field);
    let choices: Vec<_> = fabrics.iter().map(|f| json!([f, f])).collect();
    let body = json!({
        "name": name,
        "description": "The fabrics hedgehog-sidecar serves (setup adds each configured fabric)",
        "extra_choices": choices,
    });
    Desired {
        endpoint: ep::CHOICE_SETS,
        key: "name",
        value: name,
        body: body.as_object().cloned().unwrap_or_default(),
        union_fields: &["extra_choices"],
        kept_fields: &[],
    }
}

/// The fabric custom field turned into a selection from [`choice_set`].
pub(crate) fn select_field(field: &str) -> Desired {
    let body = json!({
        "name": field,
        "type": "select",
        "choice_set": {"name": choice_set_name(field)},
    });
    Desired {
        endpoint: ep::CUSTOM_FIELDS,
        key: "name",
        value: field.to_owned(),
        body: body.as_object().cloned().unwrap_or_default(),
        union_fields: &[],
        kept_fields: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_the_fabrics_added_to_what_is_there() {
        let set = choice_set("hedgehog_fabric", &["lab".into(), "prod".into()]);
        assert_eq!(set.value, "hedgehog-fabric-choices");
        assert_eq!(
            set.body["extra_choices"],
            json!([["lab", "lab"], ["prod", "prod"]])
        );
        assert_eq!(set.union_fields, ["extra_choices"]);
    }
}
