//! `POST /system/scale-function/{name}` (`{"serviceName", "replicas"}`): sets the function's
//! replica count in this process's invoker pool; it becomes the function's warm floor (idle
//! replicas above it are removed at once, missing ones started). After a deploy, the function's
//! floor (`com.openfaas.scale.min`, unless it scales to zero) is started the same way.

use super::auth::system_caller;
use super::functions::read_function;
use super::text::{bad_request, from_error, text};
use crate::state::ApiState;
use crate::wire::ScaleServiceRequest;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use actors::invoker_actor::ScaleAction;
use store::ActionDoc;

/// The most replicas one request may ask for.
pub const MAX_REPLICAS: u64 = 1000;

/// Asks the local invoker's pool for `replicas` containers of the function `doc`; false when
/// this process runs no invoker.
pub async fn scale_in_pool(state: &ApiState, doc: &ActionDoc, replicas: u32) -> bool {
    let Some(invoker) = state.invoker() else {
        return false;
    };
    let scale = ScaleAction {
        namespace: doc.namespace.clone(),
        action: doc.clone(),
        replicas,
    };
    match invoker.send(scale).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, function = %doc.name, "cannot reach the invoker to scale");
            false
        }
    }
}

/// `POST /system/scale-function/{name}`.
pub async fn scale_function(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let name = request.match_info().get("name").unwrap_or_default();
    let scale: ScaleServiceRequest = match serde_json::from_slice(&body) {
        Ok(scale) => scale,
        Err(error) => return bad_request(format!("invalid scale request: {error}\n")),
    };
    if !scale.service_name.is_empty() && scale.service_name != name {
        return bad_request(format!(
            "serviceName {} does not match the path's {name}\n",
            scale.service_name
        ));
    }
    if scale.replicas > MAX_REPLICAS {
        return bad_request(format!("replicas must be at most {MAX_REPLICAS}\n"));
    }
    let doc = match read_function(&state, &caller.namespace, name) {
        Ok(Some(doc)) => doc,
        Ok(None) => {
            return text(
                StatusCode::NOT_FOUND,
                format!("function {name} not found\n"),
            )
        }
        Err(error) => return from_error(&error),
    };
    let replicas = u32::try_from(scale.replicas).unwrap_or(u32::MAX);
    if !scale_in_pool(&state, &doc, replicas).await {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "this process runs no invoker to scale\n",
        );
    }
    tracing::info!(function = %doc.name, namespace = %doc.namespace, replicas, "function scaled");
    HttpResponse::Accepted().finish()
}
