//! `/function/{name}[/{path}]`, any method: a synchronous call. The function answers with its own
//! status, headers and body bytes; every answer carries `X-Call-Id`, `X-Start-Time` (unix ns) and
//! `X-Duration-Seconds`. `max_inflight` calls of a function may run at once (429 beyond);
//! `exec_timeout` is the action's timeout (408 when exceeded). No authentication, as in OpenFaaS.

use super::answer::{answer_of, FunctionAnswer};
use super::call::{call_id_of, find_function, http_call, params_of};
use super::settings::{deployment_of, max_inflight};
use super::text::text;
use crate::access::ResolvedAction;
use crate::error::Error;
use crate::invoke::{invoke, InvocationContext, InvokeOutcome};
use crate::state::ApiState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// When a call started, for its `X-Start-Time` and `X-Duration-Seconds`.
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    started: Instant,
    start_ns: u128,
}

impl CallClock {
    pub fn start() -> Self {
        CallClock {
            started: Instant::now(),
            start_ns: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos()),
        }
    }

    pub fn start_ns(&self) -> u128 {
        self.start_ns
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Adds the gateway's headers to an answer.
pub fn with_call_headers(
    mut response: HttpResponse,
    call_id: &str,
    clock: &CallClock,
) -> HttpResponse {
    let headers = response.headers_mut();
    let pairs = [
        ("x-call-id", call_id.to_owned()),
        ("x-start-time", clock.start_ns().to_string()),
        (
            "x-duration-seconds",
            format!("{:.6}", clock.elapsed().as_secs_f64()),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&value) {
            headers.insert(
                actix_web::http::header::HeaderName::from_static(name),
                value,
            );
        }
    }
    response
}

/// The HTTP answer of a function's answer.
pub fn respond_with(answer: &FunctionAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &answer.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            response.insert_header((name.as_str(), value.as_str()));
        }
    }
    response.body(answer.body.clone())
}

/// The plain-text answer of a refused invocation (429 over a namespace limit, 503 without an
/// invoker, the API's status otherwise).
pub fn refusal_answer(error: &Error) -> FunctionAnswer {
    use actix_web::ResponseError;
    FunctionAnswer {
        status: error.status_code().as_u16(),
        headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
        body: format!("{error}\n").into_bytes(),
    }
}

/// [`refusal_answer`] as a response.
pub fn refusal(error: &Error) -> HttpResponse {
    respond_with(&refusal_answer(error))
}

/// What every gateway call does around its own work: it takes the call id, finds the function
/// (404), checks the body against the payload limit (413), counts the answer in `/metrics` and
/// gives it `X-Call-Id`, `X-Start-Time` and `X-Duration-Seconds`. `work` gets the function and the
/// call id and makes the answer.
pub async fn gateway_call<F, Fut>(
    request: &HttpRequest,
    state: &ApiState,
    body: &[u8],
    work: F,
) -> HttpResponse
where
    F: FnOnce(ResolvedAction, String) -> Fut,
    Fut: std::future::Future<Output = HttpResponse>,
{
    let clock = CallClock::start();
    let call_id = call_id_of(request);
    let name = request.match_info().get("name").unwrap_or_default();
    let (response, function) = match find_function(state, name) {
        Ok(Some(action)) => {
            let function =
                crate::metrics::function_name(&action.doc.namespace, None, &action.doc.name);
            let response = if body.len() > state.config.max_payload_bytes {
                text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request body is {} bytes, allowed {} bytes\n",
                        body.len(),
                        state.config.max_payload_bytes
                    ),
                )
            } else {
                work(action, call_id.clone()).await
            };
            (response, function)
        }
        found => {
            let response = match found {
                Err(error) => refusal(&error),
                _ => text(
                    StatusCode::NOT_FOUND,
                    format!("error finding function {name}: not found\n"),
                ),
            };
            let function =
                crate::metrics::function_name(&state.config.openfaas_namespace, None, name);
            (response, function)
        }
    };
    state
        .metrics
        .record_gateway_request(&function, response.status().as_u16(), clock.elapsed());
    with_call_headers(response, &call_id, &clock)
}

/// Names the activation that answered (`X-OpenWhisk-Activation-Id`).
pub fn with_activation_id(mut response: HttpResponse, id: &store::ActivationId) -> HttpResponse {
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-openwhisk-activation-id"),
            value,
        );
    }
    response
}

/// `/function/{name}[/{path}]`.
pub async fn call_function(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    gateway_call(&request, &state, &body, |action, call_id| {
        call(&request, &state, &body, action, call_id)
    })
    .await
}

async fn call(
    request: &HttpRequest,
    state: &ApiState,
    body: &[u8],
    action: ResolvedAction,
    call_id: String,
) -> HttpResponse {
    let call_id = call_id.as_str();
    let path = request.match_info().get("path").unwrap_or_default();
    let deployment = deployment_of(&action.doc);
    let function = format!("{}/{}", action.doc.namespace, action.doc.name);
    let limit = max_inflight(&deployment);
    let Some(_in_flight) = state.gateway.enter(&function, limit) else {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Concurrent request limit exceeded. Max concurrent requests: {}\n",
                limit.unwrap_or_default()
            ),
        );
    };
    let call = http_call(request, path, body, call_id);
    let params = params_of(&action, &call, body);
    let context = InvocationContext::system(&action.doc.namespace, call_id.to_owned());
    let wait =
        Duration::from_millis(action.doc.limits.timeout_ms).saturating_add(Duration::from_secs(30));
    let outcome = invoke(state, &context, &action, params, Some(wait)).await;
    match outcome {
        Ok(InvokeOutcome::Recorded(doc)) => {
            with_activation_id(respond_with(&answer_of(&doc)), &doc.activation_id)
        }
        Ok(InvokeOutcome::Accepted(id)) => text(
            StatusCode::GATEWAY_TIMEOUT,
            format!("the function did not answer in time; its activation is {id}\n"),
        ),
        Err(error) => refusal(&error),
    }
}
