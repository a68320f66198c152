//! `GET /healthz` (the process answers), `GET /readyz` (it can store jobs), `GET /metrics`.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.stopping.is_cancelled() {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("shutting down\n");
    }
    match tokio::time::timeout(Duration::from_secs(2), state.queue.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        Ok(Err(error)) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("{error}\n")),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("queue did not answer within 2 s\n"),
    }
}

pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(super::metrics::handle().render())
}
