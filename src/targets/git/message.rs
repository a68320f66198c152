//! The commit message: what changed, and which NetBox users and requests changed each object, so
//! a reader of the GitOps history can trace every commit back to NetBox's change log.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::layout::Plan;
use crate::attribution::{Credit, NetBoxChange, describe_credit, found_by};
use crate::model::ObjectKey;
use crate::targets::Cause;

/// Objects listed per section before the rest are summarised (a fabric bring-up can touch
/// thousands; the diff holds them all anyway).
const MAX_LISTED: usize = 500;

pub(crate) fn commit_message(fabric: &str, plan: &Plan, causes: &[Cause]) -> String {
    let mut subject = format!(
        "{fabric}: {} created, {} updated, {} deleted",
        plan.created.len(),
        plan.updated.len(),
        plan.deleted.len()
    );
    if plan.created.is_empty() && plan.updated.is_empty() && plan.deleted.is_empty() {
        subject = format!("{fabric}: rewrite kustomization.yaml");
    }
    let mut body = format!("{subject}\n");
    section(&mut body, "Created", &plan.created);
    section(&mut body, "Updated", &plan.updated);
    section(&mut body, "Deleted", &plan.deleted);

    let mut unique: Vec<&Cause> = Vec::new();
    for cause in causes {
        if !unique.contains(&cause) {
            unique.push(cause);
        }
    }
    let causes = unique;
    let credits: Vec<Credit> = causes.iter().flat_map(|c| c.credits.clone()).collect();
    let changed: Vec<&ObjectKey> = plan
        .created
        .iter()
        .chain(&plan.updated)
        .chain(&plan.deleted)
        .collect();
    netbox_changes(&mut body, &causes, &credits, &changed);
    published_after(&mut body, &causes);
    trailers(&mut body, &causes, &credits, &changed);
    body
}

/// Each changed object with the NetBox changes credited to it.
fn netbox_changes(
    body: &mut String,
    causes: &[&Cause],
    credits: &[Credit],
    changed: &[&ObjectKey],
) {
    if changed.is_empty() {
        return;
    }
    let reasons: BTreeSet<&str> = causes.iter().map(|c| c.reason.as_str()).collect();
    let found = found_by(&reasons.into_iter().collect::<Vec<_>>().join("; "));
    body.push_str("\nNetBox changes:\n");
    for key in changed.iter().take(MAX_LISTED) {
        let text = describe_credit(credits, key, &found);
        let _ = writeln!(body, "  {key}: {}", one_line(&text));
    }
}

/// The causes of the publish, each with its user and request.
fn published_after(body: &mut String, causes: &[&Cause]) {
    if causes.is_empty() {
        return;
    }
    body.push_str("\nPublished after:\n");
    for cause in causes {
        let _ = write!(body, "  - {}", one_line(&cause.reason));
        let mut who = Vec::new();
        if let Some(user) = &cause.user {
            who.push(format!("user {}", one_line(user)));
        }
        if let Some(request) = &cause.request_id {
            who.push(format!("request {}", one_line(request)));
        }
        if !who.is_empty() {
            let _ = write!(body, " ({})", who.join(", "));
        }
        body.push('\n');
    }
}

/// Trailers, for tools that parse commit messages: exactly the users and requests whose
/// changes this commit carries; the causes' own when none was attributed per object (the CLI,
/// or a publish whose recorded changes could not be read).
fn trailers(body: &mut String, causes: &[&Cause], credits: &[Credit], changed: &[&ObjectKey]) {
    let (users, requests): (BTreeSet<&str>, BTreeSet<&str>) = if credits.is_empty() {
        (
            causes.iter().filter_map(|c| c.user.as_deref()).collect(),
            causes
                .iter()
                .filter_map(|c| c.request_id.as_deref())
                .collect(),
        )
    } else {
        let carried: Vec<&NetBoxChange> = credits
            .iter()
            .filter(|c| changed.contains(&&c.key))
            .flat_map(|c| &c.changes)
            .collect();
        (
            carried.iter().filter_map(|c| c.user.as_deref()).collect(),
            carried
                .iter()
                .filter_map(|c| c.request_id.as_deref())
                .collect(),
        )
    };
    if users.is_empty() && requests.is_empty() {
        return;
    }
    body.push('\n');
    for user in users {
        let _ = writeln!(body, "NetBox-User: {}", one_line(user));
    }
    for request in requests {
        let _ = writeln!(body, "NetBox-Request-Id: {}", one_line(request));
    }
}

/// `text` on one line: the user and request id come from the webhook's payload, and a line
/// break in them would forge trailers (`Signed-off-by: ...`) or whole sections. Control
/// characters are written escaped (`\n`), so the value stays readable and traceable.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

fn section(body: &mut String, title: &str, keys: &[ObjectKey]) {
    if keys.is_empty() {
        return;
    }
    let _ = write!(body, "\n{title}:\n");
    for key in keys.iter().take(MAX_LISTED) {
        let _ = writeln!(body, "  {key}");
    }
    if keys.len() > MAX_LISTED {
        let _ = writeln!(body, "  ... and {} more", keys.len() - MAX_LISTED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn change(request: &str, user: &str) -> NetBoxChange {
        NetBoxChange {
            at: "2026-11-22T02:30:10Z".parse().unwrap(),
            request_id: Some(request.into()),
            user: Some(user.into()),
            object_type: "dcim.device".into(),
            object_id: 12,
        }
    }

    fn switch(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    #[test]
    fn names_each_objects_own_requests_and_only_those_as_trailers() {
        let plan = Plan {
            created: vec![switch("leaf-1")],
            updated: vec![switch("leaf-3")],
            deleted: vec![ObjectKey {
                kind: Kind::VPC,
                name: "old".into(),
            }],
            ..Default::default()
        };
        let first = Cause {
            request_id: Some("req-7".into()),
            user: Some("alice".into()),
            reason: "webhook dcim.device 12 created".into(),
            credits: vec![
                Credit {
                    key: switch("leaf-1"),
                    changes: vec![change("req-7", "alice")],
                },
                Credit {
                    key: switch("leaf-3"),
                    changes: vec![change("req-8", "bob")],
                },
                Credit {
                    key: switch("unchanged"),
                    changes: vec![change("req-9", "carol")],
                },
            ],
        };
        let text = commit_message("lab", &plan, &[first.clone(), first]);
        assert!(text.starts_with("lab: 1 created, 1 updated, 1 deleted\n"));
        assert!(text.contains("Created:\n  Switch/leaf-1\n"));
        assert!(text.contains("Deleted:\n  VPC/old\n"));
        assert!(
            text.contains("  Switch/leaf-1: request req-7 by alice at 2026-11-22T02:30:10Z\n"),
            "{text}"
        );
        assert!(
            text.contains("  Switch/leaf-3: request req-8 by bob at"),
            "{text}"
        );
        assert!(
            text.contains(
                "  VPC/old: no NetBox change was recorded for it (webhook dcim.device 12 created)"
            ),
            "{text}"
        );
        assert_eq!(
            text.matches("webhook dcim.device 12 created (user alice, request req-7)")
                .count(),
            1,
            "{text}"
        );
        assert!(
            text.ends_with(
                "\nNetBox-User: alice\nNetBox-User: bob\nNetBox-Request-Id: req-7\nNetBox-Request-Id: req-8\n"
            ),
            "the unchanged object's request is not a trailer: {text}"
        );
    }

    #[test]
    fn changes_found_by_the_reconcile_say_so() {
        let plan = Plan {
            updated: vec![switch("leaf-1")],
            ..Default::default()
        };
        let cause = Cause {
            reason: "reconcile: self-heal".into(),
            ..Default::default()
        };
        let text = commit_message("lab", &plan, &[cause]);
        assert!(
            text.contains("  Switch/leaf-1: found by the reconcile (reconcile: self-heal)\n"),
            "{text}"
        );
        assert!(!text.contains("NetBox-Request-Id"), "{text}");
    }

    #[test]
    fn payload_values_cannot_add_lines() {
        let mut forged = change("req-1\nSigned-off-by: mallory", "eve\r\nNetBox-User: admin");
        forged.object_id = 1;
        let cause = Cause {
            request_id: forged.request_id.clone(),
            user: forged.user.clone(),
            reason: "webhook dcim.device 1 updated".into(),
            credits: vec![Credit {
                key: switch("leaf-1"),
                changes: vec![forged],
            }],
        };
        let plan = Plan {
            updated: vec![switch("leaf-1")],
            ..Default::default()
        };
        let text = commit_message("lab", &plan, &[cause]);
        for line in text.lines() {
            assert!(
                !line.starts_with("Signed-off-by") && !line.starts_with("NetBox-User: admin"),
                "a payload value made its own line: {line:?}\n{text}"
            );
        }
        assert!(
            text.contains("NetBox-User: eve\\r\\nNetBox-User: admin\n"),
            "{text}"
        );
        assert!(
            text.contains("NetBox-Request-Id: req-1\\nSigned-off-by: mallory\n"),
            "{text}"
        );
    }
}
