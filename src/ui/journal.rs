//! The recent publishes of this replica: each job's apply or commit and each self-heal, with
//! what changed and who caused it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::UiContext;
use super::auth::SignedIn;
use super::format::time;
use super::page::{Layout, html};
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

pub(crate) async fn page(signed_in: SignedIn, ui: web::Data<UiContext>) -> HttpResponse {
    let layout = signed_in.layout("Recent publishes");
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
