//! Web actions: `/api/v1/web/{ns}/{pkg|default}/{action}[.ext][/path]`, any method, no API key
//! unless the action asks for one (`require-whisk-auth`). Only actions annotated `web-export: true`
//! answer. The request becomes the action's arguments (query, JSON or form body, `__ow_method`,
//! `__ow_headers`, `__ow_path`; with `raw-http`, `__ow_query` and `__ow_body` instead of merged
//! query and body; a query or body may not set a reserved `__ow_*` property, nor a parameter of
//! an action annotated `final`), and the result becomes the answer according to the extension: `.http`
//! (default: `{statusCode, headers, body}`, base64 bodies decoded for binary content types),
//! `.json`, `.html`, `.svg`, `.text`. As in OpenWhisk, an application error answers through the
//! extension too, with the result's `error` property in place of the result (the path ignored),
//! so `{"error": {"statusCode": 404, "body": "..."}}` is a 404 for `.http`; an activation that
//! failed otherwise answers 400 "There was an error processing your request.".

use crate::access::{path_param, resolve_action};
use crate::error::{Error, Result};
use crate::invoke::{invoke, InvocationContext, InvokeOutcome};
use crate::middleware::RequestId;
use crate::names::is_valid_name;
use crate::state::ApiState;
use crate::wire::{annotation, annotation_is_true, to_object, ActivationIdBody};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{Map, Value};
use std::time::Duration;
use store::{ActivationStatus, ChangedBy, FullyQualifiedName};

/// The extensions web actions answer with.
pub const EXTENSIONS: &[&str] = &["http", "json", "html", "svg", "text"];

/// Whether a content type carries binary data (its body travels base64-encoded).
pub fn is_binary(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty() {
        return false;
    }
    !(essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || essence == "application/xml"
        || essence == "application/javascript"
        || essence == "application/x-www-form-urlencoded"
        || essence == "image/svg+xml")
}

/// `name[.ext]` and the rest of the path.
fn split_action(tail: &str) -> Result<(&str, &str, String)> {
    let (segment, rest) = match tail.find('/') {
        Some(slash) => (&tail[..slash], &tail[slash..]),
        None => (tail, ""),
    };
    let (name, extension) = match segment.rfind('.') {
        Some(dot) => (&segment[..dot], &segment[dot + 1..]),
        None => (segment, "http"),
    };
    if !EXTENSIONS.contains(&extension) {
        return Err(Error::NotAcceptable(format!(
            "Content type '.{extension}' is not supported: use one of .http, .json, .html, .svg, .text."
        )));
    }
    if !is_valid_name(name) {
        return Err(Error::NotFound);
    }
    Ok((name, extension, rest.to_owned()))
}

fn header_text(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Checks `require-whisk-auth`: `true` needs a key of the action's namespace; a string or number
/// must equal the `X-Require-Whisk-Auth` header.
fn check_required_auth(
    state: &ApiState,
    request: &HttpRequest,
    required: Option<&Value>,
    namespace: &str,
) -> Result<ChangedBy> {
    match required {
        None | Some(Value::Bool(false)) | Some(Value::Null) => Ok(ChangedBy::System),
        Some(Value::Bool(true)) => {
            let caller = state.authenticate(request)?;
            if *caller.namespace != *namespace {
                return Err(Error::AuthenticationInvalid(
                    "this web action takes only keys of its own namespace",
                ));
            }
            Ok(ChangedBy::Key(caller.uuid))
        }
        Some(secret) => {
            let expected = match secret {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            match header_text(request, "x-require-whisk-auth") {
                Some(given) if given == expected => Ok(ChangedBy::System),
                Some(_) => Err(Error::AuthenticationInvalid(
                    "the X-Require-Whisk-Auth header does not match",
                )),
                None => Err(Error::AuthenticationMissing),
            }
        }
    }
}

/// The body as a string argument: UTF-8 text, or base64 for binary content types.
fn body_argument(body: &[u8], content_type: &str) -> Value {
    if is_binary(content_type) {
        Value::String(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        Value::String(String::from_utf8_lossy(body).into_owned())
    }
}

/// The arguments Whirl itself sets on a web action's request; a request may not set them.
const RESERVED_PROPERTIES: [&str; 6] = [
    "__ow_method",
    "__ow_headers",
    "__ow_path",
    "__ow_user",
    "__ow_body",
    "__ow_query",
];

/// Refuses a query or body parameter that a (non-raw) request may not set: a reserved property,
/// or a parameter the action fixed (`final`), as OpenWhisk does.
fn check_settable(key: &str, fixed: &dyn Fn(&str) -> bool) -> Result<()> {
    let why = if RESERVED_PROPERTIES.contains(&key) {
        "is reserved"
    } else if fixed(key) {
        "is a final parameter of the action"
    } else {
        return Ok(());
    };
    Err(Error::bad(format!(
        "Request defines parameters that are not allowed (e.g., reserved properties): '{key}' {why}."
    )))
}

/// The action's arguments for this request. Query and body parameters may not set what
/// `fixed` names, nor a reserved property.
fn arguments(
    request: &HttpRequest,
    body: &[u8],
    raw: bool,
    path: &str,
    fixed: &dyn Fn(&str) -> bool,
) -> Result<Map<String, Value>> {
    let content_type = header_text(request, "content-type").unwrap_or_default();
    let mut args = Map::new();
    if raw {
        args.insert(
            "__ow_query".into(),
            Value::String(request.query_string().to_owned()),
        );
        args.insert("__ow_body".into(), body_argument(body, &content_type));
    } else {
        let query = crate::query::Query::of(request)?;
        for (key, value) in query.pairs() {
            check_settable(key, fixed)?;
            args.insert(key.clone(), Value::String(value.clone()));
        }
        if !body.is_empty() {
            let essence = content_type.split(';').next().unwrap_or("").trim();
            if essence == "application/json" || essence.ends_with("+json") {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => {
                        for key in map.keys() {
                            check_settable(key, fixed)?;
                        }
                        args.extend(map)
                    }
                    Ok(other) => {
                        args.insert("__ow_body".into(), other);
                    }
                    Err(error) => {
                        return Err(Error::bad(format!(
                        "The request content was malformed: the JSON body does not parse: {error}."
                    )))
                    }
                }
            } else if essence == "application/x-www-form-urlencoded" {
                let pairs =
                    web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(body))
                        .map_err(|error| {
                            Error::bad(format!("The request content was malformed: {error}."))
                        })?;
                for (key, value) in pairs.into_inner() {
                    check_settable(&key, fixed)?;
                    args.insert(key, Value::String(value));
                }
            } else {
                args.insert("__ow_body".into(), body_argument(body, &content_type));
            }
        }
    }
    let headers: Map<String, Value> = request
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "authorization")
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_owned(),
                Value::String(value.to_str().ok()?.to_owned()),
            ))
        })
        .collect();
    args.insert(
        "__ow_method".into(),
        Value::String(request.method().as_str().to_ascii_lowercase()),
    );
    args.insert("__ow_headers".into(), Value::Object(headers));
    args.insert("__ow_path".into(), Value::String(path.to_owned()));
    Ok(args)
}

/// The `.http` answer of a result `{statusCode, headers, body}`.
fn http_answer(result: &Value) -> Result<HttpResponse> {
    let bad = |reason: &str| {
        Error::bad(format!(
            "The action did not produce a valid HTTP response: {reason}."
        ))
    };
    let Value::Object(result) = result else {
        return Err(bad("the result is not an object"));
    };
    let body = result.get("body");
    let status = match result.get("statusCode") {
        None | Some(Value::Null) => {
            if body.is_some() {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            }
        }
        Some(Value::Number(code)) => code
            .as_u64()
            .and_then(|code| u16::try_from(code).ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| bad("statusCode is not an HTTP status"))?,
        Some(Value::String(code)) => code
            .parse::<u16>()
            .ok()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| bad("statusCode is not an HTTP status"))?,
        Some(_) => return Err(bad("statusCode is not a number")),
    };
    let mut response = HttpResponse::build(status);
    let mut content_type: Option<String> = None;
    if let Some(headers) = result.get("headers") {
        let Value::Object(headers) = headers else {
            return Err(bad("headers is not an object"));
        };
        for (name, value) in headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| bad("a header name is not valid"))?;
            // An array sends the header once per value (several `Set-Cookie`s, say).
            let values = match value {
                Value::Array(values) => values.as_slice(),
                one => std::slice::from_ref(one),
            };
            for value in values {
                let text =
                    match value {
                        Value::String(text) => text.clone(),
                        Value::Number(_) | Value::Bool(_) => value.to_string(),
                        _ => return Err(bad(
                            "a header value is not a string, number, boolean or an array of them",
                        )),
                    };
                let header_value =
                    HeaderValue::from_str(&text).map_err(|_| bad("a header value is not valid"))?;
                if header_name == CONTENT_TYPE && content_type.is_none() {
                    content_type = Some(text);
                }
                response.append_header((header_name.clone(), header_value));
            }
        }
    }
    match body {
        None | Some(Value::Null) => Ok(response.finish()),
        Some(Value::String(text)) => match &content_type {
            Some(kind) if is_binary(kind) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|_| bad("the body of a binary content type is not base64"))?;
                Ok(response.body(bytes))
            }
            Some(_) => Ok(response.body(text.clone())),
            None => Ok(response.content_type("text/html").body(text.clone())),
        },
        Some(other) => {
            if content_type.is_none() {
                response.content_type("application/json");
            }
            Ok(response.body(other.to_string()))
        }
    }
}

/// The answer for `extension` (`http` handled by [`http_answer`]).
fn media_answer(extension: &str, result: &Value, path: &str) -> Result<HttpResponse> {
    if extension == "http" {
        return http_answer(result);
    }
    if extension == "json" {
        let mut value = result;
        for segment in path.split('/').filter(|segment| !segment.is_empty()) {
            value = value.get(segment).ok_or_else(|| {
                Error::NotFoundNamed(format!(
                    "The action's result has no property '{segment}' (path '{path}')."
                ))
            })?;
        }
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(value.to_string()));
    }
    let (property, content_type) = text_media(extension);
    match result.get(property) {
        Some(Value::String(text)) => Ok(HttpResponse::Ok()
            .content_type(content_type)
            .body(text.clone())),
        _ => Err(Error::bad(format!(
            "The action did not return a string '{property}' for the .{extension} extension."
        ))),
    }
}

/// The property a text extension answers by default, and its content type.
fn text_media(extension: &str) -> (&'static str, &'static str) {
    match extension {
        "html" => ("html", "text/html; charset=utf-8"),
        "svg" => ("svg", "image/svg+xml"),
        _ => ("text", "text/plain; charset=utf-8"),
    }
}

/// The answer for an application error: its `error` value through the extension, as OpenWhisk
/// does (`.http` takes it as `{statusCode, headers, body}`, `.json` sends it, the text
/// extensions need it to be a string).
fn error_answer(extension: &str, error: &Value) -> Result<HttpResponse> {
    match extension {
        "http" | "json" => media_answer(extension, error, ""),
        _ => {
            let (_, content_type) = text_media(extension);
            match error {
                Value::String(text) => Ok(HttpResponse::Ok()
                    .content_type(content_type)
                    .body(text.clone())),
                _ => Err(Error::bad(format!(
                    "The action's error is not a string for the .{extension} extension."
                ))),
            }
        }
    }
}

/// Any method on `/api/v1/web/{ns}/{pkg}/{action...}`.
pub async fn handle(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let namespace = path_param(&request, "ns")?.to_owned();
    let package = path_param(&request, "pkg")?.to_owned();
    let (name, extension, path) = split_action(path_param(&request, "action")?)?;
    if !is_valid_name(&namespace) || !is_valid_name(&package) {
        return Err(Error::NotFound);
    }
    let action_name = if package == "default" {
        FullyQualifiedName::new(&namespace, name)
    } else {
        FullyQualifiedName::in_package(&namespace, &package, name)
    };
    let resolved = match resolve_action(&state, &namespace, &action_name) {
        Ok(resolved) => resolved,
        Err(Error::Forbidden(_)) | Err(Error::NotFoundNamed(_)) => return Err(Error::NotFound),
        Err(other) => return Err(other),
    };
    let annotations = crate::wire::from_json_text(&resolved.doc.annotations);
    if !annotation_is_true(&annotations, "web-export") {
        return Err(Error::NotFound);
    }
    if request.method() == Method::OPTIONS
        && !annotation_is_true(&annotations, "web-custom-options")
    {
        return Ok(HttpResponse::Ok().finish());
    }
    let by = check_required_auth(
        &state,
        &request,
        annotation(&annotations, "require-whisk-auth"),
        &namespace,
    )?;
    if body.len() > state.config.max_payload_bytes {
        return Err(Error::TooLarge {
            what: "the request body",
            size: body.len(),
            allowed: state.config.max_payload_bytes,
        });
    }
    let raw = annotation_is_true(&annotations, "raw-http");
    let mut params = to_object(&resolved.parameters);
    // With `final` (what `wsk action create --web true` sets), the action's parameters are fixed.
    let finals = annotation_is_true(&annotations, "final");
    let fixed = |key: &str| finals && params.get(key).is_some_and(|value| !value.is_null());
    let request_args = arguments(&request, &body, raw, &path, &fixed)?;
    params.extend(request_args);
    let context = InvocationContext {
        subject: namespace.clone(),
        by,
        api_key: None,
        transaction_id: RequestId::of(&request),
        cause: None,
        caused_by: None,
        acknowledged: true,
    };
    let wait = Duration::from_millis(state.config.max_blocking_wait_ms);
    let outcome = invoke(&state, &context, &resolved, params, Some(wait)).await?;
    let record = match outcome {
        InvokeOutcome::Accepted(id) => {
            return Ok(HttpResponse::Accepted().json(ActivationIdBody {
                activation_id: id.to_string(),
            }))
        }
        InvokeOutcome::Recorded(record) => record,
    };
    let result = record.result.to_value().unwrap_or(Value::Null);
    let mut response = match record.status {
        ActivationStatus::Success => media_answer(extension, &result, &path)?,
        ActivationStatus::ApplicationError => match result.get("error") {
            Some(error) => error_answer(extension, error)?,
            None => {
                return Err(Error::NotFoundNamed(
                    "The action's error result has no 'error' property.".into(),
                ))
            }
        },
        ActivationStatus::ActionDeveloperError | ActivationStatus::WhiskInternalError => {
            crate::middleware::error_response(
                StatusCode::BAD_REQUEST,
                "There was an error processing your request.",
                &RequestId::of(&request),
            )
        }
    };
    if let Ok(value) = HeaderValue::from_str(&record.activation_id.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-openwhisk-activation-id"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::body::MessageBody;
    use serde_json::json;

    #[test]
    fn extensions_split_off_and_unknown_ones_are_refused() {
        assert_eq!(
            split_action("hello").unwrap(),
            ("hello", "http", String::new())
        );
        assert_eq!(
            split_action("hello.json/a/b").unwrap(),
            ("hello", "json", "/a/b".to_owned())
        );
        assert!(matches!(
            split_action("hello.pdf"),
            Err(Error::NotAcceptable(_))
        ));
    }

    #[test]
    fn binary_content_types() {
        assert!(is_binary("image/png"));
        assert!(is_binary("application/octet-stream"));
        assert!(!is_binary("text/plain; charset=utf-8"));
        assert!(!is_binary("application/json"));
        assert!(!is_binary("image/svg+xml"));
    }

    #[test]
    fn http_results_become_answers_with_base64_bodies_decoded() {
        let response = http_answer(&json!({
            "statusCode": 201,
            "headers": {"content-type": "image/png", "x-n": 1},
            "body": base64::engine::general_purpose::STANDARD.encode([0u8, 159, 146, 150]),
        }))
        .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers().get("x-n").unwrap(), "1");
        let bytes = response.into_body().try_into_bytes().unwrap();
        assert_eq!(bytes.as_ref(), &[0u8, 159, 146, 150]);
        assert_eq!(
            http_answer(&json!({})).unwrap().status(),
            StatusCode::NO_CONTENT
        );
        assert!(http_answer(&json!({"statusCode": "nope"})).is_err());
        let json_body = http_answer(&json!({"body": {"a": 1}})).unwrap();
        assert_eq!(
            json_body.headers().get("content-type").unwrap(),
            "application/json"
        );
    }
}
