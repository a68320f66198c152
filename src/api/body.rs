//! Reading a webhook's body before its signature can be checked, with bounds an anonymous
//! client cannot get around: the per-request limit (413), a deadline for the whole body (408),
//! and a budget shared by every request for bytes not yet verified (503 with `Retry-After`).
//! Refused connections are closed, so a stalled client holds nothing once answered.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};

use super::state::AppState;
use super::webhook::reject;

/// Seconds a client is told to wait when the unverified-bytes budget is spent.
const BUSY_RETRY_AFTER: &str = "1";

/// A body as received, holding its share of the unverified-bytes budget until dropped.
pub(crate) struct UnverifiedBody {
    pub bytes: web::BytesMut,
    budget: OwnedSemaphorePermit,
}

impl UnverifiedBody {
    /// The body once its signature is good: its budget goes back to the pool.
    pub fn verified(self) -> web::BytesMut {
        drop(self.budget);
        self.bytes
    }
}

/// The raw body, or the response refusing it.
pub async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<UnverifiedBody, HttpResponse> {
    match tokio::time::timeout(
        state.body_timeout,
        read_within_limits(request, payload, state),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(closing(reject(
            request,
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            &format!(
                "the body did not arrive within {} s (webhook.body_timeout_secs)",
                state.body_timeout.as_secs()
            ),
        ))),
    }
}

async fn read_within_limits(
    request: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
) -> Result<UnverifiedBody, HttpResponse> {
    let limit = state.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(request, limit));
    }
    // A declared length is reserved (and allocated) at once; otherwise chunk by chunk.
    let mut reserved = declared.unwrap_or(0);
    let mut body = UnverifiedBody {
        bytes: web::BytesMut::with_capacity(reserved),
        budget: take_budget(request, state, reserved).map_err(|r| *r)?,
    };
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            reject(
                request,
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                &format!("cannot read the body: {e}"),
            )
        })?;
        let needed = body.bytes.len() + chunk.len();
        if needed > limit {
            return Err(too_large(request, limit));
        }
        if needed > reserved {
            let more = take_budget(request, state, needed - reserved).map_err(|r| *r)?;
            body.budget.merge(more);
            reserved = needed;
        }
        body.bytes.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn take_budget(
    request: &HttpRequest,
    state: &AppState,
    bytes: usize,
) -> Result<OwnedSemaphorePermit, Box<HttpResponse>> {
    let permits = u32::try_from(bytes).unwrap_or(u32::MAX);
    match state
        .unverified_budget
        .clone()
        .try_acquire_many_owned(permits)
    {
        Ok(permit) => Ok(permit),
        Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
            let mut response = closing(reject(
                request,
                StatusCode::SERVICE_UNAVAILABLE,
                "intake_busy",
                "too many bodies are being received at once (webhook.max_unverified_bytes); \
                 try again later",
            ));
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(BUSY_RETRY_AFTER),
            );
            Err(Box::new(response))
        }
    }
}

fn too_large(request: &HttpRequest, limit: usize) -> HttpResponse {
    closing(reject(
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &format!("body is larger than {limit} bytes (webhook.max_body_bytes)"),
    ))
}

/// The connection ends with this response: the rest of the body is never read.
fn closing(mut response: HttpResponse) -> HttpResponse {
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    response
}
