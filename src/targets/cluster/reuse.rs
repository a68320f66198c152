//! What a publish takes over from the one before it. A webhook's publish renders the whole
//! fabric, of which it changed a few objects: each unchanged manifest's stamped object, and
//! the comparison of a desired object with a live one that neither changed since, are the
//! previous publish's, instead of being made again for thousands of objects.
//!
//! Both are pure functions of what they are kept for (a manifest; a pair of objects by
//! identity), so a publish reusing them, or two publishes at once, cannot go wrong from it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::Objects;
use crate::freeing::drop_in_background;
use crate::model::{Manifest, ObjectKey};

#[derive(Default)]
pub(super) struct Reuse {
    /// Each object of the last publish: its manifest, and the object stamped from it.
    stamped: Mutex<BTreeMap<ObjectKey, (Manifest, Arc<Value>)>>,
    /// The last plan's desired and live objects that it found in step.
    in_step: Mutex<InStep>,
}

/// Pairs of a desired and a live object found in step, by key: the same two objects (by
/// identity) are in step again without comparing them.
#[derive(Default)]
pub(super) struct InStep(BTreeMap<ObjectKey, (Arc<Value>, Arc<Value>)>);

impl InStep {
    /// Whether `desired` and `live` of `key` are the pair found in step.
    pub fn holds(&self, key: &ObjectKey, desired: &Arc<Value>, live: &Arc<Value>) -> bool {
        self.0
            .get(key)
            .is_some_and(|(d, l)| Arc::ptr_eq(d, desired) && Arc::ptr_eq(l, live))
    }

    /// The desired objects of `desired` that `live` holds and `applies` leaves alone.
    pub fn of(desired: &Objects, live: &Objects, applies: &[ObjectKey]) -> InStep {
        let applied: std::collections::BTreeSet<&ObjectKey> = applies.iter().collect();
        let pairs = desired
            .iter()
            .filter(|(key, _)| !applied.contains(key))
            .filter_map(|(key, object)| {
                let current = live.get(key)?;
                Some((key.clone(), (object.clone(), current.clone())))
            })
            .collect();
        InStep(pairs)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reuse {
    /// Each manifest's object by key: the last publish's when its manifest is unchanged, else
    /// `stamp`'s. `Err` with the first manifest `key_of` refuses.
    pub fn stamped<E>(
        &self,
        desired: &[Manifest],
        key_of: impl Fn(&Manifest) -> Result<ObjectKey, E>,
        stamp: impl Fn(&Manifest) -> Value,
    ) -> Result<Objects, E> {
        let mut kept = lock(&self.stamped);
        let mut previous = std::mem::take(&mut *kept);
        let mut objects = BTreeMap::new();
        for manifest in desired {
            let key = key_of(manifest)?;
            let entry = match previous.remove(&key) {
                Some((held, object)) if held == *manifest => (held, object),
                _ => (manifest.clone(), Arc::new(stamp(manifest))),
            };
            objects.insert(key.clone(), entry.1.clone());
            kept.insert(key, entry);
        }
        drop(kept);
        drop_in_background(previous);
        Ok(objects)
    }

    /// What the last plan found in step; see [`InStep`].
    pub fn in_step(&self) -> std::sync::MutexGuard<'_, InStep> {
        lock(&self.in_step)
    }

    /// Keeps what this plan found in step for the next.
    pub fn found_in_step(&self, in_step: InStep) {
        let previous = std::mem::replace(&mut *lock(&self.in_step), in_step);
        drop_in_background(previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, ManifestMeta};
    use serde_json::json;

    fn manifest(name: &str, description: &str) -> Manifest {
        Manifest {
            api_version: "wiring.githedgehog.com/v1beta1".into(),
            kind: "Switch".into(),
            metadata: ManifestMeta {
                name: name.into(),
                ..ManifestMeta::default()
            },
            spec: json!({"description": description}),
        }
    }

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            kind: Kind::Switch,
            name: name.into(),
        }
    }

    fn stamped(reuse: &Reuse, desired: &[Manifest]) -> Objects {
        let key_of = |m: &Manifest| m.key().ok_or(());
        reuse.stamped(desired, key_of, Manifest::to_value).unwrap()
    }

    #[test]
    fn an_unchanged_manifest_keeps_its_stamped_object_and_a_changed_one_is_stamped_again() {
        let reuse = Reuse::default();
        let first = stamped(&reuse, &[manifest("a", "x"), manifest("b", "y")]);
        let second = stamped(&reuse, &[manifest("a", "x"), manifest("b", "z")]);
        assert!(Arc::ptr_eq(&first[&key("a")], &second[&key("a")]));
        assert!(!Arc::ptr_eq(&first[&key("b")], &second[&key("b")]));
        assert_eq!(second[&key("b")]["spec"]["description"], "z");
        let third = stamped(&reuse, &[manifest("b", "z")]);
        assert_eq!(third.len(), 1, "an object no longer desired is gone");
        assert!(Arc::ptr_eq(&second[&key("b")], &third[&key("b")]));
    }

    #[test]
    fn a_refused_manifest_ends_the_stamping_with_its_error() {
        let reuse = Reuse::default();
        let refused = reuse.stamped(
            &[manifest("a", "x")],
            |m| Err::<ObjectKey, _>(m.metadata.name.clone()),
            Manifest::to_value,
        );
        assert_eq!(refused.err().as_deref(), Some("a"));
    }

    #[test]
    fn a_pair_is_in_step_only_as_the_same_two_objects() {
        let desired: Objects = [(key("a"), Arc::new(json!({"spec": 1})))].into();
        let live: Objects = [(key("a"), Arc::new(json!({"spec": 1})))].into();
        let in_step = InStep::of(&desired, &live, &[]);
        assert!(in_step.holds(&key("a"), &desired[&key("a")], &live[&key("a")]));
        let equal_copy = Arc::new(json!({"spec": 1}));
        assert!(!in_step.holds(&key("a"), &desired[&key("a")], &equal_copy));
        assert!(!in_step.holds(&key("b"), &desired[&key("a")], &live[&key("a")]));
        let applied = InStep::of(&desired, &live, &[key("a")]);
        assert!(!applied.holds(&key("a"), &desired[&key("a")], &live[&key("a")]));
    }
}
