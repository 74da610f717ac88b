//! The operator's routes (`/admin/v1/...`), for `whirl admin` while the server runs (the store
//! then belongs to the server): create a namespace with its first key, list namespaces. They take
//! `Authorization: Bearer <token>` with the token the server wrote to `<data-dir>/admin.token`.

use crate::error::{Error, Result};
use crate::handlers::{ok_json, parse_body};
use crate::provisioning::{create_namespace_events, issued};
use crate::state::ApiState;
use crate::wire::NamespaceCreate;
use actix_web::{web, HttpRequest, HttpResponse};
use actors::controller_actor::SetNamespaceLimits;
use store::ChangedBy;

/// Constant-time comparison of two byte strings (length leaks, content does not).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorize(state: &ApiState, request: &HttpRequest) -> Result<()> {
    let Some(token) = state.admin_token() else {
        return Err(Error::Forbidden("admin".into()));
    };
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(Error::AuthenticationMissing)?;
    let given = header
        .as_bytes()
        .strip_prefix(b"Bearer ")
        .ok_or(Error::AuthenticationInvalid(
            "the admin routes take 'Authorization: Bearer <token of admin.token>'",
        ))?;
    if same_bytes(given.trim_ascii(), token.as_bytes()) {
        Ok(())
    } else {
        Err(Error::AuthenticationInvalid("wrong admin token"))
    }
}

/// `GET /admin/v1/namespaces`.
pub async fn list_namespaces(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse> {
    authorize(&state, &request)?;
    Ok(ok_json(&crate::provisioning::list_namespaces(
        state.store.projections(),
    )?))
}

/// `POST /admin/v1/namespaces` with `{"name", "limits"?}`.
pub async fn create_namespace(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    authorize(&state, &request)?;
    let create: NamespaceCreate = parse_body(&body, "namespace")?;
    let limits: store::NamespaceLimits = create.limits.into();
    let _writing = state.write_lock().await;
    let (events, key) = create_namespace_events(
        state.store.projections(),
        &create.name,
        limits,
        state.now_ms(),
        ChangedBy::Admin,
    )?;
    state.commit(events).await?;
    state
        .controller
        .send(SetNamespaceLimits {
            namespace: create.name.clone(),
            limits: crate::provisioning::throttle_limits(limits),
        })
        .await
        .map_err(|error| Error::internal("reach the controller", error))?;
    tracing::info!(namespace = %create.name, uuid = %key.doc.uuid, "namespace created");
    Ok(ok_json(&issued(&key)))
}
