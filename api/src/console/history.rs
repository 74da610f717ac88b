//! `GET /console/api/history/{kind}/{name}`: every change of one entity of the signed-in
//! namespace, read from the event log with `store::audit::entity_history` (what
//! `whirl log history` prints): when, the record's seq, the event, who (which key, the operator
//! or Whirl itself) and the field diff. Kinds: `actions` (`pkg/name` inside a package),
//! `packages`, `triggers`, `rules`, `feeds`, and `namespaces` (the namespace itself).

use super::{answer, caller};
use crate::access::path_param;
use crate::error::{Error, Result};
use crate::state::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use store::audit::{entity_history, HistoryEntry};
use store::{ChangedBy, EntityKind, EntityRef, EventLog};

/// The history of one entity.
#[derive(Debug, Serialize)]
pub struct EntityHistory {
    /// `namespace/kind/name`.
    pub entity: String,
    /// The log's head when it was read.
    pub head_seq: u64,
    pub changes: Vec<Change>,
}

/// One change.
#[derive(Debug, Serialize)]
pub struct Change {
    pub seq: u64,
    pub time_ms: u64,
    /// The event's name (`ActionPut`, `RuleStatusChanged`, ...).
    pub event: &'static str,
    /// `key`, `admin` or `system`.
    pub by: &'static str,
    /// The key's uuid when `by` is `key`.
    pub key: Option<String>,
    /// Whether that key is the one the console signed in with.
    pub own_key: bool,
    pub fields: Vec<FieldDiff>,
}

/// One field that changed (`null` before a creation, after a deletion).
#[derive(Debug, Serialize)]
pub struct FieldDiff {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// `GET /console/api/history/{kind}/{name}`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let result = history(&request, state).await;
    answer(&request, result)
}

async fn history(request: &HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let caller = caller(&state, request)?;
    let kind: EntityKind = path_param(request, "kind")?
        .parse()
        .map_err(|error: store::ParseIdError| Error::bad(error.to_string()))?;
    let name = path_param(request, "name")?.to_owned();
    if kind == EntityKind::ApiKey {
        return Err(Error::bad(
            "The console shows the history of actions, packages, triggers, rules, feeds and the namespace, not of keys.",
        ));
    }
    if kind == EntityKind::Namespace && name != *caller.namespace {
        return Err(Error::Forbidden(name));
    }
    let entity = EntityRef::new(caller.namespace.to_string(), kind, name);
    let own = caller.uuid;
    let shown = entity.to_string();
    let reading = state.clone();
    // The whole log is read: off the async threads.
    let (head_seq, entries) = web::block(move || {
        let head = reading.store.head_seq();
        let entries = entity_history(reading.store.log().read_from(1), &entity, head, &mut |_| {});
        entries.map(|entries| (head, entries))
    })
    .await
    .map_err(|error| Error::internal("read an entity's history", error))?
    .map_err(Error::store("read an entity's history"))?;
    if entries.is_empty() {
        return Err(Error::NotFoundNamed(format!(
            "The log holds no change of {shown}."
        )));
    }
    Ok(HttpResponse::Ok().json(EntityHistory {
        entity: shown,
        head_seq,
        changes: entries
            .into_iter()
            .map(|entry| change(entry, own))
            .collect(),
    }))
}

fn change(entry: HistoryEntry, own: uuid::Uuid) -> Change {
    let (by, key) = match entry.by {
        ChangedBy::Key(uuid) => ("key", Some(uuid)),
        ChangedBy::Admin => ("admin", None),
        ChangedBy::System => ("system", None),
    };
    Change {
        seq: entry.seq,
        time_ms: entry.time_ms,
        event: entry.event,
        by,
        key: key.map(|uuid| uuid.to_string()),
        own_key: key == Some(own),
        fields: entry
            .changes
            .into_iter()
            .map(|field| FieldDiff {
                path: field.path,
                before: field.before,
                after: field.after,
            })
            .collect(),
    }
}
