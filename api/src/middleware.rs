//! The request middleware: a request id for every request (`X-Request-ID`, taken from the client
//! when it sends a sane one), CORS on `/api/v1` (OPTIONS answers 200), and the OpenWhisk error body
//! `{"error", "code"}` (the request id as `code`) for every error answer.

use crate::error::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of one request, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of `request` (empty if the middleware did not run).
    pub fn of(request: &HttpRequest) -> String {
        request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default()
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static PREFIX: OnceLock<u64> = OnceLock::new();

/// A new 32-hex-character request id: a per-process random prefix and a counter.
pub fn new_request_id() -> String {
    let prefix = *PREFIX.get_or_init(|| {
        let bytes = uuid::Uuid::new_v4();
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&bytes.as_bytes()[..8]);
        u64::from_be_bytes(prefix)
    });
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{n:016x}")
}

fn client_request_id(request: &ServiceRequest) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    sane.then(|| value.to_owned())
}

fn add_cors(headers: &mut actix_web::http::header::HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, DELETE, POST, PUT, HEAD"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent, X-Request-ID, X-Require-Whisk-Auth",
        ),
    );
}

/// The `{"error", "code"}` answer (401 answers also carry `WWW-Authenticate`).
pub fn error_response(status: StatusCode, message: &str, request_id: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"whirl\""));
    }
    response.json(crate::wire::ErrorBody {
        error: message.to_owned(),
        code: request_id.to_owned(),
    })
}

/// The message of an error raised outside the handlers (payload limits, routing).
fn message_of(error: &actix_web::Error, status: StatusCode) -> String {
    if let Some(api) = error.as_error::<Error>() {
        return api.to_string();
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return "The request content is too large for this server.".to_owned();
    }
    format!("The request content was malformed: {error}")
}

/// The middleware: see the module documentation.
pub async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = client_request_id(&request).unwrap_or_else(new_request_id);
    let api = request.path().starts_with("/api/v1");
    let web_action = request.path().starts_with("/api/v1/web/");
    if api && !web_action && request.method() == Method::OPTIONS {
        let mut response = HttpResponse::Ok().finish();
        add_cors(response.headers_mut());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        return Ok(request.into_response(response));
    }
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let response = next.call(request).await?;
    let mut response = match response.response().error() {
        Some(error) => {
            let status = response.status();
            let message = message_of(error, status);
            let status = if error.as_error::<Error>().is_none()
                && status.is_client_error()
                && status != StatusCode::PAYLOAD_TOO_LARGE
                && status != StatusCode::NOT_FOUND
            {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            // RFC 9110: a 405 lists the methods the resource takes.
            let allow = match error.as_error::<Error>() {
                Some(Error::MethodNotAllowed { allow }) => HeaderValue::from_str(allow).ok(),
                _ => None,
            };
            let mut response =
                response.into_response(error_response(status, &message, &request_id));
            if let Some(allow) = allow {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            response
        }
        None => response.map_into_boxed_body(),
    };
    let headers = response.headers_mut();
    if api && !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        add_cors(headers);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// The fallback service: no route matches.
pub async fn no_route() -> Result<HttpResponse, Error> {
    Err(Error::NotFound)
}

/// The fallback of a known path for a method it does not take; `allow` lists the methods it takes.
pub fn method_not_allowed(allow: String) -> Error {
    Error::MethodNotAllowed { allow }
}

impl Error {
    /// The answer for this error with the request's id (for code that builds responses itself).
    pub fn respond(&self, request: &HttpRequest) -> HttpResponse {
        error_response(
            self.status_code(),
            &self.to_string(),
            &RequestId::of(request),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_hex_and_distinct() {
        let a = new_request_id();
        let b = new_request_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
