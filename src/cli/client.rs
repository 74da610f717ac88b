//! `ApiClient`: the CLI's small blocking HTTP/1.1 client for the OpenWhisk REST API under
//! `/api/v1` (keep-alive through one `ureq` agent, Basic auth, JSON bodies). Plain HTTP only:
//! `https` API hosts are refused by [`super::property::base_url`].

use super::client_error::ClientError;
use super::property::{ConnectionArgs, Settings};
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server may take to answer: more than a blocking invoke's longest wait (60 s).
const READ_TIMEOUT: Duration = Duration::from_secs(90);

/// A client of one API host with one key.
pub struct ApiClient {
    agent: ureq::Agent,
    /// `http://host:port`.
    base_url: String,
    /// `Basic ...`, when a key is set.
    authorization: Option<String>,
}

/// A 2xx answer: its status, its JSON body (`Null` when the body is empty), and the body's text
/// as sent (printed as it came, key order included).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl ApiClient {
    /// A client for the settings' API host; the key is required.
    pub fn new(settings: &Settings) -> Result<Self, ClientError> {
        let key = settings.auth_key()?;
        Ok(Self::with_key(settings.base_url()?, Some(key)))
    }

    /// A client from the flags, environment and properties file.
    pub fn connect(connection: &ConnectionArgs) -> Result<Self, ClientError> {
        Self::new(&super::property::resolve(connection)?)
    }

    /// A client for `base_url` (`http://host:port`), with or without a key.
    pub fn with_key(base_url: String, key: Option<&str>) -> Self {
        ApiClient {
            agent: agent(),
            base_url,
            authorization: key.map(basic_authorization),
        }
    }

    /// The API host this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A request to `path` under `/api/v1` (e.g. `/namespaces/_/actions/hello`; path segments
    /// already encoded with [`super::names::encode_segment`]). `doing` names the operation in
    /// errors ("Unable to invoke action 'hello'"), `noun` picks the hint.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        doing: impl Into<String>,
        noun: &'static str,
    ) -> Call<'_> {
        Call {
            client: self,
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
            allowed: Vec::new(),
            hints: Vec::new(),
            doing: doing.into(),
            noun,
        }
    }
}

/// The keep-alive agent every client request goes through.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .user_agent(concat!("whirl-cli/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `Basic base64(UUID:KEY)`.
pub fn basic_authorization(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(key.trim())
    )
}

/// One request being built.
pub struct Call<'a> {
    client: &'a ApiClient,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    /// Non-2xx statuses answered as `Ok` (a blocking invoke's 502 carries the activation).
    allowed: Vec<u16>,
    /// Hints for particular error statuses.
    hints: Vec<(u16, String)>,
    doing: String,
    noun: &'static str,
}

impl Call<'_> {
    /// Answers `status` as `Ok` with its body instead of as an error.
    pub fn allow_status(mut self, status: u16) -> Self {
        self.allowed.push(status);
        self
    }

    /// Gives the hint for an error answer with `status`.
    pub fn hint_on(mut self, status: u16, hint: impl Into<String>) -> Self {
        self.hints.push((status, hint.into()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends the request; a non-2xx answer becomes [`ClientError::Api`].
    pub fn send(self) -> Result<ApiResponse, ClientError> {
        let url = format!("{}/api/v1{}", self.client.base_url, self.path);
        let mut request = self.client.agent.request(self.method.as_str(), &url);
        if let Some(authorization) = &self.client.authorization {
            request = request.set("Authorization", authorization);
        }
        for (key, value) in &self.query {
            request = request.query(key, value);
        }
        tracing::debug!(method = self.method.as_str(), %url, "API request");
        let answer = match &self.body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        match answer {
            Ok(response) => {
                let status = response.status();
                let text = read_body(response, &self.doing)?;
                let body = parse_body(&text).map_err(|detail| ClientError::BadAnswer {
                    doing: self.doing.clone(),
                    detail,
                })?;
                Ok(ApiResponse { status, body, text })
            }
            Err(ureq::Error::Status(status, response)) if self.allowed.contains(&status) => {
                let text = read_body(response, &self.doing)?;
                let body = parse_body(&text).map_err(|detail| ClientError::BadAnswer {
                    doing: self.doing.clone(),
                    detail,
                })?;
                Ok(ApiResponse { status, body, text })
            }
            Err(ureq::Error::Status(status, response)) => {
                let request_id = response.header("X-Request-ID").map(str::to_string);
                let text = response.into_string().unwrap_or_default();
                let (message, code) = error_body(status, &text, request_id);
                let hint = self
                    .hints
                    .into_iter()
                    .find(|(s, _)| *s == status)
                    .map(|(_, hint)| hint);
                Err(ClientError::Api {
                    doing: self.doing,
                    status,
                    message,
                    code,
                    noun: self.noun,
                    hint,
                })
            }
            Err(ureq::Error::Transport(transport)) => Err(ClientError::Unreachable {
                apihost: self.client.base_url.clone(),
                detail: transport.to_string(),
            }),
        }
    }
}

impl ApiResponse {
    /// The body as a wire type; `doing` names the operation if it does not fit.
    /// Read from the text, so a type that keeps part of it raw (an activation's `result`) reads
    /// an answer nested deeper than [`ApiResponse::body`] can hold.
    pub fn decode<T: serde::de::DeserializeOwned>(&self, doing: &str) -> Result<T, ClientError> {
        let decoded = if self.text.trim().is_empty() {
            serde_json::from_value(Value::Null)
        } else {
            serde_json::from_str(&self.text)
        };
        decoded.map_err(|e| ClientError::BadAnswer {
            doing: doing.to_string(),
            detail: e.to_string(),
        })
    }
}

fn read_body(response: ureq::Response, doing: &str) -> Result<String, ClientError> {
    response.into_string().map_err(|e| ClientError::BadAnswer {
        doing: doing.to_string(),
        detail: format!("reading the body failed: {e}"),
    })
}

/// A 2xx body: empty is `Null`, anything else must be JSON. JSON nested deeper than serde_json
/// builds a value for (an action's result can be) is checked without building one and reads as
/// `Null` here: the commands that print it use the text, and [`ApiResponse::decode`] reads it.
fn parse_body(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).or_else(|e| {
        if is_too_deep(&e) && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Ok(Value::Null);
        }
        let start: String = text.chars().take(120).collect();
        Err(format!("{e} in {start:?}"))
    })
}

/// serde_json's refusal of JSON nested more than 128 levels deep.
fn is_too_deep(error: &serde_json::Error) -> bool {
    error.to_string().starts_with("recursion limit exceeded")
}

/// The message and request id of an error answer (`{"error": ..., "code": ...}`), with
/// something sensible when the body is not that.
fn error_body(status: u16, text: &str, request_id: Option<String>) -> (String, String) {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .map(|e| match e {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| {
            let text = text.trim();
            if text.is_empty() {
                format!("the server answered HTTP {status} with no explanation")
            } else {
                let start: String = text.chars().take(200).collect();
                format!("HTTP {status}: {start}")
            }
        });
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("code"))
        .map(|c| match c {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .or(request_id)
        .unwrap_or_else(|| "-".into());
    (message, code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::test_http::read_request;
    use std::io::{BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn deeply_nested_answers_read_as_null_bodies_and_broken_ones_are_refused() {
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(parse_body(&deep), Ok(Value::Null));
        let broken = format!("{}{}", "[".repeat(300), "]".repeat(299));
        assert!(parse_body(&broken).is_err());
        assert_eq!(parse_body(r#"{"a":1}"#), Ok(serde_json::json!({"a": 1})));
    }

    #[test]
    fn basic_auth_is_base64_of_the_whole_key() {
        assert_eq!(basic_authorization("u:k"), "Basic dTpr");
    }

    #[test]
    fn error_bodies_yield_message_and_code() {
        let (m, c) = error_body(
            404,
            r#"{"error":"The requested resource does not exist.","code":"r1"}"#,
            None,
        );
        assert_eq!(m, "The requested resource does not exist.");
        assert_eq!(c, "r1");
        let (m, c) = error_body(500, "", Some("hdr".into()));
        assert!(m.contains("HTTP 500"));
        assert_eq!(c, "hdr");
        let (m, c) = error_body(502, "bad gateway", None);
        assert_eq!(m, "HTTP 502: bad gateway");
        assert_eq!(c, "-");
    }

    /// Serves canned answers on a loopback port, one per connection, and returns what it was sent.
    fn canned_server(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let request = read_request(&mut reader).unwrap();
                seen.push(request.head + &request.body);
                let mut stream = stream;
                stream.write_all(answer.as_bytes()).unwrap();
            }
            seen
        });
        (base, handle)
    }

    fn answer(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn requests_carry_auth_query_and_body_and_errors_name_the_operation() {
        let (base, server) = canned_server(vec![
            answer("200 OK", r#"{"ok":true}"#),
            answer(
                "404 Not Found",
                r#"{"error":"The requested resource does not exist.","code":"x"}"#,
            ),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_string(),
        ]);
        let client = ApiClient::with_key(base, Some("u:k"));
        let answer = client
            .call(
                Method::Put,
                "/namespaces/_/actions/a%20b",
                "Unable to create action 'a b'",
                "action",
            )
            .query("overwrite", true)
            .json(serde_json::json!({"x": 1}))
            .send()
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, serde_json::json!({"ok": true}));

        let err = client
            .call(
                Method::Post,
                "/namespaces/_/actions/nope",
                "Unable to invoke action 'nope'",
                "action",
            )
            .send()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unable to invoke action 'nope': The requested resource does not exist. (code x)"
        );
        assert!(matches!(err, ClientError::Api { status: 404, .. }));

        let empty = client
            .call(
                Method::Post,
                "/namespaces/_/triggers/t",
                "Unable to fire trigger 't'",
                "trigger",
            )
            .send()
            .unwrap();
        assert_eq!((empty.status, empty.body), (204, Value::Null));

        let seen = server.join().unwrap();
        assert!(
            seen[0].starts_with("PUT /api/v1/namespaces/_/actions/a%20b?overwrite=true HTTP/1.1"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].contains("Authorization: Basic dTpr")
                || seen[0].contains("authorization: Basic dTpr")
        );
        assert!(seen[0].ends_with("{\"x\":1}"));
        assert!(seen[1].starts_with("POST /api/v1/namespaces/_/actions/nope"));
    }

    #[test]
    fn an_unreachable_host_says_so_with_a_hint() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = ApiClient::with_key(base.clone(), Some("u:k"));
        let err = client
            .call(
                Method::Get,
                "/namespaces",
                "Unable to list namespaces",
                "namespace",
            )
            .send()
            .unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains(&base));
        assert!(err.hint().unwrap().contains("whirl serve"));
    }
}
