//! One fabric's objects with their state, filterable by state and kind, and the validation
//! problems that hold objects back.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::UiContext;
use super::auth::SignedIn;
use super::fabrics::FabricRow;
use super::format::{name, time};
use super::page::{Layout, html, message};
use crate::api::fabrics::summary;
use crate::reconcile::{ObjectReport, ObjectState, Problem, SwitchHealth};

const STATES: [ObjectState; 5] = [
    ObjectState::InSync,
    ObjectState::Drifted,
    ObjectState::Missing,
    ObjectState::Orphan,
    ObjectState::HeldBack,
];

#[derive(Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
}

impl Filter {
    fn keeps(&self, object: &ObjectReport) -> bool {
        (self.state.is_empty() || self.state == object.state.as_str())
            && (self.kind.is_empty() || self.kind == object.key.kind.as_str())
    }
}

/// An object as the last pass found it, and whether that pass's self-heal then repaired it.
pub(crate) struct ObjectRow {
    pub object: ObjectReport,
    pub healed: bool,
}

/// A switch's agent as the last reconcile found it.
pub(crate) struct SwitchRow {
    pub switch: String,
    pub health: String,
    pub generations: String,
    pub last_heartbeat: String,
    pub nos_version: String,
    pub message: String,
}

impl From<&SwitchHealth> for SwitchRow {
    fn from(s: &SwitchHealth) -> Self {
        let generation = |g: Option<i64>| g.map_or_else(|| "-".to_owned(), |g| g.to_string());
        Self {
            switch: s.switch.clone(),
            health: name(&serde_json::to_value(s.health).unwrap_or_default()),
            generations: format!(
                "{} of {}",
                generation(s.applied_generation),
                generation(s.desired_generation)
            ),
            last_heartbeat: time(s.last_heartbeat),
            nos_version: s.nos_version.clone().unwrap_or_else(|| "-".into()),
            message: s.message.clone(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "ui/objects.html")]
struct ObjectsPage {
    layout: Layout,
    fabric: FabricRow,
    reconciled: bool,
    states: Vec<&'static str>,
    kinds: Vec<&'static str>,
    filter: Filter,
    objects: Vec<ObjectRow>,
    problems: Vec<Problem>,
    switches: Vec<SwitchRow>,
}

pub(crate) async fn page(
    signed_in: SignedIn,
    ui: web::Data<UiContext>,
    fabric: web::Path<String>,
    filter: web::Query<Filter>,
) -> HttpResponse {
    let layout = signed_in.layout(&fabric);
    let config = ui.scheduler.as_ref().and_then(|s| {
        s.fabrics()
            .iter()
            .find(|f| f.name == *fabric)
            .map(|f| (s, f))
    });
    let Some((scheduler, config)) = config else {
        let text = format!("No fabric named `{fabric}` is configured.");
        return message(StatusCode::NOT_FOUND, layout, &text);
    };
    let report = scheduler.report(&fabric).await;
    let all = report.as_ref().map_or(&[][..], |r| r.objects.as_slice());
    let mut kinds: Vec<&'static str> = all.iter().map(|o| o.key.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let filter = filter.into_inner();
    let page = ObjectsPage {
        layout,
        fabric: summary(&config.name, config.mode.as_str(), report.as_ref()).into(),
        reconciled: report.is_some(),
        states: STATES.iter().map(|s| s.as_str()).collect(),
        kinds,
        objects: all
            .iter()
            .filter(|o| filter.keeps(o))
            .map(|o| ObjectRow {
                object: o.clone(),
                healed: report.as_ref().is_some_and(|r| r.healed(&o.key)),
            })
            .collect(),
        switches: report
            .as_ref()
            .map(|r| r.switches.iter().map(SwitchRow::from).collect())
            .unwrap_or_default(),
        problems: report.map(|r| r.problems).unwrap_or_default(),
        filter,
    };
    html(StatusCode::OK, &page)
}
