//! `InvocationContext`: who invokes, on behalf of which request, and what caused it.

use crate::auth::Caller;
use store::{ActivationId, ChangedBy};

/// Who invokes and why; the same for every component of a sequence and every rule of a fire.
#[derive(Debug, Clone)]
pub struct InvocationContext {
    /// The invoking namespace: the activation records belong to it and it is throttled.
    pub subject: String,
    pub by: ChangedBy,
    /// `uuid:key` for `__OW_API_KEY` (none for web actions without authentication).
    pub api_key: Option<String>,
    /// The request id, for logs.
    pub transaction_id: String,
    /// The activation that caused this one (a sequence or a trigger fire).
    pub cause: Option<ActivationId>,
    /// `causedBy` annotation of the record (`sequence` for components).
    pub caused_by: Option<&'static str>,
    /// Whether anyone is told that an invocation was accepted (false for a trigger fired by a
    /// plain NATS publish: its queued invocations may start before the queue stored them).
    pub acknowledged: bool,
}

impl InvocationContext {
    /// The context of a request by `caller`.
    pub fn of_caller(caller: &Caller, transaction_id: String) -> Self {
        Self {
            subject: caller.namespace.to_string(),
            by: ChangedBy::Key(caller.uuid),
            api_key: Some(caller.credentials.clone()),
            transaction_id,
            cause: None,
            caused_by: None,
            acknowledged: true,
        }
    }

    /// Whirl itself acting for `namespace` (a trigger fired by a NATS publish or a feed): the
    /// records belong to the namespace, the log says `system`, and no key is handed to actions.
    pub fn system(namespace: &str, transaction_id: String) -> Self {
        Self {
            subject: namespace.to_owned(),
            by: ChangedBy::System,
            api_key: None,
            transaction_id,
            cause: None,
            caused_by: None,
            acknowledged: true,
        }
    }

    /// The same context for a fire nobody is answered about (a plain NATS publish).
    pub fn unacknowledged(self) -> Self {
        Self {
            acknowledged: false,
            ..self
        }
    }

    /// The same invoker, for an activation caused by `cause`.
    pub fn caused_by(&self, cause: ActivationId, caused_by: Option<&'static str>) -> Self {
        Self {
            cause: Some(cause),
            caused_by,
            ..self.clone()
        }
    }
}
