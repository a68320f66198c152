//! `get` and `list` (label and field selectors, `limit`/`continue` paging, Tables for kubectl).

use serde_json::{Value, json};

use super::{Reply, Request, object_key, table};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::ApiServer;
use crate::status::ApiError;

pub fn get(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let resource = &request.target.resource;
    let name = request.target.name.clone().unwrap_or_default();
    let object = server
        .store
        .lock()
        .get(&resource.qualified(), &object_key(request))
        .cloned()
        .ok_or_else(|| ApiError::not_found(resource, &name))?;
    if request.wants_table() {
        let rv = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        return Ok(Reply::ok(table::table(resource, &[object], &rv, request)));
    }
    Ok(Reply::ok(object))
}

/// Selectors of a list or watch request.
#[derive(Clone)]
pub struct Filter {
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    pub fn from_request(request: &Request) -> Result<Filter, ApiError> {
        Ok(Filter {
            namespace: request.target.namespace.clone(),
            labels: LabelSelector::parse(request.param("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(request.param("fieldSelector").unwrap_or(""))?,
        })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|ns| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == Some(ns)
        }) && self.labels.matches(object)
            && self.fields.matches(object)
    }
}

/// The opaque `continue` token: the list's resourceVersion and the last key returned.
fn encode_continue(rv: &str, namespace: &str, name: &str) -> String {
    hex::encode(json!({"rv": rv, "ns": namespace, "name": name}).to_string())
}

fn decode_continue(token: &str) -> Result<(String, (String, String)), ApiError> {
    let bad = || ApiError::bad_request(format!("invalid continue token {token:?}"));
    let bytes = hex::decode(token).map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok((
        text("rv").ok_or_else(bad)?,
        (text("ns").ok_or_else(bad)?, text("name").ok_or_else(bad)?),
    ))
}

pub fn list(server: &ApiServer, request: &Request) -> Result<Reply, ApiError> {
    let resource = &request.target.resource;
    let filter = Filter::from_request(request)?;
    let limit = match request.param("limit") {
        None | Some("") | Some("0") => None,
        Some(text) => Some(
            text.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {text:?}")))?,
        ),
    };
    let resume = request
        .param("continue")
        .filter(|t| !t.is_empty())
        .map(decode_continue)
        .transpose()?;
    let state = server.store.lock();
    let list_rv = match &resume {
        Some((rv, _)) => rv.clone(),
        None => state.resource_version().to_string(),
    };
    let mut items = Vec::new();
    let mut next = None;
    let qualified = resource.qualified();
    let mut matching = state
        .list(&qualified)
        .filter(|(key, _)| resume.as_ref().is_none_or(|(_, after)| *key > after))
        .filter(|(_, object)| filter.matches(object))
        .peekable();
    while let Some((key, object)) = matching.next() {
        items.push(object.clone());
        if limit.is_some_and(|l| items.len() >= l) && matching.peek().is_some() {
            next = Some(encode_continue(&list_rv, &key.0, &key.1));
            break;
        }
    }
    let remaining = next.as_ref().map(|_| matching.count());
    drop(state);
    if request.wants_table() {
        return Ok(Reply::ok(table::table(resource, &items, &list_rv, request)));
    }
    let mut metadata = json!({"resourceVersion": list_rv});
    if let (Some(token), Some(remaining)) = (next, remaining) {
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(remaining);
    }
    Ok(Reply::ok(json!({
        "apiVersion": resource.api_version(),
        "kind": resource.list_kind,
        "metadata": metadata,
        "items": items,
    })))
}
