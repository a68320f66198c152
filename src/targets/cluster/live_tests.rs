//! The watched view: trusted only once every kind is listed, following the watch's events,
//! with our writes laid over it until the watch reports them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::watcher::Event;
use serde_json::{Value, json};

use super::{REPORT_LIMIT, Watched};
use crate::model::{Kind, ObjectKey};

fn object(name: &str, version: u64, description: &str) -> Arc<Value> {
    Arc::new(json!({
        "metadata": {"name": name, "resourceVersion": version.to_string()},
        "spec": {"description": description},
    }))
}

fn key(kind: Kind, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        name: name.to_owned(),
    }
}

/// Every kind listed, with `switches` as the switches.
fn listed(switches: &[Arc<Value>]) -> Watched {
    let mut watched = Watched::default();
    for kind in Kind::RENDERED {
        watched.event(kind, Event::Init);
        if kind == Kind::Switch {
            for switch in switches {
                watched.event(kind, Event::InitApply(switch.clone()));
            }
        }
        watched.event(kind, Event::InitDone);
    }
    watched
}

fn description(watched: &mut Watched, now: Instant, name: &str) -> Option<String> {
    let objects = watched.objects(now).expect("the view is trusted");
    objects
        .get(&key(Kind::Switch, name))
        .map(|object| object["spec"]["description"].as_str().unwrap().to_owned())
}

#[test]
fn the_view_is_not_trusted_until_every_kind_is_listed() {
    let mut watched = Watched::default();
    let now = Instant::now();
    for kind in Kind::RENDERED {
        assert!(watched.objects(now).is_none(), "{kind:?} not listed yet");
        watched.event(kind, Event::Init);
        watched.event(kind, Event::InitDone);
    }
    assert_eq!(watched.objects(now), Some(Default::default()));
}

#[test]
fn the_view_follows_the_watch() {
    let mut watched = listed(&[object("leaf-1", 1, "a")]);
    let now = Instant::now();
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 2, "b")));
    watched.event(Kind::Switch, Event::Apply(object("leaf-2", 3, "c")));
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("b")
    );
    watched.event(Kind::Switch, Event::Delete(object("leaf-1", 4, "b")));
    assert_eq!(description(&mut watched, now, "leaf-1"), None);
    assert_eq!(
        description(&mut watched, now, "leaf-2").as_deref(),
        Some("c")
    );
}

#[test]
fn our_write_is_laid_over_the_view_until_the_watch_reports_it() {
    let mut watched = listed(&[object("leaf-1", 1, "a")]);
    let now = Instant::now();
    let leaf = key(Kind::Switch, "leaf-1");
    watched.wrote(&leaf, Some(object("leaf-1", 5, "ours")), now);
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("ours")
    );
    // An older change reported late does not hide ours.
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 4, "older")));
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("ours")
    );
    // Once reported, the watch's later changes show.
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 5, "ours")));
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 6, "theirs")));
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("theirs")
    );
}

#[test]
fn our_delete_hides_the_object_until_the_watch_reports_it() {
    let mut watched = listed(&[object("leaf-1", 1, "a")]);
    let now = Instant::now();
    let leaf = key(Kind::Switch, "leaf-1");
    watched.wrote(&leaf, None, now);
    assert_eq!(description(&mut watched, now, "leaf-1"), None);
    watched.event(Kind::Switch, Event::Delete(object("leaf-1", 2, "a")));
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 3, "again")));
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("again")
    );
}

#[test]
fn a_relist_replaces_a_kind_and_settles_the_writes_it_shows() {
    let mut watched = listed(&[object("leaf-1", 1, "a"), object("leaf-2", 2, "b")]);
    let now = Instant::now();
    watched.wrote(
        &key(Kind::Switch, "leaf-1"),
        Some(object("leaf-1", 7, "ours")),
        now,
    );
    watched.event(Kind::Switch, Event::Init);
    watched.event(Kind::Switch, Event::InitApply(object("leaf-1", 9, "later")));
    // Until the list is complete, the previous one stands.
    assert_eq!(
        description(&mut watched, now, "leaf-2").as_deref(),
        Some("b")
    );
    watched.event(Kind::Switch, Event::InitDone);
    assert_eq!(
        description(&mut watched, now, "leaf-2"),
        None,
        "deleted during the gap"
    );
    assert_eq!(
        description(&mut watched, now, "leaf-1").as_deref(),
        Some("later")
    );
}

#[test]
fn writes_the_watch_does_not_report_in_time_make_the_publish_list_once() {
    let mut watched = listed(&[object("leaf-1", 1, "a")]);
    let then = Instant::now();
    watched.wrote(
        &key(Kind::Switch, "leaf-1"),
        Some(object("leaf-1", 5, "ours")),
        then,
    );
    let late = then + REPORT_LIMIT + Duration::from_secs(1);
    assert!(watched.objects(late).is_none(), "not trusted: list in full");
    assert_eq!(
        description(&mut watched, late, "leaf-1").as_deref(),
        Some("a")
    );
}

#[test]
fn a_write_the_watch_reported_before_the_answer_is_not_laid_over() {
    let mut watched = listed(&[object("leaf-1", 1, "a")]);
    let then = Instant::now();
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 5, "ours")));
    watched.event(Kind::Switch, Event::Apply(object("leaf-1", 6, "theirs")));
    watched.wrote(
        &key(Kind::Switch, "leaf-1"),
        Some(object("leaf-1", 5, "ours")),
        then,
    );
    watched.event(Kind::Switch, Event::Delete(object("leaf-2", 7, "gone")));
    watched.wrote(&key(Kind::Switch, "leaf-2"), None, then);
    let late = then + REPORT_LIMIT + Duration::from_secs(1);
    assert_eq!(
        description(&mut watched, late, "leaf-1").as_deref(),
        Some("theirs")
    );
}
