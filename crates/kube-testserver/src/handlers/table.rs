//! `meta.k8s.io/v1` Tables, which `kubectl get` asks for: Name, the CRD's
//! `additionalPrinterColumns` (or Age when it declares none), one row per object.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Request;
use crate::resources::Resource;

pub fn table(resource: &Resource, objects: &[Value], rv: &str, request: &Request) -> Value {
    table_with(
        resource,
        objects,
        rv,
        request.param("includeObject").unwrap_or("Metadata"),
    )
}

/// A Table; `include` is the request's `includeObject` (`Object`, `Metadata` or `None`).
pub fn table_with(resource: &Resource, objects: &[Value], rv: &str, include: &str) -> Value {
    let mut columns = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace.", "priority": 0})];
    let printer: Vec<Value> = if resource.crd.is_some() && !resource.printer_columns.is_empty() {
        resource.printer_columns.clone()
    } else if resource.is_namespace() {
        vec![
            json!({"name": "Status", "type": "string", "jsonPath": ".status.phase"}),
            json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}),
        ]
    } else {
        vec![json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})]
    };
    for column in &printer {
        columns.push(json!({
            "name": column.get("name").cloned().unwrap_or(json!("")),
            "type": column.get("type").cloned().unwrap_or(json!("string")),
            "format": column.get("format").cloned().unwrap_or(json!("")),
            "description": column.get("description").cloned().unwrap_or(json!("")),
            "priority": column.get("priority").cloned().unwrap_or(json!(0)),
        }));
    }
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![object["metadata"]["name"].clone()];
            for column in &printer {
                let path = column.get("jsonPath").and_then(Value::as_str).unwrap_or("");
                let value = path
                    .trim_start_matches('.')
                    .split('.')
                    .try_fold(object, |node, key| node.get(key));
                let is_date = column.get("type").and_then(Value::as_str) == Some("date");
                cells.push(match value {
                    None | Some(Value::Null) => Value::Null,
                    Some(Value::String(s)) if is_date => json!(human_age(s)),
                    Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v.clone(),
                    Some(other) => json!(other.to_string()),
                });
            }
            let mut row = json!({"cells": cells});
            match include {
                "Object" => row["object"] = object.clone(),
                "None" => {}
                _ => {
                    row["object"] = json!({"kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]})
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// `5m`, `2d3h`... as Kubernetes' `duration.HumanDuration` prints an age.
fn human_age(timestamp: &str) -> String {
    let Ok(time) = DateTime::parse_from_rfc3339(timestamp) else {
        return "<unknown>".into();
    };
    let seconds = (Utc::now() - time.with_timezone(&Utc)).num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 != 0 => format!("{m}m{}s", s % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && m % 60 != 0 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 && h % 24 != 0 => format!("{d}d{}h", h % 24),
        _ if d < 730 => format!("{d}d"),
        _ => format!("{}y", d / 365),
    }
}
