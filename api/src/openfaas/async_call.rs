//! `/async-function/{name}[/{path}]`: queue a call. The answer is 202 with `X-Call-Id` once the
//! first attempt's `InvocationAccepted` is durable in the log (the platform's non-blocking
//! acceptance) and, when an `X-Callback-Url` was given, the call's callback delivery too
//! (`delivery.rs`), so nothing answered 202 is lost; the attempts then run (retried on
//! 408/429/5xx) and the last answer is POSTed to the callback.

use super::attempts::{run_to_callback, submit, AsyncCall, PendingAttempt, RetryPolicy};
use super::call::{http_call, params_of};
use super::delivery::{accept, CallbackDelivery};
use super::invoke::{gateway_call, refusal, with_activation_id};
use super::text::text;
use crate::access::ResolvedAction;
use crate::state::ApiState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// `/async-function/{name}[/{path}]`.
pub async fn call_function_async(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    gateway_call(&request, &state, &body, |action, call_id| {
        queue(&request, &state, &body, action, call_id)
    })
    .await
}

async fn queue(
    request: &HttpRequest,
    state: &ApiState,
    body: &[u8],
    action: ResolvedAction,
    call_id: String,
) -> HttpResponse {
    let call_id = call_id.as_str();
    let path = request.match_info().get("path").unwrap_or_default();
    let callback_url = request
        .headers()
        .get("x-callback-url")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let http = http_call(request, path, body, call_id);
    let mut delivery = callback_url
        .as_deref()
        .map(|url| CallbackDelivery::new(&action.doc, call_id, url, state.now_ms()));
    let call = AsyncCall {
        params: params_of(&action, &http, body),
        action,
        call_id: call_id.to_owned(),
        callback_url,
        delivery: delivery.as_ref().map(|delivery| delivery.activation_id),
    };
    let accepted = match submit(state, &call, 1, None).await {
        Ok(accepted) => accepted,
        Err(error) => return refusal(&error),
    };
    let activation_id = accepted.activation_id;
    let pending = PendingAttempt {
        activation_id,
        record: accepted.result,
    };
    // The delivery's acceptance joins the attempt's in the same group commit.
    let delivery_durable = delivery.as_mut().map(|delivery| {
        delivery.marker.first_attempt = Some(activation_id);
        accept(state, delivery)
    });
    let mut durable = accepted.durable.await.map(drop);
    if let Some(delivery_durable) = delivery_durable {
        durable = durable.and(delivery_durable.await.map(drop));
    }
    if let Err(error) = durable {
        tracing::error!(call_id, %error, "async call not made durable");
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the call could not be made durable: {error}\n"),
        );
    }
    tracing::info!(call_id, activation_id = %activation_id, "async call accepted");
    actix_rt::spawn(run_to_callback(
        state.clone(),
        call,
        pending,
        1,
        RetryPolicy::default(),
        delivery,
    ));
    with_activation_id(HttpResponse::Accepted().finish(), &activation_id)
}
