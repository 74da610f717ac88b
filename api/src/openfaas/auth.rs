//! Basic auth of `/system/*`: a namespace's key (`uuid` as the user, the key as the password),
//! checked against the same key table as the OpenWhisk API. A refusal is OpenFaaS's: 401, plain
//! text, `WWW-Authenticate: Basic realm="Restricted"`.

use crate::auth::Caller;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

/// The caller of a `/system/*` request, or the 401 answer.
pub fn system_caller(state: &ApiState, request: &HttpRequest) -> Result<Caller, Box<HttpResponse>> {
    state.authenticate(request).map_err(|error| {
        Box::new(
            HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"Restricted\""))
                .content_type("text/plain; charset=utf-8")
                .body(format!("{error}\n")),
        )
    })
}
