//! `GET /api/v1/fabrics/{name}/cabling`: the fabric's cabling drift, compared now (a dry-run
//! discovery of the fabric source: nothing is written).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::fabrics::{ApiToken, refusal};
use crate::config::{MappingConfig, Settings};
use crate::discovery::Source;
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

impl DiscoveryApi {
    /// The route over `source` alone, with the default settings and mapping.
    pub fn for_source(client: Arc<NetBoxClient>, source: Arc<dyn Source>) -> Self {
        DiscoveryApi {
            client,
            sources: vec![Configured {
                source,
                mapping: MappingConfig::default(),
                enabled: false,
                interval: std::time::Duration::from_secs(600),
                create_cables: false,
            }],
            settings: Arc::new(Settings::default()),
        }
    }

    /// `GET path` with `Bearer <bearer>` on the route served in-process (an actix test
    /// service) with the API token `token`: the status and the JSON body (null when none).
    /// For tests of the route.
    pub async fn get(self, token: &str, path: &str, bearer: &str) -> (StatusCode, Value) {
        let service = actix_web::test::init_service(
            App::new()
                .app_data(web::Data::new(ApiToken(Some(SecretString::from(token)))))
                .app_data(web::Data::new(self))
                .configure(configure),
        )
        .await;
        let request = actix_web::test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {bearer}")))
            .to_request();
        let response = actix_web::test::call_service(&service, request).await;
        let status = response.status();
        let body = actix_web::test::read_body(response).await;
        (status, serde_json::from_slice(&body).unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::discovery::SourceError;
    use crate::discovery::observation::ObservedDevice;
    use crate::netbox::ListQuery;
    use crate::reconcile::testing::absent_netbox;

    /// A fabric source whose cluster cannot be read.
    struct Unreachable;

    #[async_trait]
    impl Source for Unreachable {
        fn name(&self) -> &str {
            "fabric:lab"
        }
        fn scope(&self) -> ListQuery {
            ListQuery::new()
        }
        async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError> {
            Err(SourceError {
                source_name: "fabric:lab".into(),
                message: "cluster unreachable".into(),
            })
        }
    }

    async fn call(path: &str, bearer: &str) -> (StatusCode, Value) {
        DiscoveryApi::for_source(Arc::new(absent_netbox()), Arc::new(Unreachable))
            .get("t", path, bearer)
            .await
    }

    #[actix_web::test]
    async fn the_token_is_required_before_anything_is_compared() {
        let (status, _) = call("/api/v1/fabrics/lab/cabling", "wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[actix_web::test]
    async fn an_unknown_fabric_is_not_found() {
        let (status, body) = call("/api/v1/fabrics/nope/cabling", "t").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["error"].as_str().unwrap().contains("nope"), "{body}");
    }

    #[actix_web::test]
    async fn a_source_that_cannot_observe_is_a_bad_gateway_not_an_empty_list() {
        let (status, body) = call("/api/v1/fabrics/lab/cabling", "t").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("cluster unreachable"),
            "{body}"
        );
    }
}
