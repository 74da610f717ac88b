//! How an invocation ended for the caller, and the HTTP answer for it: 200 with the record (or
//! only its result with `result=true`) on success, 502 for application and developer errors, 500
//! for internal errors, 202 `{"activationId"}` when not blocking or still running after the wait.

use crate::wire::{Activation, ActivationIdBody};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use store::{ActivationDoc, ActivationId, ActivationStatus};

/// What an invocation gave the caller.
#[derive(Debug, Clone)]
pub enum InvokeOutcome {
    /// The record (already durable).
    Recorded(Box<ActivationDoc>),
    /// Accepted and durable, but not (yet) finished for this caller.
    Accepted(ActivationId),
}

impl InvokeOutcome {
    pub fn activation_id(&self) -> ActivationId {
        match self {
            InvokeOutcome::Recorded(doc) => doc.activation_id,
            InvokeOutcome::Accepted(id) => *id,
        }
    }
}

/// The HTTP status of a finished activation.
pub fn status_of_record(status: ActivationStatus) -> StatusCode {
    match status {
        ActivationStatus::Success => StatusCode::OK,
        ActivationStatus::ApplicationError | ActivationStatus::ActionDeveloperError => {
            StatusCode::BAD_GATEWAY
        }
        ActivationStatus::WhiskInternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer to an invocation request.
pub fn respond(outcome: &InvokeOutcome, result_only: bool) -> HttpResponse {
    match outcome {
        InvokeOutcome::Accepted(id) => HttpResponse::Accepted().json(ActivationIdBody {
            activation_id: id.to_string(),
        }),
        InvokeOutcome::Recorded(doc) => {
            let mut response = HttpResponse::build(status_of_record(doc.status));
            if result_only {
                response
                    .content_type("application/json")
                    .body(doc.result.as_str().to_owned())
            } else {
                response.json(Activation::from_doc(doc))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_openwhisk_http_codes() {
        assert_eq!(status_of_record(ActivationStatus::Success), StatusCode::OK);
        assert_eq!(
            status_of_record(ActivationStatus::ApplicationError),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of_record(ActivationStatus::ActionDeveloperError),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of_record(ActivationStatus::WhiskInternalError),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let accepted = respond(&InvokeOutcome::Accepted(ActivationId([7; 16])), false);
        assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    }
}
