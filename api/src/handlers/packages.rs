//! `/namespaces/{ns}/packages`: list (another namespace's public ones), get (a binding shows the
//! bound package's actions and the merged parameters), create or update (bindings), delete
//! (`force=true` deletes the package's actions too).

use super::{check_key_values_size, check_keys, ok_json, parse_body};
use crate::access::{path_param, readable_package, Scope};
use crate::error::{Error, Result};
use crate::names::check_name;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{count_body, from_json_text, to_json_text, Package, PackagePut, PackageSummary};
use actix_web::{web, HttpRequest, HttpResponse};
use store::{ChangedBy, EntityDoc, EntityKind, Event, FullyQualifiedName, PackageDoc, SemVer};

fn package_name(request: &HttpRequest) -> Result<&str> {
    let name = path_param(request, "name")?;
    check_name("package", name)?;
    Ok(name)
}

/// `GET /namespaces/{ns}/packages`: the caller's packages, or another namespace's public ones.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    let query = Query::of(&request)?;
    let (skip, limit) = query.page(state.config.default_list_limit, state.config.max_list_limit)?;
    let all = state
        .store
        .projections()
        .list_entities(&scope.namespace, EntityKind::Package, 0, 0)
        .map_err(Error::store("list packages"))?;
    let visible: Vec<PackageDoc> = all
        .into_iter()
        .filter_map(|doc| match doc {
            EntityDoc::Package(package) if scope.own() || package.publish => Some(package),
            _ => None,
        })
        .collect();
    if query.flag("count", false)? {
        return Ok(ok_json(&count_body("packages", visible.len())));
    }
    let summaries: Vec<PackageSummary> = visible
        .iter()
        .skip(skip)
        .take(limit)
        .map(PackageSummary::from_doc)
        .collect();
    Ok(ok_json(&summaries))
}

/// `GET /namespaces/{ns}/packages/{name}`.
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    let name = package_name(&request)?;
    let package = readable_package(&state, &scope.caller.namespace, &scope.namespace, name)?;
    let actions = state
        .store
        .projections()
        .list_package_actions(&package.home.namespace, &package.home.name, 0, 0)
        .map_err(Error::store("list the actions of a package"))?;
    Ok(ok_json(&Package::from_doc(
        &package.doc,
        package.parameters,
        &actions,
    )))
}

/// `PUT /namespaces/{ns}/packages/{name}` (`overwrite=true` to update).
pub async fn put(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = package_name(&request)?.to_owned();
    let overwrite = Query::of(&request)?.flag("overwrite", false)?;
    let put: PackagePut = parse_body(&body, "package")?;
    let config = &state.config;
    let _writing = state.write_lock().await;
    let existing = state
        .store
        .projections()
        .package(&scope.namespace, &name)
        .map_err(Error::store("read a package"))?;
    if existing.is_some() && !overwrite {
        return Err(Error::Conflict);
    }
    let binding = match &put.binding {
        Some(binding) => binding.to_binding().map_err(|field| {
            Error::bad(format!(
                "The request content was malformed: {field} is required for a package binding."
            ))
        })?,
        None => existing.as_ref().and_then(|doc| doc.binding.clone()),
    };
    if let Some(binding) = &binding {
        check_name("namespace", &binding.namespace)?;
        check_name("package", &binding.name)?;
        let target = FullyQualifiedName::new(
            if binding.namespace == "_" {
                scope.namespace.as_str()
            } else {
                binding.namespace.as_str()
            },
            &binding.name,
        );
        let bound = readable_package(&state, &scope.namespace, &target.namespace, &target.name)
            .map_err(|error| match error {
                Error::NotFound | Error::Forbidden(_) | Error::NotFoundNamed(_) => {
                    Error::bad(format!(
                        "The package binding refers to '{target}', which does not exist or is not public."
                    ))
                }
                other => other,
            })?;
        if bound.doc.binding.is_some() {
            return Err(Error::bad(format!(
                "The package binding refers to '{target}', which is itself a binding: bind the package it binds instead."
            )));
        }
        if existing.as_ref().is_some_and(|doc| doc.binding.is_none()) {
            return Err(Error::bad(format!(
                "The package '{}/{name}' is not a binding and cannot become one; delete it first.",
                scope.namespace
            )));
        }
    }
    let binding = binding.map(|mut binding| {
        if binding.namespace == "_" {
            binding.namespace = scope.namespace.clone();
        }
        binding
    });
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
    let doc = PackageDoc {
        namespace: scope.namespace.clone(),
        name: name.clone(),
        version: existing
            .as_ref()
            .map_or(SemVer::INITIAL, |doc| doc.version.next_patch()),
        publish: put
            .publish
            .unwrap_or_else(|| existing.as_ref().is_some_and(|doc| doc.publish)),
        annotations: to_json_text(&annotations),
        parameters: to_json_text(&parameters),
        binding,
        updated_ms: state.now_ms(),
    };
    state
        .commit(vec![Event::PackagePut {
            package: doc.clone(),
            by: ChangedBy::Key(scope.caller.uuid),
        }])
        .await?;
    let parameters = from_json_text(&doc.parameters);
    Ok(ok_json(&Package::from_doc(&doc, parameters, &[])))
}

/// `DELETE /namespaces/{ns}/packages/{name}` (`force=true` also deletes its actions).
pub async fn delete(request: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let scope = Scope::of(&state, &request)?;
    scope.require_own()?;
    let name = package_name(&request)?.to_owned();
    let force = Query::of(&request)?.flag("force", false)?;
    let projections = state.store.projections();
    let _writing = state.write_lock().await;
    let existing = projections
        .package(&scope.namespace, &name)
        .map_err(Error::store("read a package"))?
        .ok_or(Error::NotFound)?;
    let actions = projections
        .list_package_actions(&scope.namespace, &name, 0, 0)
        .map_err(Error::store("list the actions of a package"))?;
    if !actions.is_empty() && !force {
        return Err(Error::ConflictDetail(format!(
            "Package not empty (contains {} entities). Set force param or delete package contents.",
            actions.len()
        )));
    }
    let by = ChangedBy::Key(scope.caller.uuid);
    let mut events: Vec<Event> = actions
        .iter()
        .map(|action| Event::ActionDeleted {
            action: FullyQualifiedName::in_package(&scope.namespace, &name, &action.name),
            by,
        })
        .collect();
    events.push(Event::PackageDeleted {
        namespace: scope.namespace.clone(),
        name: name.clone(),
        by,
    });
    state.commit(events).await?;
    let parameters = from_json_text(&existing.parameters);
    Ok(ok_json(&Package::from_doc(&existing, parameters, &actions)))
}
