//! Async calls across a restart. A call answered 202 has its attempt's `InvocationAccepted`
//! (with the request and the callback URL in its parameters) durable in the log. When Whirl
//! stopped before that attempt was recorded, start-up records it as lost
//! (`actors::recovery::end_orphans`); before that happens, [`orphaned_calls`] reads those
//! attempts from the pending invocations, and once the platform serves again [`resume`] runs
//! each call's next attempt (its `cause` = the lost one) and delivers its callback.

use super::attempts::{run_to_callback, submit, AsyncCall, AsyncMarker, RetryPolicy, ASYNC_PARAM};
use super::callback::CallbackPolicy;
use crate::access::resolve_action;
use crate::state::ApiState;
use serde_json::{Map, Value};
use store::{ActivationId, FullyQualifiedName, Store};

/// An attempt of an async call that a previous run accepted and never recorded.
#[derive(Debug, Clone)]
pub struct OrphanedCall {
    pub activation_id: ActivationId,
    pub action: FullyQualifiedName,
    pub marker: AsyncMarker,
    /// The call's parameters without the marker.
    pub params: Map<String, Value>,
}

/// The async attempts among the log's pending invocations (call before `end_orphans`).
pub fn orphaned_calls(store: &Store) -> store::Result<Vec<OrphanedCall>> {
    let head = store.head_seq();
    store
        .projections()
        .wait_applied(head, std::time::Duration::from_secs(30))?;
    Ok(store
        .projections()
        .pending_invocations()?
        .into_iter()
        .filter_map(|accepted| {
            let marker = AsyncMarker::from_params(accepted.params.as_str())?;
            let mut params: Map<String, Value> =
                serde_json::from_str(accepted.params.as_str()).ok()?;
            params.remove(ASYNC_PARAM);
            Some(OrphanedCall {
                activation_id: accepted.activation_id,
                action: accepted.action,
                marker,
                params,
            })
        })
        .collect())
}

/// Runs the next attempt of every orphaned call (a call whose function is gone gets its callback
/// with 404).
pub async fn resume(state: &ApiState, orphans: Vec<OrphanedCall>) {
    for orphan in orphans {
        let call_id = orphan.marker.call_id.clone();
        let action = match resolve_action(state, &orphan.action.namespace, &orphan.action) {
            Ok(action) => action,
            Err(error) => {
                tracing::warn!(call_id, %error, "async call's function is gone; not resumed");
                continue;
            }
        };
        let call = AsyncCall {
            action,
            params: orphan.params,
            call_id: call_id.clone(),
            callback_url: orphan.marker.callback_url.clone(),
        };
        let attempt = orphan.marker.attempt.saturating_add(1);
        match submit(state, &call, attempt, Some(orphan.activation_id)).await {
            Ok(accepted) => {
                tracing::info!(call_id, attempt, "async call resumed after a restart");
                actix_rt::spawn(run_to_callback(
                    state.clone(),
                    call,
                    accepted.into(),
                    attempt,
                    RetryPolicy {
                        // A resumed call gets at least one more run.
                        attempts: RetryPolicy::default().attempts.max(attempt),
                        ..RetryPolicy::default()
                    },
                    CallbackPolicy::default(),
                ));
            }
            Err(error) => tracing::error!(call_id, %error, "async call not resumed"),
        }
    }
}
