//! The route handlers, one module per collection, and what they share: body parsing with messages
//! that say what to fix, size checks, and the JSON answer.

pub mod actions;
pub mod activations;
pub mod namespaces;
pub mod packages;
pub mod rules;
pub mod triggers;

use crate::error::{Error, Result};
use crate::wire::KeyValue;
use actix_web::HttpResponse;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// `200 OK` with `value` as JSON.
pub fn ok_json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

/// Parses an entity body (`{}` when empty) as `T`.
pub fn parse_body<T: DeserializeOwned + Default>(body: &[u8], what: &str) -> Result<T> {
    let trimmed = body.trim_ascii_start();
    match trimmed.first() {
        None => return Ok(T::default()),
        Some(b'{') => {}
        Some(_) => {
            return Err(Error::bad(format!(
            "The request content was malformed: the {what} is not valid: it must be a JSON object."
        )))
        }
    }
    serde_json::from_slice(body).map_err(|error| {
        Error::bad(format!(
            "The request content was malformed: the {what} is not valid: {error}."
        ))
    })
}

/// Refuses `items` (parameters or annotations) whose JSON exceeds `allowed` bytes.
pub fn check_key_values_size(what: &'static str, items: &[KeyValue], allowed: usize) -> Result<()> {
    let size = serde_json::to_vec(items)
        .map(|bytes| bytes.len())
        .unwrap_or(0);
    if size > allowed {
        return Err(Error::TooLarge {
            what,
            size,
            allowed,
        });
    }
    Ok(())
}

/// Refuses keys that are empty.
pub fn check_keys(what: &str, items: &[KeyValue]) -> Result<()> {
    if items.iter().any(|item| item.key.is_empty()) {
        return Err(Error::bad(format!(
            "The request content was malformed: every entry of {what} needs a non-empty key."
        )));
    }
    Ok(())
}

/// `GET /namespaces/{ns}/{collection}` of the caller's own namespace: `count=true` answers
/// `{"<collection>": N}`, otherwise one page (`skip`, `limit`) of `kind`, each entity rendered by
/// `render`.
pub(crate) fn list_own<T: Serialize>(
    request: &actix_web::HttpRequest,
    state: &crate::state::ApiState,
    kind: store::EntityKind,
    collection: &'static str,
    render: impl Fn(&store::EntityDoc) -> Option<T>,
) -> Result<HttpResponse> {
    let scope = crate::access::Scope::of(state, request)?;
    scope.require_own()?;
    let query = crate::query::Query::of(request)?;
    let projections = state.store.projections();
    // Checked with `count=true` too, as the activation and package lists do.
    let (skip, limit) = query.page(state.config.default_list_limit, state.config.max_list_limit)?;
    if query.flag("count", false)? {
        let count = projections.count_entities(&scope.namespace, kind);
        return Ok(ok_json(&crate::wire::count_body(collection, count)));
    }
    let items: Vec<T> = projections
        .list_entities(&scope.namespace, kind, skip, limit)
        .map_err(Error::store("list entities"))?
        .iter()
        .filter_map(render)
        .collect();
    Ok(ok_json(&items))
}
