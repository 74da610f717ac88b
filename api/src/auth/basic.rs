//! Parsing `Authorization: Basic base64(uuid:key)`.

use crate::error::Error;
use base64::Engine;

/// The uuid and secret of a Basic `Authorization` header value.
pub fn parse_basic(header: &[u8]) -> Result<(uuid::Uuid, String), Error> {
    let encoded = header
        .strip_prefix(b"Basic ")
        .or_else(|| header.strip_prefix(b"basic "))
        .ok_or(Error::AuthenticationInvalid(
            "expected 'Authorization: Basic base64(uuid:key)'",
        ))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim_ascii())
        .map_err(|_| Error::AuthenticationInvalid("the Basic credentials are not base64"))?;
    let text = String::from_utf8(decoded)
        .map_err(|_| Error::AuthenticationInvalid("the Basic credentials are not UTF-8"))?;
    let (user, key) = text.split_once(':').ok_or(Error::AuthenticationInvalid(
        "the Basic credentials must be uuid:key",
    ))?;
    let uuid = uuid::Uuid::parse_str(user).map_err(|_| {
        Error::AuthenticationInvalid("the user of the Basic credentials is not a uuid")
    })?;
    Ok((uuid, key.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn basic_credentials_parse_and_garbage_is_named() {
        let uuid = uuid::Uuid::new_v4();
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{uuid}:secret"))
        );
        assert_eq!(
            parse_basic(header.as_bytes()).unwrap(),
            (uuid, "secret".to_owned())
        );
        assert!(parse_basic(b"Bearer x").is_err());
        assert!(parse_basic(b"Basic !!!").is_err());
        let no_colon = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("nocolon")
        );
        assert!(parse_basic(no_colon.as_bytes()).is_err());
    }
}
