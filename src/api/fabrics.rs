//! `/api/v1/fabrics`: the operator API over the reconciler (used by the NetBox scripts).
//!
//! Every route requires `Authorization: Bearer <api.token>`; without a configured token the API
//! refuses every request, so it is never open by accident.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::reconcile::fabric_status::fabric_status;
use crate::reconcile::scheduler::{ScheduleError, Scheduler};
use crate::reconcile::{FabricReport, ObjectState, ReconcileOptions};

/// The bearer token the API accepts (none: the API is closed).
/// `Debug` shows only whether it is set (`SecretString` redacts the value).
#[derive(Clone, Debug)]
pub struct ApiToken(pub Option<SecretString>);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/fabrics")
            .route("", web::get().to(list))
            .route("/{name}", web::get().to(show))
            .route("/{name}/drift", web::get().to(drift))
            .route("/{name}/reconcile", web::post().to(reconcile)),
    );
}

#[derive(Serialize)]
pub(crate) struct FabricSummary<'a> {
    pub(crate) name: &'a str,
    pub(crate) mode: &'static str,
    pub(crate) sync: serde_json::Value,
    pub(crate) health: serde_json::Value,
    /// The fabric's status as its NetBox record shows it: `synced`, `pending`, `drifted`,
    /// `error` (a pass or a write-back failed), `unknown` (nothing read yet, or unreadable).
    pub(crate) status: &'static str,
    /// When the last reconcile started, and when the last one that succeeded did.
    pub(crate) last_reconciled: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) last_success: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) objects: usize,
    pub(crate) in_sync: usize,
    pub(crate) drifted: usize,
    pub(crate) missing: usize,
    pub(crate) orphans: usize,
    /// Objects not published because they, or objects they depend on, break admission rules.
    pub(crate) held_back: usize,
    /// Objects the pass's self-heal applied or pruned: the counts above are what the pass
    /// found, so `missing: 18, healed: 18` with `sync: Synced` means it repaired them.
    pub(crate) healed: usize,
    pub(crate) errors: Vec<String>,
}

pub(crate) fn summary<'a>(
    name: &'a str,
    mode: &'static str,
    report: Option<&FabricReport>,
) -> FabricSummary<'a> {
    let count = |state| report.map_or(0, |r| r.count(state));
    FabricSummary {
        name,
        mode,
        sync: report.map_or(json!("Unknown"), |r| json!(r.sync)),
        health: report.map_or(json!("Unknown"), |r| json!(r.health)),
        status: report.map_or("unknown", |r| fabric_status(r).as_str()),
        last_reconciled: report.map(|r| r.started_at),
        last_success: report.and_then(|r| r.last_success),
        objects: report.map_or(0, |r| r.objects.len()),
        in_sync: count(ObjectState::InSync),
        drifted: count(ObjectState::Drifted),
        missing: count(ObjectState::Missing),
        orphans: count(ObjectState::Orphan),
        held_back: count(ObjectState::HeldBack),
        healed: report
            .and_then(|r| r.healed.as_ref())
            .map_or(0, |h| h.created.len() + h.updated.len() + h.deleted.len()),
        errors: report.map(|r| r.errors.clone()).unwrap_or_default(),
    }
}

/// The refusal to send, if the request is not authorised.
pub(super) fn refusal(request: &HttpRequest, token: &ApiToken) -> Option<HttpResponse> {
    // A blank token is refused at start-up; should one get here, it disables the API rather
    // than matching requests without credentials.
    let Some(expected) = token.0.as_ref().filter(|t| !crate::config::is_blank(t)) else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "the API is disabled: set api.token (HEDGEHOG_SIDECAR_API_TOKEN)",
        ));
    };
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Constant-time comparison, so response timing does not reveal the token.
    let equal: bool = presented
        .as_bytes()
        .ct_eq(expected.expose_secret().as_bytes())
        .into();
    (!equal).then(|| error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"))
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message}))
}

async fn list(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    scheduler: web::Data<Arc<Scheduler>>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let reports = scheduler.reports().await;
    let fabrics: Vec<_> = scheduler
        .fabrics()
        .iter()
        .map(|f| summary(&f.name, f.mode.as_str(), reports.get(&f.name)))
        .collect();
    HttpResponse::Ok().json(json!({ "fabrics": fabrics }))
}

async fn show(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    scheduler: web::Data<Arc<Scheduler>>,
    name: web::Path<String>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let Some(fabric) = scheduler.fabrics().iter().find(|f| f.name == *name) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("no fabric named `{name}` is configured"),
        );
    };
    let report = scheduler.report(&name).await;
    HttpResponse::Ok().json(json!({
        "summary": summary(&fabric.name, fabric.mode.as_str(), report.as_ref()),
        "report": report,
    }))
}

#[derive(Deserialize)]
struct DriftQuery {
    /// Compare now (a dry-run pass) instead of returning the last pass's result.
    #[serde(default)]
    refresh: bool,
}

async fn drift(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    scheduler: web::Data<Arc<Scheduler>>,
    name: web::Path<String>,
    query: web::Query<DriftQuery>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let report = if query.refresh {
        match scheduler
            .reconcile_now(&name, ReconcileOptions { dry_run: true })
            .await
        {
            Ok(report) => Some(report),
            Err(e) => return schedule_error(&e),
        }
    } else {
        if !scheduler.fabrics().iter().any(|f| f.name == *name) {
            return error(
                StatusCode::NOT_FOUND,
                &format!("no fabric named `{name}` is configured"),
            );
        }
        scheduler.report(&name).await
    };
    let Some(report) = report else {
        return error(
            StatusCode::NOT_FOUND,
            "not reconciled yet: POST .../reconcile or add ?refresh=true",
        );
    };
    let objects: Vec<_> = report
        .objects
        .iter()
        .filter(|o| o.state != ObjectState::InSync)
        .collect();
    HttpResponse::Ok().json(json!({
        "fabric": report.fabric,
        "sync": report.sync,
        "health": report.health,
        "compared_at": report.started_at,
        "objects": objects,
        "problems": report.problems,
        "errors": report.errors,
    }))
}

#[derive(Deserialize)]
struct ReconcileQuery {
    #[serde(default)]
    dry_run: bool,
}

async fn reconcile(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    scheduler: web::Data<Arc<Scheduler>>,
    name: web::Path<String>,
    query: web::Query<ReconcileQuery>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    match scheduler
        .reconcile_now(
            &name,
            ReconcileOptions {
                dry_run: query.dry_run,
            },
        )
        .await
    {
        Ok(report) => HttpResponse::Ok().json(report),
        Err(e) => schedule_error(&e),
    }
}

fn schedule_error(e: &ScheduleError) -> HttpResponse {
    let status = match e {
        ScheduleError::UnknownFabric(_) => StatusCode::NOT_FOUND,
        ScheduleError::Busy(_) => StatusCode::CONFLICT,
        ScheduleError::Lease(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    error(status, &e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FabricConfig;
    use crate::lease::LocalLease;
    use crate::model::{Kind, ObjectKey};
    use crate::reconcile::health::SyncStatus;
    use crate::reconcile::scheduler::{Cadence, FabricRunner};
    use crate::reconcile::{FabricReport, ObjectReport};
    use actix_web::{App, test};
    use async_trait::async_trait;
    use std::time::Duration;

    #[actix_web::test]
    async fn the_summary_says_how_many_objects_the_pass_healed() {
        let mut report = FabricReport::new("lab", "apply", false);
        report.sync = SyncStatus::Synced;
        let key = ObjectKey {
            kind: Kind::Switch,
            name: "leaf-01".into(),
        };
        report.objects.push(ObjectReport {
            key: key.clone(),
            state: ObjectState::Missing,
            diffs: vec![],
            managed: true,
        });
        report.healed = Some(crate::targets::PublishReport {
            created: vec![key],
            ..Default::default()
        });
        let summary = serde_json::to_value(summary("lab", "apply", Some(&report))).unwrap();
        assert_eq!(summary["missing"], 1);
        assert_eq!(summary["healed"], 1);
        assert_eq!(summary["sync"], "Synced");
    }

    /// Reports one drifted switch on every pass.
    struct DriftingRunner;

    #[async_trait]
    impl FabricRunner for DriftingRunner {
        async fn reconcile(
            &self,
            fabric: &FabricConfig,
            options: ReconcileOptions,
        ) -> FabricReport {
            let mut report = FabricReport::new(&fabric.name, "apply", options.dry_run);
            report.sync = SyncStatus::OutOfSync;
            report.objects.push(ObjectReport {
                key: ObjectKey {
                    kind: Kind::Switch,
                    name: "leaf-01".into(),
                },
                state: ObjectState::Drifted,
                diffs: vec![],
                managed: true,
            });
            report
        }
    }

    async fn app(
        token: Option<&str>,
    ) -> impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    > {
        let fabric: FabricConfig = serde_json::from_value(json!({"name": "lab"})).unwrap();
        let scheduler = Arc::new(Scheduler::new(
            vec![fabric],
            Arc::new(DriftingRunner),
            Arc::new(LocalLease::default()),
            Arc::new(crate::state::MemoryState::default()),
            Cadence::new(Duration::from_secs(300), Duration::from_secs(30)),
        ));
        test::init_service(
            App::new()
                .app_data(web::Data::new(ApiToken(
                    token.map(|t| SecretString::from(t.to_owned())),
                )))
                .app_data(web::Data::new(scheduler))
                .configure(configure),
        )
        .await
    }

    fn get(path: &str, token: &str) -> actix_http::Request {
        test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    }

    #[actix_web::test]
    async fn requires_the_configured_bearer_token() {
        let service = app(Some("s3cret")).await;
        let response = test::call_service(&service, get("/api/v1/fabrics", "wrong")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = test::call_service(&service, get("/api/v1/fabrics", "s3cret")).await;
        assert_eq!(response.status(), StatusCode::OK);

        let closed = app(None).await;
        let response = test::call_service(&closed, get("/api/v1/fabrics", "")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "no token configured: API closed"
        );
    }

    #[actix_web::test]
    async fn reconcile_then_list_and_drift() {
        let service = app(Some("t")).await;
        let body: serde_json::Value =
            test::call_and_read_body_json(&service, get("/api/v1/fabrics", "t")).await;
        assert_eq!(
            body["fabrics"][0]["sync"], "Unknown",
            "never reconciled: Unknown, not Synced"
        );

        let response = test::call_service(&service, get("/api/v1/fabrics/lab/drift", "t")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        let post = test::TestRequest::post()
            .uri("/api/v1/fabrics/lab/reconcile")
            .insert_header(("authorization", "Bearer t"))
            .to_request();
        let report: serde_json::Value = test::call_and_read_body_json(&service, post).await;
        assert_eq!(report["sync"], "OutOfSync");

        let body: serde_json::Value =
            test::call_and_read_body_json(&service, get("/api/v1/fabrics", "t")).await;
        assert_eq!(body["fabrics"][0]["drifted"], 1);
        let drift: serde_json::Value =
            test::call_and_read_body_json(&service, get("/api/v1/fabrics/lab/drift", "t")).await;
        assert_eq!(drift["objects"][0]["key"]["name"], "leaf-01");

        let response = test::call_service(
            &service,
            get("/api/v1/fabrics/nope/drift?refresh=true", "t"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
