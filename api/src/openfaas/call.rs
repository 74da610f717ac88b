//! One call of a function as the gateway receives it: which function (`namespace.rs`), the HTTP
//! request as the function sees it (an `HttpCall` in the parameters for `exec` and image
//! functions; web-action style `__ow_*` parameters, with a JSON object body merged in, for the
//! runtime kinds), and the call id (`X-Call-Id`, the client's or a new uuid).

use super::namespace::candidates;
use crate::access::{resolve_action, ResolvedAction};
use crate::error::Error;
use crate::state::ApiState;
use crate::wire::to_object;
use actix_web::HttpRequest;
use bridge::{HttpCall, HTTP_CALL_PARAM};
use serde_json::{Map, Value};
use store::{Exec, FullyQualifiedName};

/// Headers the gateway does not hand to functions (hop-by-hop, and the caller's credentials).
const DROPPED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "transfer-encoding",
    "te",
    "upgrade",
    "keep-alive",
];

/// The function a `/function/{name}` path names, as the default namespace (or the name's
/// `.namespace` suffix) holds it.
pub fn find_function(state: &ApiState, name: &str) -> Result<Option<ResolvedAction>, Error> {
    for (namespace, function) in candidates(name, &state.config.openfaas_namespace) {
        if crate::names::check_name("function", function).is_err() {
            continue;
        }
        let qualified = FullyQualifiedName::new(namespace, function);
        match resolve_action(state, namespace, &qualified) {
            Ok(resolved) if !matches!(resolved.doc.exec, Exec::Sequence { .. }) => {
                return Ok(Some(resolved))
            }
            Ok(_) | Err(Error::NotFound) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// The call id of a request: its `X-Call-Id` when it sent a sane one, else a new uuid.
pub fn call_id_of(request: &HttpRequest) -> String {
    request
        .headers()
        .get("x-call-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The request as the function sees it; like OpenFaaS's gateway, it carries the call's
/// `X-Call-Id` (`Http_X_Call_Id` for the watchdog) even when the client sent none.
pub fn http_call(request: &HttpRequest, path: &str, body: &[u8], call_id: &str) -> HttpCall {
    let mut headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter(|(name, _)| !DROPPED_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|value| (name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("x-call-id"))
    {
        headers.push(("X-Call-Id".to_owned(), call_id.to_owned()));
    }
    HttpCall {
        method: request.method().as_str().to_owned(),
        path: if path.is_empty() {
            "/".to_owned()
        } else {
            format!("/{}", path.trim_start_matches('/'))
        },
        query: request.query_string().to_owned(),
        host: request
            .headers()
            .get("host")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        headers,
        body: HttpCall::encode_body(body),
    }
}

/// The parameters of a call: the action's, then the request. `exec` and image functions get the
/// request whole (`__whirl_http`); runtime kinds get `__ow_method`, `__ow_path`, `__ow_query`,
/// `__ow_headers`, `__ow_body` (text, or base64 when not UTF-8), and a JSON object body merged.
pub fn params_of(action: &ResolvedAction, call: &HttpCall, body: &[u8]) -> Map<String, Value> {
    let mut params = to_object(&action.parameters);
    match action.doc.exec {
        Exec::Command { .. } | Exec::Blackbox { .. } => {
            params.insert(
                HTTP_CALL_PARAM.to_owned(),
                serde_json::to_value(call).unwrap_or(Value::Null),
            );
        }
        _ => {
            if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
                params.extend(object);
            }
            let headers: Map<String, Value> = call
                .headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
                .collect();
            params.insert(
                "__ow_method".into(),
                call.method.to_ascii_lowercase().into(),
            );
            params.insert("__ow_path".into(), call.path.clone().into());
            params.insert("__ow_query".into(), call.query.clone().into());
            params.insert("__ow_headers".into(), Value::Object(headers));
            params.insert(
                "__ow_body".into(),
                match std::str::from_utf8(body) {
                    Ok(text) => text.into(),
                    Err(_) => call.body.clone().into(),
                },
            );
        }
    }
    params
}
