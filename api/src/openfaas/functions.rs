//! `/system/functions` and `/system/function/{name}`: list, deploy (`POST`), update (`PUT`),
//! delete and read the functions of the caller's namespace. Every action of the namespace outside
//! packages is a function (so an action made through the OpenWhisk API is listed too); writes go
//! through the log like the OpenWhisk API's (durable and applied before the answer).

use super::auth::system_caller;
use super::deploy::{action_of, DeploymentError};
use super::replicas::replicas_of;
use super::settings::deployment_of;
use super::text::{bad_request, from_error, text};
use crate::auth::Caller;
use crate::error::Error;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::{FunctionDeletion, FunctionDeployment, FunctionStatus};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use store::{ActionDoc, ActivationQuery, ChangedBy, EntityDoc, EntityKind, Event, Exec};

/// The namespace a `/system/*` request works in: the key's; a `namespace` query parameter or
/// deployment field naming another one is refused.
fn namespace_of(caller: &Caller, asked: Option<&str>) -> Result<String, Box<HttpResponse>> {
    match asked.map(str::trim).filter(|asked| !asked.is_empty()) {
        Some(asked) if asked != &*caller.namespace => Err(Box::new(text(
            StatusCode::FORBIDDEN,
            format!(
                "the key of namespace {} cannot reach namespace {asked}\n",
                caller.namespace
            ),
        ))),
        _ => Ok(caller.namespace.to_string()),
    }
}

/// The `namespace` query parameter; a malformed query string or a repeated parameter is a 400.
fn query_namespace(request: &HttpRequest) -> Result<Option<String>, Box<HttpResponse>> {
    Query::of(request)
        .and_then(|query| {
            query
                .value("namespace")
                .map(|value| value.map(str::to_owned))
        })
        .map_err(|error| Box::new(bad_request(format!("{error}\n"))))
}

/// The status of one function (its invocations as committed before the call).
pub async fn status_of(state: &ApiState, doc: &ActionDoc) -> FunctionStatus {
    let deployment = deployment_of(doc);
    let head = state.store.head_seq();
    if let Err(error) = state.store.projections().wait_applied_async(head).await {
        tracing::warn!(%error, "projections not caught up for a function's status");
    }
    let invocations = state
        .store
        .projections()
        .count_activations(
            &doc.namespace,
            &ActivationQuery {
                name: Some(doc.name.clone()),
                ..ActivationQuery::default()
            },
        )
        .unwrap_or(0);
    let (replicas, available) = replicas_of(state, doc).await;
    FunctionStatus {
        name: doc.name.clone(),
        image: deployment.image,
        namespace: doc.namespace.clone(),
        env_process: deployment.env_process,
        env_vars: deployment.env_vars,
        constraints: deployment.constraints,
        secrets: deployment.secrets,
        labels: deployment.labels,
        annotations: deployment.annotations,
        limits: deployment.limits,
        requests: deployment.requests,
        read_only_root_filesystem: deployment.read_only_root_filesystem,
        invocation_count: invocations as f64,
        replicas,
        available_replicas: available,
        created_at: Some(bridge::format_rfc3339_nanos(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(doc.updated_ms),
        )),
    }
}

/// The functions of `namespace`: its actions outside packages, sequences left out.
pub fn functions_in(state: &ApiState, namespace: &str) -> Result<Vec<ActionDoc>, Error> {
    Ok(state
        .store
        .projections()
        .list_entities(namespace, EntityKind::Action, 0, 0)
        .map_err(Error::store("list functions"))?
        .into_iter()
        .filter_map(|doc| match doc {
            EntityDoc::Action(action)
                if action.package.is_none() && !matches!(action.exec, Exec::Sequence { .. }) =>
            {
                Some(action)
            }
            _ => None,
        })
        .collect())
}

/// `GET /system/functions`.
pub async fn list(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let namespace =
        match query_namespace(&request).and_then(|asked| namespace_of(&caller, asked.as_deref())) {
            Ok(namespace) => namespace,
            Err(answer) => return *answer,
        };
    let docs = match functions_in(&state, &namespace) {
        Ok(docs) => docs,
        Err(error) => return from_error(&error),
    };
    let mut statuses = Vec::with_capacity(docs.len());
    for doc in &docs {
        statuses.push(status_of(&state, doc).await);
    }
    HttpResponse::Ok().json(statuses)
}

/// `GET /system/function/{name}`.
pub async fn get(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let namespace =
        match query_namespace(&request).and_then(|asked| namespace_of(&caller, asked.as_deref())) {
            Ok(namespace) => namespace,
            Err(answer) => return *answer,
        };
    let name = request.match_info().get("name").unwrap_or_default();
    match read_function(&state, &namespace, name) {
        Ok(Some(doc)) => HttpResponse::Ok().json(status_of(&state, &doc).await),
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            format!("function {name} not found\n"),
        ),
        Err(error) => from_error(&error),
    }
}

/// A function of `namespace` by name (an action outside packages, not a sequence).
pub fn read_function(
    state: &ApiState,
    namespace: &str,
    name: &str,
) -> Result<Option<ActionDoc>, Error> {
    if crate::names::check_name("function", name).is_err() {
        return Ok(None);
    }
    Ok(state
        .store
        .projections()
        .action(namespace, name)
        .map_err(Error::store("read a function"))?
        .filter(|doc| !matches!(doc.exec, Exec::Sequence { .. })))
}

/// `POST /system/functions`: deploy (an existing function is updated, as faas-netes does).
pub async fn deploy(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    write_function(request, state, body, false).await
}

/// `PUT /system/functions`: update; 404 when the function does not exist (faas-cli then POSTs).
pub async fn update(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    write_function(request, state, body, true).await
}

async fn write_function(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
    must_exist: bool,
) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let deployment: FunctionDeployment = match serde_json::from_slice(&body) {
        Ok(deployment) => deployment,
        Err(error) => return bad_request(format!("invalid deployment: {error}\n")),
    };
    let namespace = match namespace_of(&caller, deployment.namespace.as_deref()) {
        Ok(namespace) => namespace,
        Err(answer) => return *answer,
    };
    let _writing = state.write_lock().await;
    let existing = match state
        .store
        .projections()
        .action(&namespace, deployment.service.trim())
    {
        Ok(existing) => existing,
        Err(error) => return from_error(&Error::store("read a function")(error)),
    };
    if must_exist && existing.is_none() {
        return text(
            StatusCode::NOT_FOUND,
            format!("function {} not found\n", deployment.service),
        );
    }
    let doc = match action_of(
        &deployment,
        &namespace,
        state.gateway.runs_images(),
        &state.config,
        existing.as_ref(),
        state.now_ms(),
    ) {
        Ok(doc) => doc,
        Err(error @ DeploymentError::ImagesNotSupported(_)) => {
            return text(StatusCode::BAD_REQUEST, format!("{error}\n"))
        }
        Err(error) => return bad_request(format!("{error}\n")),
    };
    let committed = state
        .commit(vec![Event::ActionPut {
            action: doc.clone(),
            by: ChangedBy::Key(caller.uuid),
        }])
        .await;
    if let Err(error) = committed {
        return from_error(&error);
    }
    tracing::info!(function = %doc.name, namespace = %doc.namespace, version = %doc.version, "function deployed");
    // Start the function's warm floor now (a function that scales to zero starts on its first call).
    let floor = super::settings::scaling_labels(&deployment);
    if !floor.zero && floor.min > 0 {
        super::scale::scale_in_pool(&state, &doc, floor.min).await;
    }
    let status = if existing.is_some() || must_exist {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    HttpResponse::build(status).finish()
}

/// `DELETE /system/functions` with `{"functionName"}`.
pub async fn delete(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let namespace =
        match query_namespace(&request).and_then(|asked| namespace_of(&caller, asked.as_deref())) {
            Ok(namespace) => namespace,
            Err(answer) => return *answer,
        };
    let deletion: FunctionDeletion = match serde_json::from_slice(&body) {
        Ok(deletion) => deletion,
        Err(error) => return bad_request(format!("invalid request: {error}\n")),
    };
    let _writing = state.write_lock().await;
    let existing = match read_function(&state, &namespace, &deletion.function_name) {
        Ok(Some(existing)) if existing.package.is_none() => existing,
        Ok(_) => {
            return text(
                StatusCode::NOT_FOUND,
                format!("function {} not found\n", deletion.function_name),
            )
        }
        Err(error) => return from_error(&error),
    };
    let committed = state
        .commit(vec![Event::ActionDeleted {
            action: store::FullyQualifiedName::new(&existing.namespace, &existing.name),
            by: ChangedBy::Key(caller.uuid),
        }])
        .await;
    if let Err(error) = committed {
        return from_error(&error);
    }
    HttpResponse::Accepted().finish()
}

/// `GET /system/namespaces`: the namespaces the key reaches (its own).
pub async fn namespaces(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    match system_caller(&state, &request) {
        Ok(caller) => HttpResponse::Ok().json([caller.namespace.to_string()]),
        Err(answer) => *answer,
    }
}
