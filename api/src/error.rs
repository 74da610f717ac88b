//! The API's error enum: every refusal the server gives, with its HTTP status and OpenWhisk's
//! message. The request-id middleware turns it into the `{"error", "code"}` body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("The resource requires authentication, which was not supplied with the request.")]
    AuthenticationMissing,
    #[error("The supplied authentication is invalid: {0}")]
    AuthenticationInvalid(&'static str),
    #[error("The supplied authentication is not authorized to access '{0}'.")]
    Forbidden(String),
    #[error("The requested resource does not exist.")]
    NotFound,
    /// A resource that does not exist, named (e.g. a sequence component or a rule's trigger).
    #[error("{0}")]
    NotFoundNamed(String),
    /// A method the path does not take; `allow` lists the ones it does (the `Allow` header).
    #[error("The requested method is not allowed for this resource.")]
    MethodNotAllowed { allow: String },
    #[error("resource already exists")]
    Conflict,
    #[error("{0}")]
    ConflictDetail(String),
    /// The request is malformed or names an invalid value; the text says what to fix.
    #[error("{0}")]
    BadRequest(String),
    #[error("The request content is too large: {what} is {size} bytes, allowed {allowed} bytes.")]
    TooLarge {
        what: &'static str,
        size: usize,
        allowed: usize,
    },
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Throttled(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error while trying to {what}: {reason}")]
    Internal { what: &'static str, reason: String },
}

/// The API's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An internal failure while doing `what`.
    pub fn internal(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Internal {
            what,
            reason: reason.to_string(),
        }
    }

    /// Maps a store failure while doing `what` (logged: it is the server's fault).
    pub fn store(what: &'static str) -> impl FnOnce(store::Error) -> Error {
        move |error| {
            tracing::error!(%error, what, "store failure");
            Error::internal(what, error)
        }
    }

    /// A bad request.
    pub fn bad(message: impl Into<String>) -> Self {
        Error::BadRequest(message.into())
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::AuthenticationMissing | Error::AuthenticationInvalid(_) => {
                StatusCode::UNAUTHORIZED
            }
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound | Error::NotFoundNamed(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict | Error::ConflictDetail(_) => StatusCode::CONFLICT,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body without the request id; the request-id middleware rebuilds it with the id.
    fn error_response(&self) -> HttpResponse {
        crate::middleware::error_response(self.status_code(), &self.to_string(), "")
    }
}

impl From<actors::controller_actor::InvokeError> for Error {
    fn from(error: actors::controller_actor::InvokeError) -> Self {
        use actors::controller_actor::InvokeError;
        match error {
            InvokeError::Throttled(message) => Error::Throttled(message),
            InvokeError::NoInvoker => Error::Unavailable(error.to_string()),
            InvokeError::Internal(reason) => Error::Internal {
                what: "invoke",
                reason,
            },
        }
    }
}

impl From<crate::wire::WireError> for Error {
    fn from(error: crate::wire::WireError) -> Self {
        Error::BadRequest(error.to_string())
    }
}
