//! `GET /api/v1/fabrics/{name}/cabling`: the fabric's cabling drift, compared now (a dry-run
//! discovery of the fabric source: nothing is written).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::fabrics::{ApiToken, refusal};
use crate::config::Settings;
use crate::discovery::schedule::{Configured, run_together};
use crate::netbox::NetBoxClient;

/// What the cabling route runs discovery with.
#[derive(Clone)]
pub struct DiscoveryApi {
    pub client: Arc<NetBoxClient>,
    pub sources: Vec<Configured>,
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for DiscoveryApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryApi").finish_non_exhaustive()
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/fabrics/{name}/cabling", web::get().to(cabling));
}

async fn cabling(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    api: web::Data<DiscoveryApi>,
    name: web::Path<String>,
) -> HttpResponse {
    if let Some(denied) = refusal(&request, &token) {
        return denied;
    }
    let source = format!("fabric:{name}");
    let Some(configured) = api.sources.iter().find(|c| c.source.name() == source) else {
        return HttpResponse::NotFound()
            .json(json!({"error": format!("no fabric named `{name}` is configured")}));
    };
    let one = std::slice::from_ref(configured);
    match run_together(&api.client, one, &api.settings, true).await {
        Ok(report) if report.errors.is_empty() => HttpResponse::Ok().json(json!({
            "fabric": *name,
            "interfaces": report.plan.cabling,
            "mismatches": report.plan.cabling.iter()
                .filter(|f| crate::discovery::plan::is_mismatch(f)).count(),
        })),
        Ok(report) => HttpResponse::build(StatusCode::BAD_GATEWAY)
            .json(json!({"error": report.errors.join("; ")})),
        Err(error) => {
            HttpResponse::build(StatusCode::BAD_GATEWAY).json(json!({"error": error.to_string()}))
        }
    }
}
