//! The UI's home: every fabric with its sync status, health, status and the times of its last
//! and last successful reconcile.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::UiContext;
use super::auth::SignedIn;
use super::format::{name, time};
use super::page::{Layout, html};
use crate::api::fabrics::{FabricSummary, summary};

/// One fabric's line.
pub(crate) struct FabricRow {
    pub name: String,
    pub mode: &'static str,
    pub sync: String,
    pub health: String,
    pub status: &'static str,
    pub last_reconciled: String,
    pub last_success: String,
    pub objects: usize,
    pub in_sync: usize,
    pub drifted: usize,
    pub missing: usize,
    pub orphans: usize,
    pub held_back: usize,
    pub errors: Vec<String>,
}

impl From<FabricSummary<'_>> for FabricRow {
    fn from(s: FabricSummary<'_>) -> Self {
        Self {
            name: s.name.to_owned(),
            mode: s.mode,
            sync: name(&s.sync),
            health: name(&s.health),
            status: s.status,
            last_reconciled: time(s.last_reconciled),
            last_success: time(s.last_success),
            objects: s.objects,
            in_sync: s.in_sync,
            drifted: s.drifted,
            missing: s.missing,
            orphans: s.orphans,
            held_back: s.held_back,
            errors: s.errors,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "ui/fabrics.html")]
struct FabricsPage {
    layout: Layout,
    fabrics: Vec<FabricRow>,
}

pub(crate) async fn page(signed_in: SignedIn, ui: web::Data<UiContext>) -> HttpResponse {
    let layout = signed_in.layout("Fabrics");
    let mut fabrics = Vec::new();
    if let Some(scheduler) = &ui.scheduler {
        let reports = scheduler.reports().await;
        for fabric in scheduler.fabrics() {
            let report = reports.get(&fabric.name);
            fabrics.push(summary(&fabric.name, fabric.mode.as_str(), report).into());
        }
    }
    html(StatusCode::OK, &FabricsPage { layout, fabrics })
}
