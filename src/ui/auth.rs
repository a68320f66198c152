//! Signing in to the UI with the API token, and what protects its pages and forms.
//!
//! The cookie holds the sign-in's end and its HMAC-SHA256 keyed with the token (never the token),
//! so the server refuses it once it ended, and changing the token signs everyone out. Forms that change
//! something carry a second derived value (CSRF), and their `Origin`, when the browser sends
//! one, must be the UI's own host; the cookie is `SameSite=Strict` as well.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::{ErrorInternalServerError, InternalError};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::UiContext;
use super::page::{Layout, html};
use crate::api::fabrics::ApiToken;

/// The sign-in cookie's name.
pub(crate) const COOKIE: &str = "hhs_ui";
/// How long a sign-in lasts.
const SESSION_HOURS: i64 = 12;

#[derive(askama::Template)]
#[template(path = "ui/login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    error: Option<String>,
}

/// A value derived from the token for `purpose`; none when the API has no token.
fn derived(token: &ApiToken, purpose: &str) -> Option<String> {
    let secret = token.0.as_ref().filter(|t| !crate::config::is_blank(t))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts any key");
    mac.update(purpose.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

fn equal(presented: &str, expected: &str) -> bool {
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// A sign-in that ends at `expires` (Unix seconds): `<expires>.<HMAC of it>`, so the server
/// itself refuses it afterwards, whatever the browser keeps.
fn sign_in_until(token: &ApiToken, expires: i64) -> Option<String> {
    let mac = derived(
        token,
        &format!("hedgehog-sidecar ui session until {expires}"),
    )?;
    Some(format!("{expires}.{mac}"))
}

/// Whether `cookie` is a sign-in with this token that has not ended.
fn is_sign_in(token: &ApiToken, cookie: &str, now: i64) -> bool {
    let Some((expires, _)) = cookie.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    let expected = sign_in_until(token, expires);
    expires > now && expected.is_some_and(|expected| equal(cookie, &expected))
}

/// The CSRF value the UI's forms carry.
pub(crate) fn csrf(token: &ApiToken) -> String {
    derived(token, "hedgehog-sidecar ui csrf").unwrap_or_default()
}

/// A signed-in request. As a handler's argument it lets the page through, or answers with a
/// redirect to the sign-in form, which comes back to the page asked for.
pub(crate) struct SignedIn {
    ui: web::Data<UiContext>,
    token: web::Data<ApiToken>,
}

impl SignedIn {
    /// The page's layout, titled `title`.
    pub(crate) fn layout(&self, title: &str) -> Layout {
        Layout::new(&self.ui, title, csrf(&self.token))
    }

    /// Whether a form sent with this sign-in came from the UI itself.
    pub(crate) fn form_is_genuine(&self, request: &HttpRequest, presented: &str) -> bool {
        form_is_genuine(request, &self.token, presented)
    }
}

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(request))
    }
}

fn signed_in(request: &HttpRequest) -> Result<SignedIn, actix_web::Error> {
    let (Some(ui), Some(token)) = (
        request.app_data::<web::Data<UiContext>>(),
        request.app_data::<web::Data<ApiToken>>(),
    ) else {
        return Err(ErrorInternalServerError("the web UI is not configured"));
    };
    let now = chrono::Utc::now().timestamp();
    match request.cookie(COOKIE) {
        Some(cookie) if is_sign_in(token, cookie.value(), now) => Ok(SignedIn {
            ui: ui.clone(),
            token: token.clone(),
        }),
        _ => {
            let sign_in = ui.link(&format!("/login?next={}", encode(&page_of(request, ui))));
            Err(InternalError::from_response("sign in first", redirect(&sign_in)).into())
        }
    }
}

/// A form's CSRF value and origin are the UI's own.
pub(crate) fn form_is_genuine(request: &HttpRequest, token: &ApiToken, presented: &str) -> bool {
    let expected = csrf(token);
    !expected.is_empty() && equal(presented, &expected) && same_origin(request)
}

/// The `Origin` header, when sent, names the host the request was sent to (as the proxy
/// forwards it).
fn same_origin(request: &HttpRequest) -> bool {
    let Some(origin) = request.headers().get("origin") else {
        return true;
    };
    let host = request.connection_info().host().to_owned();
    let origin = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok());
    origin.is_some_and(|o| {
        let authority = match o.port() {
            Some(port) => format!("{}:{port}", o.host_str().unwrap_or_default()),
            None => o.host_str().unwrap_or_default().to_owned(),
        };
        authority.eq_ignore_ascii_case(&host)
    })
}

/// The UI page a request is for, relative to the UI's root (`/jobs?state=dead`).
fn page_of(request: &HttpRequest, ui: &UiContext) -> String {
    let path = request.path();
    let path = path.strip_prefix(ui.prefix.as_str()).unwrap_or(path);
    let page = path.strip_prefix("/ui").unwrap_or(path);
    match request.query_string() {
        "" => page.to_owned(),
        query => format!("{page}?{query}"),
    }
}

/// A page to go back to: a path inside the UI, never another site.
fn safe_next(next: &str) -> &str {
    let inside = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if inside { next } else { "/" }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub(crate) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(crate) async fn login_form(
    ui: web::Data<UiContext>,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let page = LoginPage {
        layout: Layout::new(&ui, "Sign in", String::new()),
        next: safe_next(&query.next).to_owned(),
        error: None,
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    #[serde(default)]
    next: String,
}

/// Checks the token and sets the sign-in cookie; a wrong token gets the form again (401).
pub(crate) async fn login(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    ui: web::Data<UiContext>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let next = safe_next(&form.next).to_owned();
    let expected = token.0.as_ref().filter(|t| !crate::config::is_blank(t));
    let accepted = expected.is_some_and(|t| equal(form.token.trim(), t.expose_secret()));
    let expires = chrono::Utc::now().timestamp() + SESSION_HOURS * 3600;
    let sign_in = sign_in_until(&token, expires);
    let (true, Some(sign_in), true) = (accepted, sign_in, same_origin(&request)) else {
        let error = if expected.is_none() {
            "The UI is disabled: set api.token (HEDGEHOG_SIDECAR_API_TOKEN)."
        } else {
            "Wrong token."
        };
        let page = LoginPage {
            layout: Layout::new(&ui, "Sign in", String::new()),
            next,
            error: Some(error.into()),
        };
        return html(StatusCode::UNAUTHORIZED, &page);
    };
    let cookie = Cookie::build(COOKIE, sign_in)
        .path(ui.link(""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(request.connection_info().scheme() == "https")
        .max_age(CookieAge::hours(SESSION_HOURS))
        .finish();
    let mut response = redirect(&ui.link(&next));
    let _ = response.add_cookie(&cookie);
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Clears the sign-in cookie.
pub(crate) async fn logout(
    request: HttpRequest,
    token: web::Data<ApiToken>,
    ui: web::Data<UiContext>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if !form_is_genuine(&request, &token, &form.csrf) {
        return HttpResponse::Forbidden().body("the form is not the UI's own");
    }
    let mut cookie = Cookie::build(COOKIE, "").path(ui.link("")).finish();
    cookie.make_removal();
    let mut response = redirect(&ui.link("/login"));
    let _ = response.add_cookie(&cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_ui_are_returned_to() {
        assert_eq!(safe_next("/jobs?state=dead"), "/jobs?state=dead");
        assert_eq!(safe_next("//evil.example/x"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
    }

    #[test]
    fn a_sign_in_never_holds_the_token_and_ends_with_its_time_or_the_token() {
        let token = |t: &str| ApiToken(Some(secrecy::SecretString::from(t.to_owned())));
        let sign_in = sign_in_until(&token("s3cret"), 2_000).unwrap();
        assert!(!sign_in.contains("s3cret"));
        assert!(is_sign_in(&token("s3cret"), &sign_in, 1_999));
        assert!(!is_sign_in(&token("s3cret"), &sign_in, 2_000), "ended");
        assert!(
            !is_sign_in(&token("other"), &sign_in, 1_999),
            "token changed"
        );
        let extended = sign_in.replacen("2000", "9000", 1);
        assert!(
            !is_sign_in(&token("s3cret"), &extended, 1_999),
            "its end is signed"
        );
        assert!(!is_sign_in(&token("s3cret"), "garbage", 0));
        assert_eq!(sign_in_until(&ApiToken(None), 2_000), None);
        assert_eq!(
            derived(&token(" "), "x"),
            None,
            "a blank token opens nothing"
        );
    }
}
