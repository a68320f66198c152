//! `POST /webhooks/netbox`: verify, parse, decide, store, and only then answer 202.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tracing::Instrument;

use super::metrics as m;
use super::state::AppState;
use crate::intake::{Decision, SignatureError, decide};
use crate::queue::{NewJob, QueueError};

/// Seconds a client is told to wait when the queue is full: workers need time to drain it.
const QUEUE_FULL_RETRY_AFTER: &str = "5";

pub async fn netbox(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    metrics::counter!(m::WEBHOOKS_RECEIVED).increment(1);
    let response = receive(&request, payload, &state).await;
    metrics::histogram!(m::WEBHOOK_SECONDS).record(started.elapsed().as_secs_f64());
    response
}

async fn receive(request: &HttpRequest, payload: web::Payload, state: &AppState) -> HttpResponse {
    let body = match super::body::read(request, payload, state).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let signature = request
        .headers()
        .get("x-hook-signature")
        .map(|v| v.as_bytes());
    if let Err(error) = state.verifier.verify(&body.bytes, signature) {
        let reason = match error {
            SignatureError::Missing => "signature_missing",
            SignatureError::Mismatch => "signature_mismatch",
        };
        return reject(
            request,
            StatusCode::UNAUTHORIZED,
            reason,
            &error.to_string(),
        );
    }
    let body = body.verified();
    let new_job = match decide(&body, &state.own_writes) {
        Ok(Decision::Queue(job)) => job,
        Ok(Decision::Skip(reason)) => {
            metrics::counter!(m::WEBHOOKS_IGNORED, "reason" => reason.label()).increment(1);
            tracing::debug!(reason = reason.label(), "webhook accepted but not queued");
            return HttpResponse::Accepted()
                .json(json!({"status": "ignored", "reason": reason.label()}));
        }
        Err(error) => {
            return reject(
                request,
                StatusCode::BAD_REQUEST,
                error.label(),
                &error.to_string(),
            );
        }
    };
    // Info level so that warnings about this event carry the request id under the default filter.
    let span = tracing::info_span!(
        "webhook",
        request_id = new_job.request_id.as_deref().unwrap_or("-"),
        key = %new_job.key,
        event = %new_job.event,
    );
    store(request, state, *new_job).instrument(span).await
}

/// Stores the job; 202 once it is stored, 503 (with Retry-After when full) when the queue
/// cannot take it.
async fn store(request: &HttpRequest, state: &AppState, new_job: NewJob) -> HttpResponse {
    record_change(state, &new_job).await;
    match state.enqueuer.enqueue(new_job).await {
        Ok(outcome) => {
            metrics::counter!(crate::queue::metrics::JOBS_QUEUED, "outcome" => outcome.label())
                .increment(1);
            tracing::debug!(
                job_id = outcome.job_id(),
                outcome = outcome.label(),
                "webhook stored"
            );
            HttpResponse::Accepted().json(json!({
                "status": outcome.label(),
                "job_id": outcome.job_id(),
            }))
        }
        Err(error @ QueueError::Full(_)) => {
            tracing::warn!(%error, "queue full; NetBox gets 503");
            let mut response = reject(
                request,
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_full",
                &error.to_string(),
            );
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static(QUEUE_FULL_RETRY_AFTER),
            );
            response
        }
        Err(error) => {
            tracing::warn!(%error, "cannot store the webhook; NetBox gets 503");
            reject(
                request,
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_unavailable",
                "the job queue cannot store the event; try again later",
            )
        }
    }
}

/// Records the change for attribution before its job can run, so the publish that carries it
/// finds it.
async fn record_change(state: &AppState, job: &NewJob) {
    let Some(shared) = &state.shared else { return };
    crate::state::record_change_or_warn(shared.as_ref(), job.netbox_change()).await;
}

pub(super) fn reject(
    request: &HttpRequest,
    status: StatusCode,
    reason: &'static str,
    message: &str,
) -> HttpResponse {
    metrics::counter!(m::WEBHOOKS_REJECTED, "reason" => reason).increment(1);
    // The TCP peer, not a forwarded-for header a client could write itself.
    let peer = request
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.to_string());
    // WARN: a rejected webhook is a change NetBox made that the sidecar will not see.
    // `detail`, not `message`: the JSON line's `message` is the event's own.
    tracing::warn!(
        status = status.as_u16(),
        peer,
        reason,
        detail = message,
        "webhook rejected"
    );
    HttpResponse::build(status).json(json!({"error": reason, "message": message}))
}
