//! Which objects a spec names: the dependencies the apply order and the isolation of invalid
//! objects follow.

use serde_json::Value;

use super::{Kind, ObjectKey};

/// Does `spec` name `key` (as a value, a `<name>/<part>` value or a key)? Namespaces and
/// switch groups share short names (`default`) with other kinds, so they count only in the
/// fields that refer to them (`ipv4Namespace`, `vlanNamespaces`, `groups`).
pub fn refers_to(spec: &Value, key: &ObjectKey) -> bool {
    refers_in(spec, key, None)
}

fn refers_in(value: &Value, key: &ObjectKey, field: Option<&str>) -> bool {
    let name = key.name.as_str();
    match value {
        Value::String(s) => {
            let named = s == name || s.strip_prefix(name).is_some_and(|r| r.starts_with('/'));
            named && field_fits(key.kind, field)
        }
        Value::Array(items) => items.iter().any(|i| refers_in(i, key, field)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| (k == name && field_fits(key.kind, field)) || refers_in(v, key, Some(k))),
        _ => false,
    }
}

fn field_fits(kind: Kind, field: Option<&str>) -> bool {
    let field = field.unwrap_or_default().to_ascii_lowercase();
    match kind {
        Kind::IPv4Namespace => field.contains("ipv4namespace"),
        Kind::VLANNamespace => field.contains("vlannamespace"),
        Kind::SwitchGroup => field.contains("group"),
        _ => true,
    }
}
