//! `/namespaces/{ns}/activations`: list (`name`, `since`, `upto`, `skip`, `limit`, `docs`,
//! `count`), one record, its `/result`, its `/logs`.

use super::ok_json;
use crate::access::{path_param, Scope};
use crate::error::{Error, Result};
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{count_body, Activation, ActivationLogs, ActivationResult, ActivationSummary};
use actix_web::{web, HttpRequest, HttpResponse};
use store::{ActivationDoc, ActivationId, ActivationQuery};

/// `GET /namespaces/{ns}/activations`, newest first.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let query = Query::of(&request)?;
    let (skip, limit) = query.page(state.config.default_list_limit, state.config.max_list_limit)?;
    let filter = ActivationQuery {
        // `pkg/action` filters on the action name, as records name the action without its package.
        name: query
            .value("name")?
            .filter(|name| !name.is_empty())
            .map(|name| name.rsplit('/').next().unwrap_or(name).to_owned()),
        since_ms: query.number("since")?,
        upto_ms: query.number("upto")?,
        skip,
        limit,
    };
    read_up_to_head(&state).await?;
    let count = query.flag("count", false)?;
    let docs_wanted = query.flag("docs", false)?;
    // A count, or a page far down the list, walks many index rows and reads records from the
    // log: off the thread that also serves invocations (`api::serving`).
    let reading = state.clone();
    let namespace = scope.namespace.to_string();
    let found = web::block(move || {
        let projections = reading.store.projections();
        if count {
            projections
                .count_activations(&namespace, &filter)
                .map(Listed::Count)
                .map_err(Error::store("count activations"))
        } else {
            projections
                .list_activations(&namespace, &filter)
                .map(Listed::Docs)
                .map_err(Error::store("list activations"))
        }
    })
    .await
    .map_err(|error| Error::internal("read the activation indexes", error))??;
    let docs = match found {
        Listed::Count(count) => return Ok(ok_json(&count_body("activations", count))),
        Listed::Docs(docs) => docs,
    };
    if docs_wanted {
        let full: Vec<Activation> = docs.iter().map(Activation::from_doc).collect();
        return Ok(ok_json(&full));
    }
    let summaries: Vec<ActivationSummary> = docs.iter().map(ActivationSummary::from_doc).collect();
    Ok(ok_json(&summaries))
}

/// What a list request read.
enum Listed {
    Count(usize),
    Docs(Vec<ActivationDoc>),
}

/// Waits until the projections have applied every record durable now, so a list or a read
/// shows every activation whose record was acknowledged before this request (the projector
/// gathers activations for a few milliseconds before committing them, and commits at once for
/// a waiting reader).
async fn read_up_to_head(state: &ApiState) -> Result<()> {
    state
        .store
        .projections()
        .wait_applied_async(state.store.head_seq())
        .await
        .map_err(Error::store("apply the log to the activation indexes"))
}

/// The record addressed by the route (404 if it is not of this namespace).
async fn record(request: &HttpRequest, state: &ApiState) -> Result<ActivationDoc> {
    let scope = Scope::of(state, request)?;
    scope.require_own()?;
    let text = path_param(request, "id")?;
    let id: ActivationId = text.parse().map_err(|_| {
        Error::bad(format!(
            "The activation id '{text}' is not valid: an activation id is 32 lowercase hex characters."
        ))
    })?;
    let read = || {
        state
            .store
            .projections()
            .activation(&id)
            .map_err(Error::store("read an activation"))
    };
    let found = match read()? {
        Some(doc) => Some(doc),
        None => {
            read_up_to_head(state).await?;
            read()?
        }
    };
    match found {
        Some(doc) if doc.namespace == scope.namespace => Ok(doc),
        _ => Err(Error::NotFound),
    }
}

/// `GET /namespaces/{ns}/activations/{id}`.
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    Ok(ok_json(&Activation::from_doc(
        &record(&request, &state).await?,
    )))
}

/// `GET /namespaces/{ns}/activations/{id}/result`.
pub async fn result(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    Ok(ok_json(&ActivationResult::from_doc(
        &record(&request, &state).await?,
    )))
}

/// `GET /namespaces/{ns}/activations/{id}/logs`.
pub async fn logs(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let doc = record(&request, &state).await?;
    Ok(ok_json(&ActivationLogs { logs: doc.logs }))
}
