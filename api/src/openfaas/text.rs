//! Plain-text answers, as OpenFaaS's gateway writes its errors.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// `status` with `message` as a plain-text body.
pub fn text(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(message.into())
}

/// 400 with `message`.
pub fn bad_request(message: impl Into<String>) -> HttpResponse {
    text(StatusCode::BAD_REQUEST, message)
}

/// The plain-text answer of an API error (status kept, message as text).
pub fn from_error(error: &crate::error::Error) -> HttpResponse {
    use actix_web::ResponseError;
    text(error.status_code(), error.to_string())
}
