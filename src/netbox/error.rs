//! The one error type of the NetBox boundary. NetBox's own words (its `detail` and per-field
//! messages, including the 4.7 bulk shape `{"detail", "errors": [{"index", "errors"}]}`) are kept
//! so an operator sees exactly what NetBox objected to.

use std::fmt;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum NetBoxError {
    /// The client cannot be built or used: no URL, no token, unreadable CA file...
    #[error("NetBox client configuration: {0}")]
    Config(#[from] ClientConfigError),
    /// NetBox could not be reached (DNS, refused connection, TLS), or the connection failed or
    /// timed out after the request was sent (`sent`: NetBox may have acted on it).
    #[error("cannot reach NetBox at {url}: {message}")]
    Unreachable {
        url: String,
        message: String,
        sent: bool,
    },
    /// 401/403: the token is wrong, expired, read-only or lacks a permission.
    #[error("NetBox refused the token for {method} {path} (HTTP {status}): {detail}")]
    Auth {
        method: String,
        path: String,
        status: u16,
        detail: String,
    },
    /// Any other non-2xx answer, with NetBox's messages.
    #[error("{0}")]
    Api(Box<ErrorResponse>),
    /// NetBox answered 2xx with a body this client cannot read.
    #[error("unexpected answer from NetBox for {path}: {message}")]
    Decode { path: String, message: String },
}

/// Why the NetBox client cannot be built or cannot send a request.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    #[error("netbox.url (HEDGEHOG_SIDECAR_NETBOX_URL) is not set")]
    NoUrl,
    #[error("netbox.token (HEDGEHOG_SIDECAR_NETBOX_TOKEN) is not set")]
    NoToken,
    #[error(transparent)]
    Secret(#[from] crate::config::SecretError),
    #[error("netbox.url `{url}`: {source}")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("netbox.url `{0}` must start with http:// or https://")]
    Scheme(String),
    #[error("netbox.ca_file {}: {source}", path.display())]
    CaFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("netbox.ca_file {}: {source}", path.display())]
    CaCertificates {
        path: std::path::PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("bad API path `{path}`: {source}")]
    ApiPath {
        path: String,
        #[source]
        source: url::ParseError,
    },
    #[error("the client is shut down")]
    ShutDown,
    #[error("the NetBox token is empty")]
    EmptyToken,
    #[error("the NetBox token contains characters not allowed in a header")]
    TokenNotAHeader(#[source] reqwest::header::InvalidHeaderValue),
    #[error("no NetBox endpoint known for `{0}`")]
    UnknownObjectType(String),
}

impl NetBoxError {
    /// Worth another attempt: rate limiting, server errors and connection problems.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Api(api) => api.status == 429 || api.status >= 500,
            _ => false,
        }
    }

    /// Retrying a write is safe only when NetBox certainly did not apply it: it was never sent,
    /// or NetBox answered (its bulk writes are all-or-none, so an error answer changed nothing).
    /// A timeout or a connection lost mid-request may hide a write NetBox still completes, and
    /// a blind retry would then create objects twice.
    pub(crate) fn is_retryable_write(&self) -> bool {
        match self {
            Self::Unreachable { sent, .. } => !sent,
            Self::Api(api) => api.status == 429 || api.status == 503 || api.is_deadlock(),
            _ => false,
        }
    }

    /// The HTTP status NetBox answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. } => Some(*status),
            Self::Api(api) => Some(api.status),
            _ => None,
        }
    }

    /// NetBox's per-field messages (empty for other errors).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Api(api) => &api.field_errors,
            _ => &[],
        }
    }
}

/// A non-2xx answer from NetBox.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `X-Request-ID` of the failed request: the id NetBox logs and webhooks carry.
    pub request_id: Option<String>,
    /// NetBox's `detail`, or the body when it is not JSON.
    pub detail: Option<String>,
    pub field_errors: Vec<FieldError>,
    /// Seconds from a `Retry-After` header (429/503).
    pub retry_after: Option<u64>,
}

impl ErrorResponse {
    /// PostgreSQL chose this request's transaction as a deadlock victim (concurrent bulk
    /// writes touching the same devices' counters): the whole transaction was rolled back, so
    /// the write certainly did nothing and may be repeated.
    pub(crate) fn is_deadlock(&self) -> bool {
        self.status == 500
            && self.field_errors.iter().any(|f| {
                f.field == "error" && f.messages.iter().any(|m| m.contains("deadlock detected"))
            })
    }
}

/// One field NetBox rejected. `index` is the position in a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub index: Option<usize>,
    pub field: String,
    pub messages: Vec<String>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.index {
            write!(f, "[{index}] ")?;
        }
        write!(f, "{}: {}", self.field, self.messages.join("; "))
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NetBox rejected {} {} (HTTP {})",
            self.method, self.path, self.status
        )?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for field in &self.field_errors {
            write!(f, "; {field}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Reads NetBox's error body: `{"detail": ...}`, `{"field": ["msg"]}`, a list of such objects
/// (classic bulk) or `{"detail", "errors": [{"index", "errors": {...}}]}` (4.7 bulk).
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, Vec<FieldError>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(500)
            .collect();
        return (Some(text).filter(|t: &String| !t.is_empty()), Vec::new());
    };
    let mut fields = Vec::new();
    let mut detail = None;
    match &value {
        Value::Object(map) => {
            detail = map.get("detail").map(message_text);
            if let Some(Value::Array(items)) = map.get("errors") {
                for item in items {
                    let index = item
                        .get("index")
                        .and_then(Value::as_u64)
                        .map(|i| i as usize);
                    if let Some(errors) = item.get("errors") {
                        collect_fields(index, "", errors, &mut fields);
                    }
                }
            }
            for (key, errors) in map {
                if key != "detail" && key != "errors" {
                    collect_fields(None, key, errors, &mut fields);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_fields(Some(index), "", item, &mut fields);
            }
        }
        other => detail = Some(message_text(other)),
    }
    (detail, fields)
}

/// Flattens nested error structures (`{"custom_fields": {"x": ["bad"]}}` → `custom_fields.x`).
fn collect_fields(index: Option<usize>, prefix: &str, errors: &Value, out: &mut Vec<FieldError>) {
    let field_name = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match errors {
        Value::Object(map) => {
            for (key, nested) in map {
                collect_fields(index, &field_name(key), nested, out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            if !items.is_empty() {
                out.push(FieldError {
                    index,
                    field: field_or_body(prefix),
                    messages: items.iter().map(message_text).collect(),
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_fields(index, &field_name(&i.to_string()), item, out);
            }
        }
        Value::Null => {}
        other => out.push(FieldError {
            index,
            field: field_or_body(prefix),
            messages: vec![message_text(other)],
        }),
    }
}

fn field_or_body(prefix: &str) -> String {
    if prefix.is_empty() {
        "non_field_errors".into()
    } else {
        prefix.to_owned()
    }
}

fn message_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_object_field_messages() {
        let (detail, fields) =
            parse_error_body(br#"{"slug": ["This field is required."], "custom_fields": {"hedgehog_asn": ["Value must be an integer."]}}"#);
        assert_eq!(detail, None);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].field, "slug");
        assert_eq!(fields[1].field, "custom_fields.hedgehog_asn");
        assert_eq!(fields[1].messages, vec!["Value must be an integer."]);
    }

    #[test]
    fn bulk_47_shape_keeps_index() {
        let body = br#"{"detail": "2 of 3 objects could not be created.", "errors": [{"index": 1, "errors": {"name": ["bad"]}}, {"index": 2, "errors": {"vid": ["too big"]}}]}"#;
        let (detail, fields) = parse_error_body(body);
        assert_eq!(
            detail.as_deref(),
            Some("2 of 3 objects could not be created.")
        );
        assert_eq!(fields[0].index, Some(1));
        assert_eq!(fields[1].to_string(), "[2] vid: too big");
    }

    fn api(status: u16) -> NetBoxError {
        NetBoxError::Api(Box::new(ErrorResponse {
            method: "POST".into(),
            path: "/api/dcim/devices/".into(),
            status,
            request_id: None,
            detail: None,
            field_errors: Vec::new(),
            retry_after: None,
        }))
    }

    #[test]
    fn writes_are_retried_only_when_netbox_certainly_did_nothing() {
        let unreachable = |sent| NetBoxError::Unreachable {
            url: "http://nb/".into(),
            message: "x".into(),
            sent,
        };
        assert!(unreachable(false).is_retryable_write());
        assert!(
            !unreachable(true).is_retryable_write(),
            "a timeout may hide a write"
        );
        assert!(
            unreachable(true).is_retryable(),
            "reads are always safe to repeat"
        );
        assert!(api(429).is_retryable_write() && api(503).is_retryable_write());
        assert!(api(502).is_retryable() && !api(502).is_retryable_write());
        assert!(!api(400).is_retryable() && !api(404).is_retryable());
    }

    #[test]
    fn a_deadlock_victim_is_a_write_netbox_rolled_back() {
        let mut deadlock = api(500);
        let mut other = api(500);
        let field = |message: &str| FieldError {
            index: None,
            field: "error".into(),
            messages: vec![message.into()],
        };
        if let (NetBoxError::Api(d), NetBoxError::Api(o)) = (&mut deadlock, &mut other) {
            d.field_errors.push(field(
                "deadlock detected\nDETAIL:  Process 7806 waits for ShareLock",
            ));
            o.field_errors.push(field("division by zero"));
        }
        assert!(deadlock.is_retryable_write());
        assert!(
            !other.is_retryable_write(),
            "another 500 may have half-happened"
        );
    }

    #[test]
    fn classic_bulk_list_and_plain_text() {
        let (_, fields) = parse_error_body(br#"[{}, {"name": ["dup"]}]"#);
        assert_eq!(fields[0].index, Some(1));
        let (detail, fields) = parse_error_body(b"<html>Bad Gateway</html>");
        assert_eq!(detail.as_deref(), Some("<html>Bad Gateway</html>"));
        assert!(fields.is_empty());
    }
}
