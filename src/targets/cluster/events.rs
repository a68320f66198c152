//! Kubernetes Events on the objects the sidecar applies, as controllers record them
//! (`kubectl describe switch leaf-01` shows them): objects the cluster refused, drift found
//! while self-heal is off, and objects self-heal re-applied. kube's [`Recorder`] folds
//! repeats into one Event's series. An Event that cannot be written is logged, never an error
//! of the publish it reports on.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::model::{ObjectKey, VERSION};
use crate::targets::{Cause, PublishReport};

/// The reporting controller's name on every Event.
const CONTROLLER: &str = "hedgehog-sidecar";

/// What an Event says about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub key: ObjectKey,
    pub warning: bool,
    /// CamelCase, as Kubernetes reasons are (`Refused`, `Drifted`, `SelfHealed`).
    pub reason: &'static str,
    pub note: String,
}

/// The Events of a publish: a Warning per refused object and, for a self-heal, a Normal
/// Event per object re-applied.
pub fn of_publish(report: &PublishReport, cause: &Cause) -> Vec<ObjectEvent> {
    let refused = report.failures.iter().map(|f| ObjectEvent {
        key: f.key.clone(),
        warning: true,
        reason: "Refused",
        note: truncate(&f.message),
    });
    let healing = cause.reason.contains("self-heal");
    let healed = report
        .created
        .iter()
        .chain(&report.updated)
        .filter(move |_| healing)
        .map(|key| ObjectEvent {
            key: key.clone(),
            warning: false,
            reason: "SelfHealed",
            note: "re-applied from NetBox: the cluster differed".into(),
        });
    refused.chain(healed).collect()
}

/// A Warning that `key` differs from NetBox at `paths`.
pub fn drifted(key: &ObjectKey, paths: &[String]) -> ObjectEvent {
    ObjectEvent {
        key: key.clone(),
        warning: true,
        reason: "Drifted",
        note: truncate(&format!(
            "differs from NetBox (self-heal is off): {}",
            paths.join(", ")
        )),
    }
}

/// An Event's note is at most 1 KiB.
fn truncate(text: &str) -> String {
    let mut end = text.len().min(1000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Writes Events into the fabric's namespace.
pub struct EventSink {
    recorder: Recorder,
    namespace: String,
}

impl EventSink {
    pub fn new(client: kube::Client, namespace: &str) -> Self {
        let reporter = Reporter::from(CONTROLLER);
        Self {
            recorder: Recorder::new(client, reporter),
            namespace: namespace.to_owned(),
        }
    }

    pub async fn emit(&self, events: &[ObjectEvent]) {
        for event in events {
            let reference = ObjectReference {
                api_version: Some(format!("{}/{VERSION}", event.key.kind.group())),
                kind: Some(event.key.kind.as_str().to_owned()),
                name: Some(event.key.name.clone()),
                namespace: Some(self.namespace.clone()),
                ..ObjectReference::default()
            };
            let kube_event = Event {
                type_: if event.warning {
                    EventType::Warning
                } else {
                    EventType::Normal
                },
                reason: event.reason.to_owned(),
                note: Some(event.note.clone()),
                action: if event.warning { "Reconcile" } else { "Apply" }.to_owned(),
                secondary: None,
            };
            if let Err(error) = self.recorder.publish(&kube_event, &reference).await {
                tracing::warn!(object = %event.key, reason = event.reason, %error, "cannot record a Kubernetes Event");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::targets::ObjectFailure;

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    #[test]
    fn refusals_warn_and_only_a_self_heal_reports_what_it_reapplied() {
        let report = PublishReport {
            updated: vec![key("leaf-01")],
            failures: vec![ObjectFailure {
                key: key("leaf-02"),
                message: "admission webhook denied".into(),
            }],
            ..PublishReport::default()
        };
        let heal = Cause {
            reason: "reconcile: self-heal".into(),
            ..Cause::default()
        };
        let events = of_publish(&report, &heal);
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].reason, events[0].warning), ("Refused", true));
        assert_eq!(events[0].key, key("leaf-02"));
        assert_eq!((events[1].reason, events[1].warning), ("SelfHealed", false));
        let webhook = Cause {
            reason: "webhook dcim.device 7 updated".into(),
            ..Cause::default()
        };
        assert_eq!(of_publish(&report, &webhook).len(), 1, "an ordinary apply");
    }
}
