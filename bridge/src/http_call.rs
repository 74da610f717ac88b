//! The HTTP request a function answers, as it travels inside an activation's parameters (the
//! reserved key [`HTTP_CALL_PARAM`]): the OpenFaaS gateway puts it there, the invoker turns it
//! into the run's [`HttpRequestMeta`]. Inside the parameters it is durable with the acceptance
//! (`InvocationAccepted.params`), so an accepted call can be run again after a restart.

use crate::driver::HttpRequestMeta;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The parameter key holding an [`HttpCall`].
pub const HTTP_CALL_PARAM: &str = "__whirl_http";

/// One HTTP request for a function, JSON-friendly (the body is base64, binary safe).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpCall {
    pub method: String,
    /// The path after the function's name (`/` when none).
    pub path: String,
    /// The raw query string, without `?`.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body, base64 (standard alphabet, padded).
    #[serde(default)]
    pub body: String,
}

impl HttpCall {
    /// Encodes `body` as the call's base64 body.
    pub fn encode_body(body: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(body)
    }

    /// The call found in an activation's parameters (JSON object text), if any.
    pub fn from_params(params: &str) -> Option<Self> {
        if !params.contains(HTTP_CALL_PARAM) {
            return None;
        }
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(params).ok()?;
        serde_json::from_value(object.remove(HTTP_CALL_PARAM)?).ok()
    }

    /// The driver's view of the call (the body decoded; an undecodable body is empty).
    pub fn to_meta(&self) -> HttpRequestMeta {
        HttpRequestMeta {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            host: self.host.clone(),
            headers: self.headers.clone(),
            body: Some(
                base64::engine::general_purpose::STANDARD
                    .decode(self.body.as_bytes())
                    .unwrap_or_default(),
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_call_in_the_parameters_becomes_the_run_request() {
        let call = HttpCall {
            method: "PUT".into(),
            path: "/a/b".into(),
            query: "x=1".into(),
            host: Some("h".into()),
            headers: vec![("Content-Type".into(), "image/png".into())],
            body: HttpCall::encode_body(&[0, 1, 255]),
        };
        let params = serde_json::json!({ HTTP_CALL_PARAM: call, "other": 1 }).to_string();
        let back = HttpCall::from_params(&params).unwrap();
        assert_eq!(back, call);
        let meta = back.to_meta();
        assert_eq!(meta.body.unwrap(), vec![0, 1, 255]);
        assert_eq!(meta.method, "PUT");
        assert!(HttpCall::from_params("{\"a\":1}").is_none());
    }
}
