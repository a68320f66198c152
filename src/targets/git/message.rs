//! The commit message: what changed, and which NetBox users and requests caused it, so a reader
//! of the GitOps history can trace every commit back to NetBox's change log.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::layout::Plan;
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
    if !causes.is_empty() {
        body.push_str("\nCaused by:\n");
        for cause in &causes {
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
    // Trailers, for tools that parse commit messages.
    let users: BTreeSet<&str> = causes.iter().filter_map(|c| c.user.as_deref()).collect();
    let requests: BTreeSet<&str> = causes
        .iter()
        .filter_map(|c| c.request_id.as_deref())
        .collect();
    if !users.is_empty() || !requests.is_empty() {
        body.push('\n');
        for user in users {
            let _ = writeln!(body, "NetBox-User: {}", one_line(user));
        }
        for request in requests {
            let _ = writeln!(body, "NetBox-Request-Id: {}", one_line(request));
        }
    }
    body
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

    #[test]
    fn names_changes_users_and_requests() {
        let plan = Plan {
            created: vec![ObjectKey {
                kind: Kind::Switch,
                name: "leaf-1".into(),
            }],
            deleted: vec![ObjectKey {
                kind: Kind::VPC,
                name: "old".into(),
            }],
            ..Default::default()
        };
        let cause = Cause {
            request_id: Some("req-7".into()),
            user: Some("alice".into()),
            reason: "webhook dcim.device 12 created".into(),
        };
        let text = commit_message("lab", &plan, &[cause.clone(), cause]);
        assert!(text.starts_with("lab: 1 created, 0 updated, 1 deleted\n"));
        assert!(text.contains("Created:\n  Switch/leaf-1\n"));
        assert!(text.contains("Deleted:\n  VPC/old\n"));
        assert_eq!(
            text.matches("webhook dcim.device 12 created (user alice, request req-7)")
                .count(),
            1,
            "{text}"
        );
        assert!(text.contains("NetBox-User: alice\nNetBox-Request-Id: req-7\n"));
    }

    #[test]
    fn payload_values_cannot_add_lines() {
        let cause = Cause {
            request_id: Some("req-1\nSigned-off-by: mallory".into()),
            user: Some("eve\r\nNetBox-User: admin".into()),
            reason: "webhook dcim.device 1 updated".into(),
        };
        let text = commit_message("lab", &Plan::default(), &[cause]);
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
