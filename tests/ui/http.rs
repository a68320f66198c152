//! Sign-in, the session cookie, the forms' protections, the path prefix and the NetBox links,
//! over plain HTTP.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::fixture::{DEAD_ERROR, Sidecar, TOKEN};
use hedgehog_sidecar::queue::JobState;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs in at `root` (`/ui` or `/hedgehog/ui`); returns the `Set-Cookie` header.
async fn sign_in(sidecar: &Sidecar, root: &str, token: &str) -> reqwest::Response {
    client()
        .post(sidecar.url(&format!("{root}/login")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", token), ("next", "/jobs?state=dead")]))
        .send()
        .await
        .expect("answered")
}

/// The session cookie (`name=value`) of a successful sign-in.
async fn session(sidecar: &Sidecar, root: &str) -> String {
    let response = sign_in(sidecar, root, TOKEN).await;
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn get(sidecar: &Sidecar, path: &str, cookie: &str) -> (StatusCode, String, String) {
    let response = client()
        .get(sidecar.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("answered");
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), location, response.text().await.unwrap())
}

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with the CSRF value")
        + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn pages_require_signing_in_with_the_token_and_come_back_after_it() {
    let sidecar = Sidecar::start("").await;
    let (status, location, _) = get(&sidecar, "/ui/jobs?state=dead", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/ui/login?next=%2Fjobs%3Fstate%3Ddead");
    let (status, _, _) = get(&sidecar, "/ui/jobs", "hhs_ui=forged").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a forged cookie is not a session"
    );

    let wrong = sign_in(&sidecar, "/ui", "not-the-token").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(wrong.text().await.unwrap().contains("Wrong token."));

    let signed = sign_in(&sidecar, "/ui", TOKEN).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()[LOCATION], "/ui/jobs?state=dead");
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains(TOKEN),
        "the cookie never holds the token: {cookie}"
    );
    let session = cookie.split(';').next().unwrap();
    let (status, _, html) = get(&sidecar, "/ui/jobs?state=dead", session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(DEAD_ERROR), "{html}");
    sidecar.stop().await;
}

#[tokio::test]
async fn dead_letter_forms_need_the_csrf_value_and_the_uis_own_origin() {
    let sidecar = Sidecar::start("").await;
    let cookie = session(&sidecar, "/ui").await;
    let (_, _, html) = get(&sidecar, "/ui/jobs?state=dead", &cookie).await;
    let csrf = csrf_of(&html);
    let retry = sidecar.url(&format!("/ui/jobs/{}/retry", sidecar.dead_job));
    let post = |csrf: &str, origin: &str| {
        client()
            .post(&retry)
            .header(COOKIE, &cookie)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf)]))
            .send()
    };
    let own = format!("http://{}", sidecar.addr);
    let refused = [
        ("", own.as_str()),
        ("forged", own.as_str()),
        (csrf.as_str(), "http://evil.example"),
    ];
    for (csrf, origin) in refused {
        let response = post(csrf, origin).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "csrf {csrf:?} origin {origin}"
        );
    }
    let state = |queue: std::sync::Arc<dyn hedgehog_sidecar::queue::JobQueue>, id: String| async move {
        queue.show(&id).await.unwrap().map(|(state, _)| state)
    };
    assert_eq!(
        state(sidecar.queue.clone(), sidecar.dead_job.clone()).await,
        Some(JobState::Dead)
    );

    let response = post(&csrf, &own).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        state(sidecar.queue.clone(), sidecar.dead_job.clone()).await,
        Some(JobState::Queued)
    );
    sidecar.stop().await;
}

#[tokio::test]
async fn behind_a_path_prefix_links_and_the_cookie_carry_it() {
    let sidecar = Sidecar::start("/hedgehog/").await;
    let signed = sign_in(&sidecar, "/hedgehog/ui", TOKEN).await;
    assert_eq!(signed.headers()[LOCATION], "/hedgehog/ui/jobs?state=dead");
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/hedgehog/ui"), "{cookie}");
    let session = cookie.split(';').next().unwrap();
    // A proxy may pass the prefix on or strip it: both answer, with links under the prefix.
    for path in ["/hedgehog/ui/", "/ui/"] {
        let (status, _, html) = get(&sidecar, path, session).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("href=\"/hedgehog/ui/fabrics/lab\""), "{html}");
        assert!(
            !html.contains("href=\"/ui/"),
            "a link without the prefix: {html}"
        );
    }
    sidecar.stop().await;
}

/// The table row of `name` in the objects page.
fn row_of<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(">{name}</a>"))
        .unwrap_or_else(|| panic!("{name} listed: {html}"));
    let end = html[start..]
        .find("</tr>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[tokio::test]
async fn what_the_pass_found_and_its_self_heal_repaired_is_marked_healed() {
    let sidecar = Sidecar::start("").await;
    let cookie = session(&sidecar, "/ui").await;
    let (status, _, html) = get(&sidecar, "/ui/fabrics/lab", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let repaired = row_of(&html, "leaf-02");
    assert!(
        repaired.contains("missing") && repaired.contains(">healed<"),
        "found missing, then applied: {repaired}"
    );
    let drifted = row_of(&html, "leaf-01");
    assert!(!drifted.contains("healed"), "not repaired: {drifted}");
    let (_, _, page) = get(&sidecar, "/ui/fabrics/lab/objects/Switch/leaf-02", &cookie).await;
    assert!(page.contains(">healed<"), "{page}");
    let (_, _, page) = get(&sidecar, "/ui/fabrics/lab/objects/Switch/leaf-01", &cookie).await;
    assert!(!page.contains(">healed<"), "{page}");
    sidecar.stop().await;
}

#[tokio::test]
async fn a_netbox_object_leads_to_what_the_sidecar_made_of_it() {
    let sidecar = Sidecar::start("").await;
    let cookie = session(&sidecar, "/ui").await;
    let (status, location, _) = get(&sidecar, "/ui/netbox/dcim.device/12", &cookie).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "one object: straight to its page"
    );
    assert_eq!(location, "/ui/fabrics/lab/objects/Switch/leaf-01");
    let (status, _, html) = get(&sidecar, "/ui/netbox/ipam.vrf/40", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("subnet 10.0.0.0/33 is not a prefix"),
        "{html}"
    );
    let (status, _, html) = get(&sidecar, "/ui/netbox/dcim.device/999", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No fabric object was published"), "{html}");
    let (status, _, _) = get(&sidecar, "/ui/netbox/not-a-type/12", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, location, _) = get(&sidecar, "/ui/netbox/dcim.device/12", "").await;
    assert_eq!(
        location, "/ui/login?next=%2Fnetbox%2Fdcim.device%2F12",
        "signed out: back here after signing in"
    );
    sidecar.stop().await;
}

#[tokio::test]
async fn every_page_is_self_contained_under_a_policy_that_loads_nothing_from_elsewhere() {
    let sidecar = Sidecar::start("").await;
    let cookie = session(&sidecar, "/ui").await;
    for path in [
        "/ui/login",
        "/ui/",
        "/ui/fabrics/lab",
        "/ui/fabrics/lab/objects/Switch/leaf-01",
        "/ui/jobs?state=dead",
        "/ui/journal",
    ] {
        let response = client()
            .get(sidecar.url(path))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.starts_with("default-src 'none';") && !policy.contains("script-src"),
            "{path}: nothing may load but inline styles: {policy}"
        );
        let html = response.text().await.unwrap().to_lowercase();
        for asset in [
            "<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
        ] {
            assert!(
                !html.contains(asset),
                "{path} loads an asset ({asset}): {html}"
            );
        }
    }
    sidecar.stop().await;
}
