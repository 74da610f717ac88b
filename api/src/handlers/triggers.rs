//! `/namespaces/{ns}/triggers`: list, get (with the rules that name it), create or update, delete,
//! and fire (`POST`: 202 with the trigger's activation id, 204 when no rule is active).

use super::{check_key_values_size, check_keys, ok_json, parse_body};
use crate::access::{path_param, Scope};
use crate::error::{Error, Result};
use crate::invoke::{fire_trigger, parse_payload, FireOutcome, InvocationContext};
use crate::middleware::RequestId;
use crate::names::check_name;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{from_json_text, to_json_text, ActivationIdBody, Trigger, TriggerPut};
use actix_web::{web, HttpRequest, HttpResponse};
use store::{
    ChangedBy, EntityDoc, EntityKind, Event, FullyQualifiedName, RuleDoc, SemVer, TriggerDoc,
};

fn trigger_name(request: &HttpRequest) -> Result<&str> {
    let name = path_param(request, "name")?;
    check_name("trigger", name)?;
    Ok(name)
}

fn read_trigger(state: &ApiState, namespace: &str, name: &str) -> Result<TriggerDoc> {
    state
        .store
        .projections()
        .trigger(namespace, name)
        .map_err(Error::store("read a trigger"))?
        .ok_or(Error::NotFound)
}

/// The rules of `namespace` that name `trigger`.
fn rules_naming(state: &ApiState, trigger: &TriggerDoc) -> Result<Vec<RuleDoc>> {
    let name = FullyQualifiedName::new(&trigger.namespace, &trigger.name);
    Ok(state
        .store
        .projections()
        .list_entities(&trigger.namespace, EntityKind::Rule, 0, 0)
        .map_err(Error::store("list rules"))?
        .into_iter()
        .filter_map(|doc| match doc {
            EntityDoc::Rule(rule) if rule.trigger == name => Some(rule),
            _ => None,
        })
        .collect())
}

/// `GET /namespaces/{ns}/triggers`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    super::list_own(
        &request,
        &state,
        EntityKind::Trigger,
        "triggers",
        |doc| match doc {
            EntityDoc::Trigger(trigger) => Some(Trigger::from_doc(trigger, None)),
            _ => None,
        },
    )
}

/// `GET /namespaces/{ns}/triggers/{name}`.
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let trigger = read_trigger(&state, &scope.namespace, trigger_name(&request)?)?;
    let rules = rules_naming(&state, &trigger)?;
    Ok(ok_json(&Trigger::from_doc(&trigger, Some(&rules))))
}

/// `PUT /namespaces/{ns}/triggers/{name}` (`overwrite=true` to update).
pub async fn put(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = trigger_name(&request)?.to_owned();
    let overwrite = Query::of(&request)?.flag("overwrite", false)?;
    let put: TriggerPut = parse_body(&body, "trigger")?;
    let config = &state.config;
    let _writing = state.write_lock().await;
    let existing = state
        .store
        .projections()
        .trigger(&scope.namespace, &name)
        .map_err(Error::store("read a trigger"))?;
    if existing.is_some() && !overwrite {
        return Err(Error::Conflict);
    }
    let parameters = match put.parameters {
        Some(parameters) => parameters,
        None => existing
            .as_ref()
            .map_or_else(Vec::new, |doc| from_json_text(&doc.parameters)),
    };
    check_keys("parameters", &parameters)?;
    check_key_values_size("the parameters", &parameters, config.max_parameters_bytes)?;
    let annotations = match put.annotations {
        Some(annotations) => annotations,
        None => existing
            .as_ref()
            .map_or_else(Vec::new, |doc| from_json_text(&doc.annotations)),
    };
    check_keys("annotations", &annotations)?;
    check_key_values_size("the annotations", &annotations, config.max_parameters_bytes)?;
    let doc = TriggerDoc {
        namespace: scope.namespace.clone(),
        name,
        version: existing
            .as_ref()
            .map_or(SemVer::INITIAL, |doc| doc.version.next_patch()),
        publish: put
            .publish
            .unwrap_or_else(|| existing.as_ref().is_some_and(|doc| doc.publish)),
        annotations: to_json_text(&annotations),
        parameters: to_json_text(&parameters),
        updated_ms: state.now_ms(),
    };
    state
        .commit(vec![Event::TriggerPut {
            trigger: doc.clone(),
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    let rules = rules_naming(&state, &doc)?;
    Ok(ok_json(&Trigger::from_doc(&doc, Some(&rules))))
}

/// `DELETE /namespaces/{ns}/triggers/{name}`: answers with the deleted trigger.
pub async fn delete(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = trigger_name(&request)?.to_owned();
    let _writing = state.write_lock().await;
    let existing = read_trigger(&state, &scope.namespace, &name)?;
    state
        .commit(vec![Event::TriggerDeleted {
            namespace: scope.namespace.clone(),
            name,
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    Ok(ok_json(&Trigger::from_doc(&existing, None)))
}

/// `POST /namespaces/{ns}/triggers/{name}`: fire with the body as payload.
pub async fn fire(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let trigger = read_trigger(&state, &scope.namespace, trigger_name(&request)?)?;
    let payload = parse_payload(&body, state.config.max_payload_bytes)?;
    let context = InvocationContext::of_caller(&scope.caller, RequestId::of(&request));
    match fire_trigger(&state, &context, &trigger, payload).await? {
        FireOutcome::NoActiveRule => Ok(HttpResponse::NoContent().finish()),
        FireOutcome::Fired(id) => Ok(HttpResponse::Accepted().json(ActivationIdBody {
            activation_id: id.to_string(),
        })),
    }
}
