//! `GET /api/v1/jobs`: the job queue as `hedgehog-sidecar jobs list` shows it, for operators
//! and monitoring while `serve` runs (the embedded queue's file is locked then). Requires the
//! API token like every `/api/v1` route.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::fabrics::{ApiToken, refusal};
use super::state::AppState;
use crate::queue::JobState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/jobs", web::get().to(list));
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default = "default_state")]
    state: JobState,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_state() -> JobState {
    JobState::Queued
}

fn default_limit() -> usize {
    50
}

/// Counts per state (waiting jobs parked behind a running one included in `queued`), then
/// the jobs in `state`, oldest first.
async fn list(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let counts = match state.queue.stats().await {
        Ok(counts) => counts,
        Err(error) => return unavailable(&error),
    };
    let jobs = match state.queue.list(query.state, query.limit.min(1000)).await {
        Ok(jobs) => jobs,
        Err(error) => return unavailable(&error),
    };
    let jobs: Vec<_> = jobs
        .iter()
        .map(|job| {
            json!({
                "id": job.id,
                "key": job.key,
                "event": job.event,
                "attempts": job.attempts,
                "request_id": job.request_id,
                "last_error": job.last_error,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "counts": counts,
        "state": query.state.as_str(),
        "jobs": jobs,
    }))
}

fn unavailable(error: &crate::queue::QueueError) -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({ "error": error.to_string() }))
}
