//! The job queue: counts per state, the jobs in one state with their last error, and retry and
//! drop for dead letters (forms with the CSRF value).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::UiContext;
use super::auth::{CsrfForm, SignedIn, redirect};
use super::page::{Layout, html, message};
use crate::api::jobs::{DeadLetterAction, listing};
use crate::api::state::AppState;
use crate::queue::{JobState, JobSummary, QueueStats};

/// How many jobs of a state the page lists.
const LISTED: usize = 200;
const STATES: [JobState; 4] = [
    JobState::Queued,
    JobState::Running,
    JobState::Retrying,
    JobState::Dead,
];

#[derive(askama::Template)]
#[template(path = "ui/jobs.html")]
struct JobsPage {
    layout: Layout,
    /// (state, how many jobs are in it).
    counts: Vec<(&'static str, u64)>,
    state: &'static str,
    dead: bool,
    jobs: Vec<JobSummary>,
}

#[derive(Deserialize)]
pub(crate) struct StateQuery {
    #[serde(default = "dead")]
    state: JobState,
}

fn dead() -> JobState {
    JobState::Dead
}

pub(crate) async fn page(
    signed_in: SignedIn,
    app: web::Data<AppState>,
    query: web::Query<StateQuery>,
) -> HttpResponse {
    let layout = signed_in.layout("Jobs");
    let listing = match listing(app.queue.as_ref(), query.state, LISTED).await {
        Ok(listing) => listing,
        Err(error) => {
            let text = format!("The queue cannot be read: {error}");
            return message(StatusCode::SERVICE_UNAVAILABLE, layout, &text);
        }
    };
    let page = JobsPage {
        layout,
        counts: STATES
            .iter()
            .map(|s| (s.as_str(), count(&listing.counts, *s)))
            .collect(),
        state: query.state.as_str(),
        dead: query.state == JobState::Dead,
        jobs: listing.jobs,
    };
    html(StatusCode::OK, &page)
}

fn count(stats: &QueueStats, state: JobState) -> u64 {
    match state {
        JobState::Queued => stats.queued,
        JobState::Running => stats.running,
        JobState::Retrying => stats.retrying,
        JobState::Dead => stats.dead,
    }
}

/// Retries or drops a dead letter, then shows the dead letters again.
pub(crate) async fn act(
    signed_in: SignedIn,
    request: HttpRequest,
    ui: web::Data<UiContext>,
    app: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let layout = signed_in.layout("Jobs");
    if !signed_in.form_is_genuine(&request, &form.csrf) {
        let text = "The form was not sent from this UI; nothing was changed.";
        return message(StatusCode::FORBIDDEN, layout, text);
    }
    let (id, action) = path.into_inner();
    let Some(action) = DeadLetterAction::parse(&action) else {
        return message(StatusCode::NOT_FOUND, layout, "No such action.");
    };
    match action.apply(app.queue.as_ref(), &id).await {
        Ok(true) => redirect(&ui.link("/jobs?state=dead")),
        Ok(false) => {
            let text = format!("Job {id} is not in the dead-letter queue; nothing was changed.");
            message(StatusCode::CONFLICT, layout, &text)
        }
        Err(error) => {
            let text = format!("The queue cannot be changed: {error}");
            message(StatusCode::SERVICE_UNAVAILABLE, layout, &text)
        }
    }
}
