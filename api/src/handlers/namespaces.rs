//! `/namespaces` (the caller's namespace) and `/namespaces/{ns}/limits` (the limits in force).

use super::ok_json;
use crate::access::Scope;
use crate::error::{Error, Result};
use crate::state::ApiState;
use crate::wire::NamespaceLimitsBody;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET /namespaces`: `["<the caller's namespace>"]`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let caller = state.authenticate(&request)?;
    Ok(ok_json(&[caller.namespace.as_ref()]))
}

/// `GET /namespaces/{ns}/limits`.
pub async fn limits(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let own = state
        .store
        .projections()
        .namespace(&scope.namespace)
        .map_err(Error::store("read a namespace"))?
        .map(|doc| doc.limits)
        .unwrap_or_default();
    let config = &state.config;
    let ranges = &config.action_limits;
    Ok(ok_json(&NamespaceLimitsBody {
        invocations_per_minute: own
            .invocations_per_minute
            .unwrap_or(config.throttles.invocations_per_minute),
        concurrent_invocations: own
            .concurrent_invocations
            .unwrap_or(config.throttles.concurrent_invocations),
        fires_per_minute: own
            .fires_per_minute
            .unwrap_or(config.throttles.fires_per_minute),
        min_action_memory: ranges.memory_mb.0,
        max_action_memory: ranges.memory_mb.1,
        min_action_timeout: ranges.timeout_ms.0,
        max_action_timeout: ranges.timeout_ms.1,
        min_action_logs: ranges.logs_mb.0,
        max_action_logs: ranges.logs_mb.1,
        min_action_concurrency: ranges.concurrency.0,
        max_action_concurrency: ranges.concurrency.1,
        max_parameter_size: config.max_parameters_bytes as u64,
        max_payload_size: config.max_payload_bytes as u64,
    }))
}
