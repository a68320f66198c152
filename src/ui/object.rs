//! One object of a fabric: its state, the field-level diff of drift, the NetBox objects it is
//! rendered from, and its rendered and live versions as YAML (read now from NetBox and the
//! target).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::UiContext;
use super::auth::SignedIn;
use super::format::{field, yaml};
use super::page::{Layout, html, message};
use crate::model::{Kind, ObjectKey};
use crate::reconcile::SourceRef;

/// A drifted field: its path, NetBox's value and the target's.
pub(crate) struct DiffRow {
    pub path: String,
    pub desired: String,
    pub actual: String,
}

#[derive(askama::Template)]
#[template(path = "ui/object.html")]
struct ObjectPage {
    layout: Layout,
    fabric: String,
    key: ObjectKey,
    /// The state the last reconcile or publish found; none when it did not know the object.
    state: Option<&'static str>,
    /// Whether that pass's self-heal then re-applied or pruned it.
    healed: bool,
    diffs: Vec<DiffRow>,
    sources: Vec<SourceRef>,
    rendered: Option<String>,
    live: Option<String>,
    held_back: Option<String>,
    /// Why NetBox's or the target's version could not be read.
    unreadable: Option<String>,
}

pub(crate) async fn page(
    signed_in: SignedIn,
    ui: web::Data<UiContext>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (fabric, kind, name) = path.into_inner();
    let layout = signed_in.layout(&format!("{kind}/{name}"));
    let scheduler = ui
        .scheduler
        .as_ref()
        .filter(|s| s.fabrics().iter().any(|f| f.name == fabric));
    let (Some(scheduler), Some(kind)) = (scheduler, Kind::from_kind_name(&kind)) else {
        let text = format!("No object {kind}/{name} in a fabric named `{fabric}`.");
        return message(StatusCode::NOT_FOUND, layout, &text);
    };
    let key = ObjectKey { kind, name };
    let report = scheduler.report(&fabric).await;
    let object = report
        .as_ref()
        .and_then(|r| r.objects.iter().find(|o| o.key == key));
    let diffs = object.map_or_else(Vec::new, |o| {
        o.diffs
            .iter()
            .map(|d| DiffRow {
                path: d.path.clone(),
                desired: field(&d.desired),
                actual: field(&d.actual),
            })
            .collect()
    });
    let sources = scheduler
        .published_sources(&fabric)
        .await
        .remove(&key)
        .unwrap_or_default();
    let view = scheduler.object(&fabric, &key).await;
    let (view, unreadable) = match view {
        Ok(view) => (view, None),
        Err(error) => (Default::default(), Some(error.to_string())),
    };
    let page = ObjectPage {
        layout,
        state: object.map(|o| o.state.as_str()),
        healed: report.as_ref().is_some_and(|r| r.healed(&key)),
        diffs,
        sources,
        rendered: view.rendered.as_ref().map(yaml),
        live: view.live.as_ref().map(yaml),
        held_back: view.held_back,
        unreadable,
        fabric,
        key,
    };
    html(StatusCode::OK, &page)
}
