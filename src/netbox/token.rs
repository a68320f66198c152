//! The `Authorization` header for a NetBox token, whatever form the operator pasted:
//! the whole v2 header value (`Bearer nbt_<key>.<secret>`), the bare v2 credential
//! (`nbt_<key>.<secret>`), a v1 key (40 characters, sent as `Token <key>`) or `Token <key>`.
//! NetBox infers the token version from the `nbt_` prefix, so the keyword only has to be one
//! NetBox accepts; `Bearer` is used for v2 as NetBox documents.

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use super::error::{ClientConfigError, NetBoxError};

/// Builds the header value, marked sensitive so `Debug` and HTTP logging never show it.
pub(crate) fn authorization_header(token: &SecretString) -> Result<HeaderValue, NetBoxError> {
    let raw = token.expose_secret().trim();
    if raw.is_empty() {
        return Err(ClientConfigError::EmptyToken.into());
    }
    let value = if has_keyword(raw, "Bearer") || has_keyword(raw, "Token") {
        raw.to_owned()
    } else if raw.starts_with("nbt_") {
        format!("Bearer {raw}")
    } else {
        format!("Token {raw}")
    };
    let mut header = HeaderValue::from_str(&value).map_err(ClientConfigError::TokenNotAHeader)?;
    header.set_sensitive(true);
    Ok(header)
}

fn has_keyword(raw: &str, keyword: &str) -> bool {
    raw.len() > keyword.len()
        && raw[..keyword.len()].eq_ignore_ascii_case(keyword)
        && raw[keyword.len()..].starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(token: &str) -> String {
        authorization_header(&SecretString::from(token.to_owned()))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn every_token_form_gives_the_right_header() {
        assert_eq!(header("nbt_abc.def"), "Bearer nbt_abc.def");
        assert_eq!(header("Bearer nbt_abc.def"), "Bearer nbt_abc.def");
        assert_eq!(header("0123456789abcdef"), "Token 0123456789abcdef");
        assert_eq!(header("Token 0123456789abcdef"), "Token 0123456789abcdef");
        assert_eq!(header("  nbt_abc.def\n"), "Bearer nbt_abc.def");
    }

    #[test]
    fn header_is_sensitive_and_empty_is_rejected() {
        let value = authorization_header(&SecretString::from("nbt_x.y".to_owned())).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("nbt_x"));
        assert!(authorization_header(&SecretString::from(" ".to_owned())).is_err());
    }
}
