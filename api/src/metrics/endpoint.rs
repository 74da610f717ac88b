//! `GET /metrics`: the exposition, for the peers [`authorize`](super::authorize) lets in.

use super::exposition::CONTENT_TYPE;
use super::render::render;
use crate::error::Result;
use crate::state::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET /metrics`.
pub async fn metrics(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    super::authorize(
        request.peer_addr().map(|peer| peer.ip()),
        request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .map(|value| value.as_bytes()),
        state.config.metrics_token.as_ref(),
    )?;
    // Count every record durable now, so a scrape sees all the activations acknowledged before it.
    let metrics = std::sync::Arc::clone(&state.metrics);
    if let Err(error) = web::block(move || metrics.catch_up()).await {
        tracing::warn!(%error, "cannot catch the function metrics up to the log");
    }
    let body = render(&state.metrics, &state.controller, state.invoker()).await;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(body))
}
