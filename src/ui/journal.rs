//! The recent publishes of this replica: each job's apply or commit and each self-heal, with
//! what changed and who caused it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::UiContext;
use super::auth::signed_in;
use super::format::time;
use super::page::{Layout, html};
use crate::api::fabrics::ApiToken;
use crate::pipeline::PublishRecord;
use crate::pipeline::recent::RECENT_PUBLISHES;

#[derive(askama::Template)]
#[template(path = "ui/journal.html")]
struct JournalPage {
    layout: Layout,
    /// (when, record), newest first.
    records: Vec<(String, PublishRecord)>,
    bound: usize,
}

pub(crate) async fn page(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    ui: web::Data<UiContext>,
) -> HttpResponse {
    let layout = match signed_in(&request, &token, &ui, "Recent publishes") {
        Ok(layout) => layout,
        Err(login) => return login.into(),
    };
    let records = ui
        .recent
        .newest_first()
        .into_iter()
        .map(|r| (time(Some(r.at)), r))
        .collect();
    let page = JournalPage {
        layout,
        records,
        bound: RECENT_PUBLISHES,
    };
    html(StatusCode::OK, &page)
}
