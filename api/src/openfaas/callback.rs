//! Delivering an async call's result: one HTTP/1.1 POST of the function's answer to the caller's
//! `X-Callback-Url` (plain `http://` only), with OpenFaaS's queue-worker headers `X-Call-Id`,
//! `X-Function-Status`, `X-Function-Name`, `X-Duration-Seconds` and the answer's `Content-Type`.
//! A failed delivery (no connection, or a status other than 2xx) is retried with exponential
//! backoff a bounded number of times, and each failure is logged with the call id; the outcome
//! (delivered, or given up and why) is what `delivery.rs` records in the log.

use super::answer::FunctionAnswer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// How callbacks are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Deliveries tried in all (at least 1).
    pub attempts: u32,
    /// The wait before the second delivery; it doubles after each failure.
    pub first_backoff: Duration,
    /// One delivery's time limit (connect, send, read the status).
    pub timeout: Duration,
}

impl Default for CallbackPolicy {
    fn default() -> Self {
        CallbackPolicy {
            attempts: 5,
            first_backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the callback carries besides the answer.
#[derive(Debug, Clone)]
pub struct CallbackMeta {
    pub call_id: String,
    pub function: String,
    pub duration: Duration,
}

/// Why one delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback URL {0} is not a plain http:// URL")]
    BadUrl(String),
    #[error("cannot reach the callback {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the callback {url} answered {status}")]
    Refused { url: String, status: u16 },
    #[error("the callback {0} did not answer in time")]
    TimedOut(String),
    #[error("no answer of call {call_id} is left in the log to deliver")]
    NoAnswer { call_id: String },
}

/// How a delivery ended: the receiver's 2xx status, or the last failure; and how many POSTs it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub tries: u32,
    pub result: Result<u16, CallbackError>,
}

/// POSTs once; `Ok` with the receiver's status when it is 2xx.
pub async fn post_once(
    url: &str,
    answer: &FunctionAnswer,
    meta: &CallbackMeta,
    timeout: Duration,
) -> Result<u16, CallbackError> {
    match tokio::time::timeout(timeout, exchange(url, answer, meta)).await {
        Ok(result) => result,
        Err(_) => Err(CallbackError::TimedOut(url.to_owned())),
    }
}

async fn exchange(
    url: &str,
    answer: &FunctionAnswer,
    meta: &CallbackMeta,
) -> Result<u16, CallbackError> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| CallbackError::BadUrl(url.to_owned()))?;
    if uri.scheme_str() != Some("http") {
        return Err(CallbackError::BadUrl(url.to_owned()));
    }
    let host = uri
        .host()
        .ok_or_else(|| CallbackError::BadUrl(url.to_owned()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let unreachable = |reason: String| CallbackError::Unreachable {
        url: url.to_owned(),
        reason,
    };
    let stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| unreachable(format!("HTTP handshake: {error}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let path = uri
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_owned();
    let authority = uri
        .authority()
        .map_or(host.clone(), |authority| authority.to_string());
    let mut request = Request::post(path)
        .header("host", authority)
        .header("x-call-id", &meta.call_id)
        .header("x-function-status", answer.status.to_string())
        .header("x-function-name", &meta.function)
        .header(
            "x-duration-seconds",
            format!("{:.6}", meta.duration.as_secs_f64()),
        );
    for (name, value) in &answer.headers {
        if name.eq_ignore_ascii_case("content-type") {
            request = request.header("content-type", value);
        }
    }
    let request = request
        .body(Full::new(Bytes::from(answer.body.clone())))
        .map_err(|error| unreachable(format!("building the request: {error}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| unreachable(format!("no answer: {error}")))?;
    let status = response.status().as_u16();
    // Read (and drop) the receiver's answer so the connection closes cleanly.
    let _ = response.into_body().collect().await;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(CallbackError::Refused {
            url: url.to_owned(),
            status,
        })
    }
}

/// Delivers with retries: ends at the first 2xx, at a URL that is not plain `http://`, or after
/// `policy.attempts` failures.
pub async fn deliver(
    url: &str,
    answer: &FunctionAnswer,
    meta: &CallbackMeta,
    policy: CallbackPolicy,
) -> DeliveryOutcome {
    let mut backoff = policy.first_backoff;
    let attempts = policy.attempts.max(1);
    let mut tries = 0;
    loop {
        tries += 1;
        let error = match post_once(url, answer, meta, policy.timeout).await {
            Ok(status) => {
                tracing::info!(call_id = %meta.call_id, function = %meta.function, attempt = tries, status, "callback delivered");
                return DeliveryOutcome {
                    tries,
                    result: Ok(status),
                };
            }
            Err(error) => error,
        };
        tracing::warn!(call_id = %meta.call_id, function = %meta.function, attempt = tries, %error, "callback failed");
        if matches!(error, CallbackError::BadUrl(_)) || tries >= attempts {
            tracing::error!(call_id = %meta.call_id, function = %meta.function, url, "callback given up");
            return DeliveryOutcome {
                tries,
                result: Err(error),
            };
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    }
}
