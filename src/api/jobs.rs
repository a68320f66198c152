//! `/api/v1/jobs`: the job queue while `serve` runs (the embedded queue's file is locked then),
//! for operators, monitoring and `hedgehog-sidecar jobs`: list by state, show one job, retry or
//! drop a dead letter. Requires the API token like every `/api/v1` route.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::fabrics::{ApiToken, refusal};
use super::state::AppState;
use crate::queue::{JobQueue, JobState, JobSummary, QueueError, QueueStats};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/jobs")
            .route("", web::get().to(list))
            .route("/{id}", web::get().to(show))
            .route("/{id}/{action}", web::post().to(dead_letter)),
    );
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
    match listing(state.queue.as_ref(), query.state, query.limit).await {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(error) => unavailable(&error),
    }
}

/// What `GET /api/v1/jobs` answers (and the UI's jobs page shows).
#[derive(Serialize)]
pub(crate) struct JobListing {
    pub counts: QueueStats,
    pub state: JobState,
    pub jobs: Vec<JobSummary>,
}

/// The counts per state and the jobs in `state`, oldest first, at most `limit` (1000 at most).
pub(crate) async fn listing(
    queue: &dyn JobQueue,
    state: JobState,
    limit: usize,
) -> Result<JobListing, QueueError> {
    let counts = queue.stats().await?;
    let jobs = queue
        .list(state, limit.min(1000))
        .await?
        .iter()
        .map(JobSummary::from)
        .collect();
    Ok(JobListing {
        counts,
        state,
        jobs,
    })
}

/// One job with its event data, its state and its last error.
async fn show(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    match state.queue.show(&id).await {
        Ok(Some((job_state, job))) => HttpResponse::Ok().json(job.shown(job_state)),
        Ok(None) => not_found(&id),
        Err(error) => unavailable(&error),
    }
}

/// What a dead-letter action did to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadLetterAction {
    Retry,
    Drop,
}

impl DeadLetterAction {
    /// `retry` or `drop`, as the routes name them.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "retry" => Some(Self::Retry),
            "drop" => Some(Self::Drop),
            _ => None,
        }
    }

    /// Applies the action; false when the job is not a dead letter.
    pub(crate) async fn apply(self, queue: &dyn JobQueue, id: &str) -> Result<bool, QueueError> {
        match self {
            Self::Retry => queue.retry_dead(id).await,
            Self::Drop => queue.drop_dead(id).await,
        }
    }

    pub(crate) fn done(self) -> &'static str {
        match self {
            Self::Retry => "queued again",
            Self::Drop => "dropped",
        }
    }
}

/// `POST .../{id}/retry` or `.../{id}/drop`: 200 when done; 404 for an unknown job or
/// action, 409 for a job that is not a dead letter.
async fn dead_letter(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let (id, action) = path.into_inner();
    let id = id.as_str();
    let Some(action) = DeadLetterAction::parse(&action) else {
        return HttpResponse::NotFound().json(json!({ "error": "the actions are retry and drop" }));
    };
    match action.apply(state.queue.as_ref(), id).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "id": id, "result": action.done() })),
        Ok(false) => match state.queue.show(id).await {
            Ok(None) => not_found(id),
            Ok(Some((job_state, _))) => HttpResponse::build(StatusCode::CONFLICT).json(json!({
                "error": format!("job {id} is {}, not in the dead-letter queue", job_state.as_str())
            })),
            Err(error) => unavailable(&error),
        },
        Err(error) => unavailable(&error),
    }
}

fn not_found(id: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": format!("no job {id}") }))
}

fn unavailable(error: &QueueError) -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({ "error": error.to_string() }))
}
