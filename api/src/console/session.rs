//! `GET /console/api/session`: checks a key and names its namespace; the console signs in with
//! it and keeps the key in the browser's session storage only.

use super::{answer, caller};
use crate::state::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// Who the console signed in as.
#[derive(Debug, Serialize)]
pub struct Session {
    pub namespace: String,
    pub uuid: String,
    /// The log's head when the session was checked (where a live stream may start).
    pub head_seq: u64,
}

/// `GET /console/api/session`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = caller(&state, &request).map(|caller| {
        HttpResponse::Ok().json(Session {
            namespace: caller.namespace.to_string(),
            uuid: caller.uuid.to_string(),
            head_seq: state.store.head_seq(),
        })
    });
    answer(&request, session)
}
