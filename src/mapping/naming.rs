//! Object names: the fabric's conventions, RFC 1123 checks, deterministic shortening and the
//! natural port order (`E1/2` before `E1/10`).

use std::cmp::Ordering;

use sha2::{Digest, Sha256};

/// Longest name for objects whose name becomes part of a label (connections, switches, servers).
pub(crate) const LABEL_NAME_MAX: usize = 63;
/// Longest name Kubernetes allows for any object.
pub(crate) const OBJECT_NAME_MAX: usize = 253;
/// Longest VPC, IPv4Namespace and External name.
pub(crate) const SHORT_NAME_MAX: usize = 11;

/// Shortens `name` to at most `max` characters by cutting it and appending `-` plus 8 hex
/// characters of its SHA-256, so distinct long names stay distinct and the result is stable.
pub(crate) fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hash = hex::encode(&digest[..4]);
    let keep = max.saturating_sub(hash.len() + 1);
    let mut cut: String = name.chars().take(keep).collect();
    while cut.ends_with(['-', '.']) {
        cut.pop();
    }
    format!("{cut}-{hash}")
}

/// Why a name is not a lowercase RFC 1123 subdomain, if it is not.
pub(crate) fn rfc1123_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > OBJECT_NAME_MAX {
        return Some("is longer than 253 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Some("may only contain lowercase letters, digits, '-' and '.'");
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Some("must start and end with a letter or digit");
    }
    None
}

/// Lowercases and replaces what a name may not hold with `-` (`Eth 1/1` → `eth-1-1`).
pub(crate) fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(['-', '.']).to_owned()
}

/// Compares strings with digit runs as numbers: `E1/2` < `E1/10`.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[start.min(digits.len().saturating_sub(1))..]
}

/// The canonical form of a switch port for reuse checks: `E1/4/1` is the same port as `E1/4`.
pub(crate) fn canonical_port(port: &str) -> &str {
    match port.strip_suffix("/1") {
        Some(base) if base.matches('/').count() == 1 && base.starts_with('E') => base,
        _ => port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_is_stable_bounded_and_distinct() {
        let long = "a".repeat(80);
        let other = format!("{}b", "a".repeat(79));
        let s = shorten(&long, 63);
        assert_eq!(s.len(), 63);
        assert_eq!(s, shorten(&long, 63));
        assert_ne!(s, shorten(&other, 63));
        assert_eq!(shorten("short", 63), "short");
        assert!(rfc1123_problem(&s).is_none());
    }

    #[test]
    fn rfc1123() {
        assert!(rfc1123_problem("leaf-01").is_none());
        assert!(rfc1123_problem("Leaf-01").is_some());
        assert!(rfc1123_problem("-leaf").is_some());
        assert!(rfc1123_problem("leaf_01").is_some());
        assert!(rfc1123_problem("").is_some());
    }

    #[test]
    fn natural_order_and_aliases() {
        let mut ports = vec!["E1/10", "E1/2", "E1/1/2", "E1/1/1"];
        ports.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ports, ["E1/1/1", "E1/1/2", "E1/2", "E1/10"]);
        assert_eq!(canonical_port("E1/4/1"), "E1/4");
        assert_eq!(canonical_port("E1/4"), "E1/4");
        assert_eq!(canonical_port("E1/4/2"), "E1/4/2");
        assert_eq!(canonical_port("E1/1"), "E1/1");
        assert_eq!(slugify("Eth 1/1"), "eth-1-1");
    }
}
