//! `/namespaces/{ns}/actions`: list, get, create or update, delete, and invoke (`POST`).

use super::{check_key_values_size, check_keys, ok_json, parse_body};
use crate::access::{action_name_of, readable_package, resolve_action, Scope};
use crate::config::ActionLimitRanges;
use crate::error::{Error, Result};
use crate::invoke::{invoke, parse_payload, respond, InvocationContext};
use crate::middleware::RequestId;
use crate::names::parse_qualified;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{
    from_json_text, to_json_text, to_object, Action, ActionPut, ActionSummary, KeyValue,
};
use actix_web::{web, HttpRequest, HttpResponse};
use actors::core::sequence::{validate, ComponentKind};
use std::time::Duration;
use store::{
    ActionDoc, ActionLimits, ChangedBy, EntityDoc, EntityKind, Event, Exec, FullyQualifiedName,
    SemVer,
};

/// `GET /namespaces/{ns}/actions`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    super::list_own(
        &request,
        &state,
        EntityKind::Action,
        "actions",
        |doc| match doc {
            EntityDoc::Action(action) => Some(ActionSummary::from_doc(action)),
            _ => None,
        },
    )
}

/// `GET /namespaces/{ns}/actions/{pkg}/`: the actions of a package (or of the package a binding binds).
pub async fn list_in_package(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    let package = crate::access::path_param(&request, "pkg")?;
    crate::names::check_name("package", package)?;
    let query = Query::of(&request)?;
    let package = readable_package(&state, &scope.caller.namespace, &scope.namespace, package)?;
    let (skip, limit) = query.page(state.config.default_list_limit, state.config.max_list_limit)?;
    let docs = state
        .store
        .projections()
        .list_package_actions(&package.home.namespace, &package.home.name, skip, limit)
        .map_err(Error::store("list the actions of a package"))?;
    let summaries: Vec<ActionSummary> = docs.iter().map(ActionSummary::from_doc).collect();
    Ok(ok_json(&summaries))
}

/// `GET /namespaces/{ns}/actions/[{pkg}/]{name}` (`code=false` leaves the code out; parameters
/// include the ones inherited from the package).
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    let name = action_name_of(&request, &scope.namespace)?;
    let query = Query::of(&request)?;
    let include_code = query.flag("code", true)?;
    let resolved = resolve_action(&state, &scope.caller.namespace, &name)?;
    let mut action = Action::from_doc(&resolved.doc, include_code);
    action.parameters = resolved.parameters;
    if let Some(package) = &name.package {
        // Through a binding, the action shows under the name it was asked by.
        action.namespace = format!("{}/{package}", name.namespace);
    }
    Ok(ok_json(&action))
}

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    what: &str,
    unit: &str,
    value: T,
    (min, max): (T, T),
) -> Result<()> {
    if value < min {
        return Err(Error::bad(format!(
            "The request content was malformed: {what} {value} {unit} below allowed threshold of {min} {unit}."
        )));
    }
    if value > max {
        return Err(Error::bad(format!(
            "The request content was malformed: {what} {value} {unit} exceeds allowed threshold of {max} {unit}."
        )));
    }
    Ok(())
}

fn check_limits(ranges: &ActionLimitRanges, limits: &ActionLimits) -> Result<()> {
    check_range(
        "timeout",
        "milliseconds",
        limits.timeout_ms,
        ranges.timeout_ms,
    )?;
    check_range("memory", "MB", limits.memory_mb, ranges.memory_mb)?;
    check_range("logs", "MB", limits.logs_mb, ranges.logs_mb)?;
    check_range(
        "concurrency",
        "activations",
        limits.concurrency,
        ranges.concurrency,
    )
}

fn code_size(exec: &Exec) -> usize {
    match exec {
        Exec::Code { code, .. } => code.len(),
        Exec::Blackbox { code, .. } => code.as_ref().map_or(0, String::len),
        Exec::Command { command } => command.len(),
        Exec::Sequence { components } => components.iter().map(String::len).sum(),
    }
}

/// Normalizes a sequence's components to fully-qualified names and validates them (missing,
/// cycles, length) with the sequence core.
fn check_sequence(
    state: &ApiState,
    caller_namespace: &str,
    sequence: &FullyQualifiedName,
    components: &[String],
) -> Result<Vec<String>> {
    let components = components
        .iter()
        .map(|component| {
            parse_qualified("sequence component", component, caller_namespace)
                .map(|name| name.to_string())
        })
        .collect::<Result<Vec<String>>>()?;
    let lookup = |name: &str| -> ComponentKind {
        let Ok(name) = name.parse::<FullyQualifiedName>() else {
            return ComponentKind::Missing;
        };
        match resolve_action(state, caller_namespace, &name) {
            Ok(resolved) => match &resolved.doc.exec {
                Exec::Sequence { components } => ComponentKind::Sequence(components.clone()),
                _ => ComponentKind::Atomic,
            },
            Err(_) => ComponentKind::Missing,
        }
    };
    validate(
        &sequence.to_string(),
        &components,
        state.config.max_sequence_actions,
        lookup,
    )
    .map_err(|error| Error::bad(error.to_string()))?;
    Ok(components)
}

/// The document a `PUT` describes, on top of the existing one (if any).
fn build_action(
    state: &ApiState,
    scope: &Scope,
    name: &FullyQualifiedName,
    put: ActionPut,
    existing: Option<&ActionDoc>,
) -> Result<ActionDoc> {
    let config = &state.config;
    let mut exec = match (&put.exec, existing) {
        (Some(exec), _) => exec.to_exec()?,
        (None, Some(existing)) => existing.exec.clone(),
        (None, None) => {
            return Err(Error::bad(
                "The request content was malformed: 'exec' is required to create an action (e.g. {\"exec\":{\"kind\":\"python:3\",\"code\":\"...\"}}).",
            ))
        }
    };
    let size = code_size(&exec);
    if size > config.max_code_bytes {
        return Err(Error::TooLarge {
            what: "the action code",
            size,
            allowed: config.max_code_bytes,
        });
    }
    if let (Exec::Sequence { components }, Some(_)) = (&exec, &put.exec) {
        let normalized = check_sequence(state, &scope.caller.namespace, name, components)?;
        exec = Exec::Sequence {
            components: normalized,
        };
    }
    let base_limits = existing.map_or(config.action_limits.defaults, |doc| doc.limits);
    let limits = put.limits.unwrap_or_default().applied_to(base_limits);
    check_limits(&config.action_limits, &limits)?;
    let parameters = match put.parameters {
        Some(parameters) => parameters,
        None => existing.map_or_else(Vec::new, |doc| from_json_text(&doc.parameters)),
    };
    check_keys("parameters", &parameters)?;
    check_key_values_size("the parameters", &parameters, config.max_parameters_bytes)?;
    let mut annotations = match put.annotations {
        Some(annotations) => annotations,
        None => existing.map_or_else(Vec::new, |doc| from_json_text(&doc.annotations)),
    };
    check_keys("annotations", &annotations)?;
    check_key_values_size("the annotations", &annotations, config.max_parameters_bytes)?;
    annotations.retain(|item| item.key != "exec");
    annotations.push(KeyValue::new("exec", exec.kind()));
    Ok(ActionDoc {
        namespace: name.namespace.clone(),
        package: name.package.clone(),
        name: name.name.clone(),
        version: existing.map_or(SemVer::INITIAL, |doc| doc.version.next_patch()),
        publish: put
            .publish
            .unwrap_or_else(|| existing.is_some_and(|doc| doc.publish)),
        exec,
        annotations: to_json_text(&annotations),
        parameters: to_json_text(&parameters),
        limits,
        updated_ms: state.now_ms(),
    })
}

/// `PUT /namespaces/{ns}/actions/[{pkg}/]{name}` (`overwrite=true` to update).
pub async fn put(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = action_name_of(&request, &scope.namespace)?;
    let overwrite = Query::of(&request)?.flag("overwrite", false)?;
    let put: ActionPut = parse_body(&body, "action")?;
    let projections = state.store.projections();
    let _writing = state.write_lock().await;
    if let Some(package) = &name.package {
        match projections
            .package(&name.namespace, package)
            .map_err(Error::store("read a package"))?
        {
            None => {
                return Err(Error::NotFoundNamed(format!(
                    "The package '{}/{package}' does not exist.",
                    name.namespace
                )))
            }
            Some(doc) if doc.binding.is_some() => {
                return Err(Error::bad(format!(
                    "Cannot create or update an action in the package binding '{}/{package}'.",
                    name.namespace
                )))
            }
            Some(_) => {}
        }
    }
    let existing = projections
        .action(&name.namespace, &name.name_in_namespace())
        .map_err(Error::store("read an action"))?;
    if existing.is_some() && !overwrite {
        return Err(Error::Conflict);
    }
    let doc = build_action(&state, &scope, &name, put, existing.as_ref())?;
    state
        .commit(vec![Event::ActionPut {
            action: doc.clone(),
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    tracing::info!(action = %name, version = %doc.version, "action put");
    Ok(ok_json(&Action::from_doc(&doc, true)))
}

/// `DELETE /namespaces/{ns}/actions/[{pkg}/]{name}`: answers with the deleted action.
pub async fn delete(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = action_name_of(&request, &scope.namespace)?;
    let _writing = state.write_lock().await;
    let existing = state
        .store
        .projections()
        .action(&name.namespace, &name.name_in_namespace())
        .map_err(Error::store("read an action"))?
        .ok_or(Error::NotFound)?;
    state
        .commit(vec![Event::ActionDeleted {
            action: name.clone(),
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    Ok(ok_json(&Action::from_doc(&existing, true)))
}

/// `POST /namespaces/{ns}/actions/[{pkg}/]{name}`: invoke (`blocking`, `result`, `timeout`).
pub async fn invoke_action(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let started = std::time::Instant::now();
    let scope = Scope::of(&state, &request)?;
    let name = action_name_of(&request, &scope.namespace)?;
    let query = Query::of(&request)?;
    let blocking = query.flag("blocking", false)?;
    let result_only = query.flag("result", false)?;
    let max_wait = state.config.max_blocking_wait_ms;
    let wait_ms = match query.number("timeout")? {
        None => max_wait,
        Some(timeout) if (1..=max_wait).contains(&timeout) => timeout,
        Some(timeout) => {
            return Err(Error::bad(format!(
                "The query parameter 'timeout' must be between 1 and {max_wait} milliseconds, not {timeout}."
            )))
        }
    };
    let payload = parse_payload(&body, state.config.max_payload_bytes)?;
    let authenticated = started.elapsed();
    let resolved = resolve_action(&state, &scope.caller.namespace, &name)?;
    let looked_up = started.elapsed();
    let mut params = to_object(&resolved.parameters);
    params.extend(payload);
    let context = InvocationContext::of_caller(&scope.caller, RequestId::of(&request));
    let wait = blocking.then(|| Duration::from_millis(wait_ms));
    let prepared = started.elapsed();
    let outcome = invoke(&state, &context, &resolved, params, wait).await?;
    let response = respond(&outcome, result_only && blocking);
    tracing::debug!(
        activation_id = %outcome.activation_id(),
        auth_us = authenticated.as_micros() as u64,
        lookup_us = looked_up.as_micros() as u64,
        prepare_us = prepared.as_micros() as u64,
        total_us = started.elapsed().as_micros() as u64,
        "invoke handled"
    );
    Ok(response)
}
