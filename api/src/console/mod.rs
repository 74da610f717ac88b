//! The web console at `/console`: the single-page app embedded in the binary ([`assets`]) and the
//! few endpoints only the console needs, under `/console/api/` — the sign-in check
//! ([`session`]), the live stream of the namespace's activations and entity changes
//! ([`events`], server-sent events fed by a subscription to the event log), statistics over
//! the last hour with the container pool's state ([`stats`]), an entity's history
//! ([`history`]) and the log's verification ([`verify`]). Everything else the console shows
//! (actions, triggers, rules, activations, invocations) comes from the OpenWhisk API with the same
//! key. The routes are in the route table (`crate::routes`).

pub mod assets;
pub mod events;
pub mod history;
pub mod session;
pub mod stats;
pub mod verify;

use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::ApiState;
use actix_web::{HttpRequest, HttpResponse};

/// Authenticates a console request with the API's key (Basic `uuid:key`).
fn caller(state: &ApiState, request: &HttpRequest) -> Result<Caller> {
    state.authenticate(request)
}

/// The answer of a console endpoint: refusals carry the API's `{"error", "code"}` body but no
/// `WWW-Authenticate` header, so a browser never opens its own sign-in dialog over the console's.
fn answer(request: &HttpRequest, result: Result<HttpResponse>) -> HttpResponse {
    match result {
        Ok(response) => response,
        Err(error) => refusal(request, &error),
    }
}

fn refusal(request: &HttpRequest, error: &Error) -> HttpResponse {
    let mut response = error.respond(request);
    response
        .headers_mut()
        .remove(actix_web::http::header::WWW_AUTHENTICATE);
    response
}
