//! What every page shares: the layout's data, rendering a template into a response with the
//! headers that keep the page private and self-contained, and the page for a message.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::UiContext;

/// Nothing is loaded from elsewhere: styles are inline, there are no scripts or images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

/// The layout's data: where links start, the page's title, the forms' CSRF value (empty
/// when signed out).
pub(crate) struct Layout {
    pub root: String,
    pub title: String,
    pub csrf: String,
}

impl Layout {
    pub(crate) fn new(ui: &UiContext, title: &str, csrf: String) -> Self {
        Self {
            root: ui.link(""),
            title: title.to_owned(),
            csrf,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "ui/message.html")]
struct MessagePage<'a> {
    layout: Layout,
    message: &'a str,
}

/// The page rendered with `status`; a template that fails to render is logged and answered 500.
pub(crate) fn html<T: askama::Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("cache-control", "no-store"))
            .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
            .insert_header(("x-content-type-options", "nosniff"))
            .body(body),
        Err(error) => {
            tracing::error!(%error, "a UI page failed to render");
            HttpResponse::InternalServerError().body("the page failed to render")
        }
    }
}

/// A page that says one thing (not found, refused, unavailable).
pub(crate) fn message(status: StatusCode, layout: Layout, message: &str) -> HttpResponse {
    html(status, &MessagePage { layout, message })
}
