//! `X-Hook-Signature`: lowercase hex HMAC-SHA512 of the raw body, keyed with the webhook secret.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hook-Signature header")]
    Missing,
    #[error("X-Hook-Signature does not match the body")]
    Mismatch,
}

/// Checks signatures against every configured secret (several during a rotation).
#[derive(Clone)]
pub struct SignatureVerifier {
    /// Keyed MAC states, cloned per request so the key schedule is computed once.
    keyed: Vec<HmacSha512>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignatureVerifier({} secrets)", self.keyed.len())
    }
}

impl SignatureVerifier {
    /// Accepts a signature made with any of `secrets` (the current one and those being
    /// rotated out), each taken whole. None when the list is empty.
    pub fn new(secrets: &[SecretString]) -> Option<Self> {
        let keyed: Vec<HmacSha512> = secrets
            .iter()
            .filter_map(|s| HmacSha512::new_from_slice(s.expose_secret().as_bytes()).ok())
            .collect();
        (!keyed.is_empty()).then_some(Self { keyed })
    }

    /// Verifies `header` (the `X-Hook-Signature` value, if present) for `body` in constant time.
    pub fn verify(&self, body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        // Uppercase hex is tolerated: NetBox sends lowercase, and the case carries no secret.
        let expected = hex::decode(header.trim_ascii()).map_err(|_| SignatureError::Mismatch)?;
        let mut ok = false;
        for keyed in &self.keyed {
            let mut mac = keyed.clone();
            mac.update(body);
            // No early exit: every secret is checked so timing does not tell which one matched.
            ok |= mac.verify_slice(&expected).is_ok();
        }
        if ok {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// The signature NetBox would send for `body` with `secret` (tests and the benchmark).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_rotated_secret_and_rejects_others() {
        let secrets = ["old".to_owned(), "new".to_owned()].map(SecretString::from);
        let verifier = SignatureVerifier::new(&secrets).unwrap();
        let body = br#"{"event": "created"}"#;
        assert_eq!(
            verifier.verify(body, Some(sign("old", body).as_bytes())),
            Ok(())
        );
        assert_eq!(
            verifier.verify(body, Some(sign("new", body).as_bytes())),
            Ok(())
        );
        assert_eq!(
            verifier.verify(body, Some(sign("other", body).as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verifier.verify(body, Some(b"zz")),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verifier.verify(body, None), Err(SignatureError::Missing));
        assert!(SignatureVerifier::new(&[]).is_none());
    }

    #[test]
    fn a_comma_is_part_of_the_secret() {
        let verifier = SignatureVerifier::new(&[SecretString::from("abc,def")]).unwrap();
        let body = br#"{"event": "created"}"#;
        assert_eq!(
            verifier.verify(body, Some(sign("abc,def", body).as_bytes())),
            Ok(())
        );
        for part in ["abc", "def"] {
            assert_eq!(
                verifier.verify(body, Some(sign(part, body).as_bytes())),
                Err(SignatureError::Mismatch),
                "a body signed with `{part}` alone must be refused"
            );
        }
    }
}
