//! The read-only web UI under `/ui`: fabrics with their sync status and health, each fabric's
//! objects, one object's rendered and live versions and drift, the job queue (retry and drop
//! dead letters) and the recent publishes. Server-rendered HTML with inline CSS and no external
//! assets; signed in with the API token (a form that sets an HttpOnly, SameSite=Strict cookie).
//! Behind a reverse proxy it answers under `[ui] path_prefix` too (see [`UiContext`]).

mod auth;
mod fabrics;
mod format;
mod jobs;
mod journal;
mod netbox;
mod object;
mod objects;
mod page;

use std::sync::Arc;

use actix_web::web;

use crate::pipeline::RecentPublishes;
use crate::reconcile::scheduler::Scheduler;

/// What the UI's pages read besides the queue (in the server's state) and the API token.
pub struct UiContext {
    /// `[ui] path_prefix`, normalised: empty or `/segment...`; every link starts with it.
    pub prefix: String,
    /// The fabrics' reports and objects; none when no fabric is served.
    pub scheduler: Option<Arc<Scheduler>>,
    pub recent: Arc<RecentPublishes>,
}

impl UiContext {
    /// The browser's path of a UI page: `/hedgehog/ui/jobs` for `/jobs` behind `/hedgehog`.
    pub(crate) fn link(&self, page: &str) -> String {
        format!("{}/ui{page}", self.prefix)
    }
}

/// Serves the UI under `/ui`, and under `<prefix>/ui` when a prefix is set (so a reverse
/// proxy may strip the prefix or pass it on).
pub fn configure(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.service(routes(web::scope("/ui")));
    if !prefix.is_empty() {
        cfg.service(routes(web::scope(&format!("{prefix}/ui"))));
    }
}

fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("", web::get().to(fabrics::page))
        .route("/", web::get().to(fabrics::page))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/fabrics/{fabric}", web::get().to(objects::page))
        .route(
            "/fabrics/{fabric}/objects/{kind}/{name}",
            web::get().to(object::page),
        )
        .route("/jobs", web::get().to(jobs::page))
        .route("/jobs/{id}/{action}", web::post().to(jobs::act))
        .route("/journal", web::get().to(journal::page))
        .route("/netbox/{object_type}/{id}", web::get().to(netbox::resolve))
}
