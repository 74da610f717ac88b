//! Invocation and fire bodies: an empty body or a JSON object, within the payload limit.

use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// The parameters of an invocation or fire body.
pub fn parse_payload(body: &[u8], max_bytes: usize) -> Result<Map<String, Value>> {
    if body.len() > max_bytes {
        return Err(Error::TooLarge {
            what: "the request body",
            size: body.len(),
            allowed: max_bytes,
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::bad(
            "The request content was malformed: the parameters must be a JSON object.",
        )),
        Err(error) => Err(Error::bad(format!(
            "The request content was malformed: {error}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_objects_within_the_limit() {
        assert!(parse_payload(b"", 10).is_ok_and(|map| map.is_empty()));
        assert!(parse_payload(br#"{"a":1}"#, 10).is_ok_and(|map| map.len() == 1));
        assert!(matches!(
            parse_payload(b"[1]", 10),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse_payload(b"{nope", 10),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse_payload(br#"{"a":"0123456789"}"#, 10),
            Err(Error::TooLarge { .. })
        ));
    }
}
