//! The messages the bus carries. They are serde types so a networked bus can encode them; the
//! activation carries the action document itself, so an invoker needs no read access to the
//! controller's projections.

use serde::{Deserialize, Serialize};
use store::{ActionDoc, ActivationDoc, ActivationId, ChangedBy, JsonText};

/// One activation for one invoker to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationMessage {
    pub activation_id: ActivationId,
    /// The request id of the HTTP call (or trigger fire) that caused it, for logs.
    pub transaction_id: String,
    /// The invoker this message is addressed to.
    pub invoker: String,
    /// The action to run, at the version the controller resolved.
    pub action: ActionDoc,
    /// The merged parameters (package, action, request), a JSON object.
    pub params: JsonText,
    /// The namespace of the key that invoked.
    pub subject: String,
    /// The key that invoked, for the log.
    pub by: ChangedBy,
    /// The key the action may use to call back into the API (`__OW_API_KEY`).
    pub api_key: Option<String>,
    pub blocking: bool,
    /// The activation that caused this one (a sequence or a trigger fire).
    pub cause: Option<ActivationId>,
    /// When the controller accepted the invocation (unix ms), for `waitTime`.
    pub accepted_at_ms: u64,
    /// What caused it, for the record's `causedBy` annotation (`"sequence"` for a component).
    #[serde(default)]
    pub caused_by: Option<String>,
}

/// The end of one activation, with its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionMessage {
    pub invoker: String,
    pub record: ActivationDoc,
    /// Whether the record is already durable in the log (the invoker recorded it) or the
    /// controller must record it.
    pub recorded: bool,
    /// Whether the invoker failed the activation through a fault of its own (it could not create
    /// or drive a container). Controllers count these against the invoker's health; a whisk
    /// internal error the invoker has already recovered from (a restart) does not count.
    pub system_error: bool,
}

/// An invoker's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokerPing {
    pub invoker: String,
    /// Changes when the invoker restarts, so a controller can tell a restart from a pause.
    pub incarnation: u64,
    /// Memory the invoker offers to actions, in MB.
    pub user_memory_mb: u32,
    /// When the ping was sent (unix ms, the invoker's clock).
    pub sent_at_ms: u64,
}

/// An invoker began running an activation in a container: should the invoker die now, the
/// activation is not sent elsewhere (it may have had effects) but recorded as lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationStarted {
    pub activation_id: ActivationId,
    pub invoker: String,
}
