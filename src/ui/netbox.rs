//! `/ui/netbox/<app_label>.<model>/<id>`: from a NetBox object (a custom link on a device,
//! interface, cable, VLAN group, VRF or prefix) to what the sidecar made of it: the page of the
//! one object it was rendered into, else a page listing the objects and the validation problems
//! that name it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::UiContext;
use super::auth::{SignedIn, redirect};
use super::page::{Layout, html, message};
use crate::model::ObjectKey;

/// A rendered object made from the NetBox object, with its page.
pub(crate) struct Rendered {
    pub fabric: String,
    pub key: ObjectKey,
    pub link: String,
}

#[derive(askama::Template)]
#[template(path = "ui/netbox.html")]
struct NetBoxPage {
    layout: Layout,
    object_type: String,
    id: u64,
    rendered: Vec<Rendered>,
    /// (fabric, message) of the validation problems naming the object.
    problems: Vec<(String, String)>,
}

/// `dcim.device`, `ipam.vlangroup`: an app label and a model, lowercase.
fn is_object_type(text: &str) -> bool {
    let mut parts = text.split('.');
    let part = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    };
    part(parts.next()) && part(parts.next()) && parts.next().is_none()
}

pub(crate) async fn resolve(
    signed_in: SignedIn,
    ui: web::Data<UiContext>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (object_type, id) = path.into_inner();
    let layout = signed_in.layout(&format!("NetBox {object_type} {id}"));
    let (true, Ok(id)) = (is_object_type(&object_type), id.parse::<u64>()) else {
        let text = format!("`{object_type}/{id}` is not a NetBox object (app_label.model/id).");
        return message(StatusCode::NOT_FOUND, layout, &text);
    };
    let (rendered, problems) = find(&ui, &object_type, id).await;
    if let ([one], true) = (rendered.as_slice(), problems.is_empty()) {
        return redirect(&one.link);
    }
    let page = NetBoxPage {
        layout,
        object_type,
        id,
        rendered,
        problems,
    };
    html(StatusCode::OK, &page)
}

/// The objects each fabric last published from the NetBox object, and the problems of each
/// fabric's last report that name it.
async fn find(
    ui: &UiContext,
    object_type: &str,
    id: u64,
) -> (Vec<Rendered>, Vec<(String, String)>) {
    let (mut rendered, mut problems) = (Vec::new(), Vec::new());
    let Some(scheduler) = &ui.scheduler else {
        return (rendered, problems);
    };
    let names = |s: &crate::reconcile::SourceRef| s.object_type == object_type && s.id == id;
    for fabric in scheduler.fabrics() {
        let fabric = &fabric.name;
        for (key, sources) in scheduler.published_sources(fabric).await {
            if sources.iter().any(names) {
                let link = ui.link(&format!(
                    "/fabrics/{fabric}/objects/{}/{}",
                    key.kind.as_str(),
                    key.name
                ));
                rendered.push(Rendered {
                    fabric: fabric.clone(),
                    key,
                    link,
                });
            }
        }
        if let Some(report) = scheduler.report(fabric).await {
            problems.extend(
                report
                    .problems
                    .into_iter()
                    .filter(|p| p.objects.iter().any(names))
                    .map(|p| (fabric.clone(), p.message)),
            );
        }
    }
    (rendered, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_are_an_app_label_and_a_model() {
        assert!(is_object_type("dcim.device"));
        assert!(is_object_type("ipam.vlangroup"));
        assert!(!is_object_type("dcim"));
        assert!(!is_object_type("dcim.device.x"));
        assert!(!is_object_type("../etc"));
        assert!(!is_object_type("DCIM.Device"));
    }
}
