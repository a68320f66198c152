//! The fabric custom field as a selection of the configured fabrics: NetBox then refuses a
//! misspelt fabric name instead of the object silently dropping out of its fabric. Fabrics
//! are added to the choice set, never removed (objects may still name a retired fabric, and
//! another sidecar on the same NetBox may serve other fabrics).

use serde_json::{Value, json};

use super::ensure::Desired;
use super::{SetupReport, SetupSpec, apply};
use crate::config::MappingConfig;
use crate::netbox::client::NetBoxClient;
use crate::netbox::endpoints as ep;
use crate::netbox::error::NetBoxError;
use crate::netbox::pagination::ListQuery;

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

/// Before the schema: the choice set of the configured fabrics and, when the fabric field
/// does not exist yet, the field created as a selection from it. NetBox cannot change a
/// field's type, so an existing free-text field stays so, with a note saying how to change it.
pub(super) async fn ensure(
    client: &NetBoxClient,
    spec: &SetupSpec,
) -> Result<SetupReport, NetBoxError> {
    let mut report = SetupReport::default();
    if !spec.fabric_choices || spec.fabrics.is_empty() {
        return Ok(report);
    }
    let mappings = match spec.mappings.as_slice() {
        [] => vec![MappingConfig::default()],
        some => some.to_vec(),
    };
    let field = mappings[0].custom_fields.fabric.clone();
    apply(client, &mut report, &[choice_set(&field, &spec.fabrics)]).await?;
    let definitions = super::definitions::custom_fields(&mappings);
    let Some(mut desired) = definitions.into_iter().find(|d| d.value == field) else {
        return Ok(report);
    };
    match current_type(client, &field).await? {
        Some(kind) if kind != "select" => report.notes.push(format!(
            "custom field {field} is {kind}, not a selection of the fabrics: NetBox cannot \
             change a field's type; delete it (objects lose their values) and run setup again, \
             or set netbox.fabric_choices = false"
        )),
        _ => {
            desired.body.insert("type".into(), json!("select"));
            let set = json!({"name": choice_set_name(&field)});
            desired.body.insert("choice_set".into(), set);
            apply(client, &mut report, &[desired]).await?;
        }
    }
    Ok(report)
}

/// The type of custom field `name`, when it exists.
async fn current_type(client: &NetBoxClient, name: &str) -> Result<Option<String>, NetBoxError> {
    let query = ListQuery::new().filter("name", name);
    let found: Vec<Value> = client.list(ep::CUSTOM_FIELDS.path, &query).await?;
    Ok(found
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["type"]["value"].as_str().or(f["type"].as_str()))
        .map(str::to_owned))
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
