//! `/namespaces/{ns}/rules`: list, get, create or update (`{"trigger","action"}`), enable and
//! disable (`POST {"status"}`), delete.

use super::{check_key_values_size, check_keys, ok_json, parse_body};
use crate::access::{path_param, resolve_action, Scope};
use crate::error::{Error, Result};
use crate::names::{check_name, parse_qualified};
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{from_json_text, to_json_text, Rule, RulePut, RuleStatusBody};
use actix_web::{web, HttpRequest, HttpResponse};
use store::{ChangedBy, EntityDoc, EntityKind, Event, RuleDoc, RuleStatus, SemVer};

fn rule_name(request: &HttpRequest) -> Result<&str> {
    let name = path_param(request, "name")?;
    check_name("rule", name)?;
    Ok(name)
}

fn read_rule(state: &ApiState, namespace: &str, name: &str) -> Result<Option<RuleDoc>> {
    state
        .store
        .projections()
        .rule(namespace, name)
        .map_err(Error::store("read a rule"))
}

/// `GET /namespaces/{ns}/rules`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    super::list_own(
        &request,
        &state,
        EntityKind::Rule,
        "rules",
        |doc| match doc {
            EntityDoc::Rule(rule) => Some(Rule::from_doc(rule)),
            _ => None,
        },
    )
}

/// `GET /namespaces/{ns}/rules/{name}`.
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let rule = read_rule(&state, &scope.namespace, rule_name(&request)?)?.ok_or(Error::NotFound)?;
    Ok(ok_json(&Rule::from_doc(&rule)))
}

/// `PUT /namespaces/{ns}/rules/{name}` (`overwrite=true` to update; the status is kept).
pub async fn put(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = rule_name(&request)?.to_owned();
    let overwrite = Query::of(&request)?.flag("overwrite", false)?;
    let put: RulePut = parse_body(&body, "rule")?;
    let _writing = state.write_lock().await;
    let existing = read_rule(&state, &scope.namespace, &name)?;
    if existing.is_some() && !overwrite {
        return Err(Error::Conflict);
    }
    let trigger = match (&put.trigger, &existing) {
        (Some(text), _) => parse_qualified("trigger", text, &scope.namespace)?,
        (None, Some(existing)) => existing.trigger.clone(),
        (None, None) => {
            return Err(Error::bad(
                "The request content was malformed: 'trigger' is required to create a rule (e.g. {\"trigger\":\"/_/t\",\"action\":\"/_/a\"}).",
            ))
        }
    };
    let action = match (&put.action, &existing) {
        (Some(text), _) => parse_qualified("action", text, &scope.namespace)?,
        (None, Some(existing)) => existing.action.clone(),
        (None, None) => {
            return Err(Error::bad(
                "The request content was malformed: 'action' is required to create a rule (e.g. {\"trigger\":\"/_/t\",\"action\":\"/_/a\"}).",
            ))
        }
    };
    if trigger.namespace != scope.namespace || trigger.package.is_some() {
        return Err(Error::bad(format!(
            "The trigger '{trigger}' of a rule must be a trigger of the rule's namespace '{}'.",
            scope.namespace
        )));
    }
    if state
        .store
        .projections()
        .trigger(&trigger.namespace, &trigger.name)
        .map_err(Error::store("read a trigger"))?
        .is_none()
    {
        return Err(Error::NotFoundNamed(format!(
            "The trigger '{trigger}' does not exist."
        )));
    }
    resolve_action(&state, &scope.namespace, &action).map_err(|error| match error {
        Error::NotFound | Error::NotFoundNamed(_) => {
            Error::NotFoundNamed(format!("The action '{action}' does not exist."))
        }
        other => other,
    })?;
    let annotations = match put.annotations {
        Some(annotations) => annotations,
        None => existing
            .as_ref()
            .map_or_else(Vec::new, |doc| from_json_text(&doc.annotations)),
    };
    check_keys("annotations", &annotations)?;
    check_key_values_size(
        "the annotations",
        &annotations,
        state.config.max_parameters_bytes,
    )?;
    let doc = RuleDoc {
        namespace: scope.namespace.clone(),
        name,
        version: existing
            .as_ref()
            .map_or(SemVer::INITIAL, |doc| doc.version.next_patch()),
        publish: put
            .publish
            .unwrap_or_else(|| existing.as_ref().is_some_and(|doc| doc.publish)),
        annotations: to_json_text(&annotations),
        trigger,
        action,
        status: existing
            .as_ref()
            .map_or(RuleStatus::Active, |doc| doc.status),
        updated_ms: state.now_ms(),
    };
    state
        .commit(vec![Event::RulePut {
            rule: doc.clone(),
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    Ok(ok_json(&Rule::from_doc(&doc)))
}

/// `POST /namespaces/{ns}/rules/{name}` with `{"status":"active"|"inactive"}`.
pub async fn set_status(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = rule_name(&request)?.to_owned();
    let body: Option<RuleStatusBody> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(serde_json::from_slice(&body).map_err(|error| {
            Error::bad(format!(
                "The request content was malformed: expected {{\"status\":\"active\"}} or {{\"status\":\"inactive\"}}: {error}."
            ))
        })?)
    };
    let status = match body.as_ref().map(|body| body.status.as_str()) {
        Some("active") => RuleStatus::Active,
        Some("inactive") => RuleStatus::Inactive,
        other => {
            return Err(Error::bad(format!(
                "The rule status must be 'active' or 'inactive', not {}.",
                other.map_or("missing".to_owned(), |status| format!("'{status}'"))
            )))
        }
    };
    let _writing = state.write_lock().await;
    let mut rule = read_rule(&state, &scope.namespace, &name)?.ok_or(Error::NotFound)?;
    if rule.status != status {
        state
            .commit(vec![Event::RuleStatusChanged {
                namespace: scope.namespace.clone(),
                name: name.clone(),
                status,
                by: ChangedBy::Key(scope.caller.uuid),
            }])
            .await?;
        rule = read_rule(&state, &scope.namespace, &name)?.ok_or(Error::NotFound)?;
    }
    Ok(ok_json(&Rule::from_doc(&rule)))
}

/// `DELETE /namespaces/{ns}/rules/{name}`: answers with the deleted rule.
pub async fn delete(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = rule_name(&request)?.to_owned();
    let _writing = state.write_lock().await;
    let existing = read_rule(&state, &scope.namespace, &name)?.ok_or(Error::NotFound)?;
    state
        .commit(vec![Event::RuleDeleted {
            namespace: scope.namespace.clone(),
            name,
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    Ok(ok_json(&Rule::from_doc(&existing)))
}
