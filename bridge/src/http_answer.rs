//! The answer of an `exec` run that served an HTTP request (OpenFaaS classic-watchdog semantics):
//! status, headers and the raw body bytes, carried as one JSON object in OpenWhisk's web-action
//! shape `{"statusCode", "headers", "body"}` with the body always base64, so binary output (an
//! image) survives the text-only result of a run and the activation record.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One HTTP answer of a function.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpAnswer {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body, base64 (standard alphabet, padded).
    #[serde(default)]
    pub body: String,
}

impl HttpAnswer {
    /// An answer with `status_code`, an optional `Content-Type` and `body`.
    pub fn new(status_code: u16, content_type: Option<&str>, body: &[u8]) -> Self {
        let mut headers = BTreeMap::new();
        if let Some(content_type) = content_type.filter(|value| !value.is_empty()) {
            headers.insert("Content-Type".to_owned(), content_type.to_owned());
        }
        HttpAnswer {
            status_code,
            headers,
            body: base64::engine::general_purpose::STANDARD.encode(body),
        }
    }

    /// The answer as one JSON object (the run's result text).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads an answer back from a result's JSON text (`None` when it is not one).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The decoded body (`None` when `body` is not base64).
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(self.body.as_bytes())
            .ok()
    }

    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The classic watchdog's `Content-Type` of an answer: the `content_type` variable when set,
/// else the request's own `Content-Type`.
pub fn answer_content_type<'a>(
    env: &'a BTreeMap<String, String>,
    request_headers: &'a [(String, String)],
) -> Option<&'a str> {
    env.get("content_type")
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .or_else(|| {
            request_headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                .map(|(_, value)| value.as_str())
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn binary_bodies_survive_the_json_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).chain([0, 0xff, 0x89, b'P']).collect();
        let answer = HttpAnswer::new(200, Some("image/png"), &bytes);
        let back = HttpAnswer::from_json(&answer.to_json()).unwrap();
        assert_eq!(back.body_bytes().unwrap(), bytes);
        assert_eq!(back.header("content-type"), Some("image/png"));
        assert_eq!(back.status_code, 200);
        assert!(HttpAnswer::from_json("{\"error\":1}").is_none());
    }

    #[test]
    fn content_type_comes_from_the_variable_then_the_request() {
        let headers = vec![("content-type".to_owned(), "text/csv".to_owned())];
        let mut env = BTreeMap::new();
        assert_eq!(answer_content_type(&env, &headers), Some("text/csv"));
        env.insert("content_type".to_owned(), "image/jpeg".to_owned());
        assert_eq!(answer_content_type(&env, &headers), Some("image/jpeg"));
        assert_eq!(answer_content_type(&BTreeMap::new(), &[]), None);
    }
}
