//! Property tests of the intake path (signature check, then event parsing), a fixed number of
//! cases per run so CI time is bounded: mutated real NetBox deliveries and arbitrary bytes
//! never panic, a signature only ever matches the exact body it was made for, and whatever
//! the parser accepts is a job that the queue can store and read back unchanged.

use proptest::prelude::*;
use secrecy::SecretString;

use hedgehog_sidecar::intake::{
    Decision, OwnWrites, SignatureError, SignatureVerifier, decide, sign,
};
use hedgehog_sidecar::queue::NewJob;

use crate::support::{Delivery, SECRET, netbox_deliveries};

const CASES: u32 = 2_000;

/// The real deliveries, read once.
fn deliveries() -> &'static [Delivery] {
    static DELIVERIES: std::sync::OnceLock<Vec<Delivery>> = std::sync::OnceLock::new();
    DELIVERIES.get_or_init(netbox_deliveries)
}

fn verifier() -> SignatureVerifier {
    SignatureVerifier::new(&[SecretString::from(SECRET)]).expect("a secret")
}

/// A real delivery (its index) with some bytes replaced, inserted or removed.
fn mutated_delivery() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (
        0..deliveries().len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(original, edits)| {
            let mut body = deliveries()[original].body.clone().into_bytes();
            for (at, byte, kind) in edits {
                if body.is_empty() {
                    body.push(byte);
                    continue;
                }
                let i = at.index(body.len());
                match kind {
                    0 => body[i] = byte,
                    1 => body.insert(i, byte),
                    _ => {
                        body.remove(i);
                    }
                }
            }
            (original, body)
        })
}

fn own_writes() -> OwnWrites {
    OwnWrites {
        users: vec!["hedgehog-sidecar".to_owned()],
        fields: ["hedgehog_status".to_owned()].into(),
    }
}

/// Whatever the parser accepts must survive the queue's storage format.
fn check_decision(body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(Decision::Queue(job)) = decide(body, &own_writes()) {
        prop_assert!(!job.key.is_empty(), "a job without a key");
        let stored = serde_json::to_string(&*job).expect("a job serialises");
        let back: NewJob = serde_json::from_str(&stored).expect("a stored job reads back");
        prop_assert_eq!(&back, &*job);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn mutated_deliveries_never_panic_and_old_signatures_never_match(
        (original, body) in mutated_delivery()
    ) {
        let verifier = verifier();
        let signature = sign(SECRET, &body);
        prop_assert_eq!(verifier.verify(&body, Some(signature.as_bytes())), Ok(()));
        // The signature NetBox sent matches its own body only.
        let original = &deliveries()[original];
        if original.body.as_bytes() != body.as_slice() {
            prop_assert_eq!(
                verifier.verify(&body, Some(original.signature.as_bytes())),
                Err(SignatureError::Mismatch)
            );
        }
        check_decision(&body)?;
    }

    #[test]
    fn arbitrary_bytes_and_headers_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        header in prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
    ) {
        let verifier = verifier();
        let _ = verifier.verify(&body, header.as_deref());
        check_decision(&body)?;
    }

    #[test]
    fn json_shaped_events_parse_or_are_refused_cleanly(
        event in "(created|updated|deleted|[a-z]{0,8})",
        object_type in "[a-z]{1,6}\\.[a-z]{1,8}",
        id in any::<i64>(),
        text in "\\PC{0,40}",
        depth in 0usize..200,
    ) {
        let nested = format!("{}{}{}", "[".repeat(depth), serde_json::to_string(&text).unwrap(), "]".repeat(depth));
        let body = format!(
            r#"{{"event":"{event}","timestamp":"t","object_type":"{object_type}","data":{{"id":{id},"x":{nested}}},"request":{{"id":"r","user":"u"}}}}"#
        );
        check_decision(body.as_bytes())?;
    }
}
