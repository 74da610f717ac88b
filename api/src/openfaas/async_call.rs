//! `/async-function/{name}[/{path}]`: queue a call. The answer is 202 with `X-Call-Id` once the
//! first attempt's `InvocationAccepted` is durable in the log (the platform's non-blocking
//! acceptance), so nothing answered 202 is lost; the attempts then run (retried on 408/429/5xx)
//! and the last answer is POSTed to `X-Callback-Url` when one was given.

use super::attempts::{run_to_callback, submit, AsyncCall, PendingAttempt, RetryPolicy};
use super::call::{call_id_of, find_function, http_call, params_of};
use super::callback::CallbackPolicy;
use super::invoke::{refusal, with_call_headers, CallClock};
use super::text::text;
use crate::state::ApiState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// `/async-function/{name}[/{path}]`.
pub async fn call_function_async(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    let clock = CallClock::start();
    let call_id = call_id_of(&request);
    let (response, function) = queue(&request, &state, &body, &call_id).await;
    state
        .metrics
        .record_gateway_request(&function, response.status().as_u16(), clock.elapsed());
    with_call_headers(response, &call_id, &clock)
}

async fn queue(
    request: &HttpRequest,
    state: &ApiState,
    body: &[u8],
    call_id: &str,
) -> (HttpResponse, String) {
    let name = request.match_info().get("name").unwrap_or_default();
    let mut function = crate::metrics::function_name(&state.config.openfaas_namespace, None, name);
    let response = queue_inner(request, state, body, call_id, &mut function).await;
    (response, function)
}

async fn queue_inner(
    request: &HttpRequest,
    state: &ApiState,
    body: &[u8],
    call_id: &str,
    function: &mut String,
) -> HttpResponse {
    let name = request.match_info().get("name").unwrap_or_default();
    let path = request.match_info().get("path").unwrap_or_default();
    let action = match find_function(state, name) {
        Ok(Some(action)) => action,
        Ok(None) => {
            return text(
                StatusCode::NOT_FOUND,
                format!("error finding function {name}: not found\n"),
            )
        }
        Err(error) => return refusal(&error),
    };
    *function = crate::metrics::function_name(&action.doc.namespace, None, &action.doc.name);
    if body.len() > state.config.max_payload_bytes {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is {} bytes, allowed {} bytes\n",
                body.len(),
                state.config.max_payload_bytes
            ),
        );
    }
    let callback_url = request
        .headers()
        .get("x-callback-url")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let http = http_call(request, path, body, call_id);
    let call = AsyncCall {
        params: params_of(&action, &http, body),
        action,
        call_id: call_id.to_owned(),
        callback_url,
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
    if let Err(error) = accepted.durable.await {
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
        CallbackPolicy::default(),
    ));
    let mut response = HttpResponse::Accepted().finish();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&activation_id.to_string()) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-openwhisk-activation-id"),
            value,
        );
    }
    response
}
