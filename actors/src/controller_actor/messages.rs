//! The messages a `ControllerActor` answers, and what they return.

use crate::core::controller::Refusal;
use actix::Message;
use bridge::bus::ActivationMessage;
use store::{ActivationDoc, ActivationId, AppendTicket};
use tokio::sync::oneshot;

/// Invoke an action. The message's `invoker` and `accepted_at_ms` are set by the controller.
#[derive(Message)]
#[rtype(result = "Result<Accepted, InvokeError>")]
pub struct Invoke {
    pub message: ActivationMessage,
    /// Whether the caller wants the record when it is durable (a blocking invoke).
    pub wait_for_record: bool,
}

/// Invoke an action for a blocking caller, who gets the record once it is durable. Nothing is
/// appended before the record: a caller that gets the record never needs the acceptance on its own,
/// which saves a log write (and often a flush) per invocation. A caller that stops waiting must
/// send [`Detach`] (which appends the acceptance) before it tells anyone the activation id. Until
/// then, a crash leaves no trace of the invocation, and its caller got no answer.
#[derive(Message)]
#[rtype(result = "Result<AcceptedBlocking, InvokeError>")]
pub struct InvokeBlocking {
    pub message: ActivationMessage,
}

/// [`InvokeBlocking`] for a caller that only wants the end, sent with `do_send`: nothing is
/// answered on acceptance (the activation id is in the message), the record comes on `record`
/// once durable, or the refusal on `refused` (and `record` is dropped). It spares the caller a
/// wake-up per invocation (the HTTP worker of a blocking invoke sleeps until the record).
#[derive(Message)]
#[rtype(result = "()")]
pub struct InvokeForRecord {
    pub message: ActivationMessage,
    pub record: oneshot::Sender<ActivationDoc>,
    pub refused: oneshot::Sender<InvokeError>,
}

/// An invocation accepted with [`InvokeBlocking`].
#[derive(Debug)]
pub struct AcceptedBlocking {
    pub activation_id: ActivationId,
    /// The record, once durable.
    pub result: oneshot::Receiver<ActivationDoc>,
}

/// A blocking caller stops waiting for the record of an invocation accepted with
/// [`InvokeBlocking`]: its acceptance is appended now (unless the record already was).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Detached")]
pub struct Detach {
    pub activation_id: ActivationId,
}

/// What [`Detach`] did.
pub enum Detached {
    /// `InvocationAccepted` was appended; it is durable once the ticket resolves.
    Accepted(AppendTicket),
    /// The acceptance was already in the log (accepted with [`Invoke`]).
    AlreadyAccepted,
    /// The record is already appended: the caller's record receiver resolves once it is durable.
    AlreadyRecorded,
}

/// Run an invocation a durable queue delivers (accepted earlier, see [`AdmitQueued`]). Nothing is
/// appended to the log before it runs (the queue holds it as accepted); the receiver tells how it
/// ended. Refused with `Throttled` while its namespace is at its concurrency limit (deliver it
/// again soon; not an attempt), with `NoInvoker` when no invoker can take it (a failed attempt).
#[derive(Message)]
#[rtype(result = "Result<oneshot::Receiver<QueuedOutcome>, InvokeError>")]
pub struct Deliver {
    /// The message as the API queued it (`accepted_at_ms` set; `invoker` set by the controller).
    pub message: ActivationMessage,
}

/// How a delivered invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum QueuedOutcome {
    /// It has its record (durable): application and developer errors included.
    Recorded(Box<ActivationDoc>),
    /// A platform failure ended this attempt and nothing was recorded: its invoker was lost or
    /// restarted, no completion came in time, or the invoker could not run it.
    Failed(String),
    /// A newer delivery of the same invocation took it over (this one must not be settled).
    Superseded,
}

/// Check an invocation that will go through the durable queue against `namespace`'s throttles:
/// the rate counts now, the concurrency is checked but no slot is held until it is delivered.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), InvokeError>")]
pub struct AdmitQueued {
    pub namespace: String,
}

/// An accepted invocation.
pub struct Accepted {
    pub activation_id: ActivationId,
    /// Resolves once `InvocationAccepted` is durable: a non-blocking caller answers 202 only then.
    pub durable: AppendTicket,
    /// The record, once durable (when asked for).
    pub result: Option<oneshot::Receiver<ActivationDoc>>,
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted")
            .field("activation_id", &self.activation_id)
            .finish()
    }
}

/// Why an invocation was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// Over a namespace limit (HTTP 429); the text is OpenWhisk's.
    #[error("{0}")]
    Throttled(String),
    /// No invoker can take it (HTTP 503).
    #[error("No invokers available.")]
    NoInvoker,
    /// The controller failed (HTTP 500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Refusal> for InvokeError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Throttled(throttled) => InvokeError::Throttled(throttled.to_string()),
            Refusal::NoInvoker(_) => InvokeError::NoInvoker,
        }
    }
}

/// Check a trigger fire of `namespace` against its fires-per-minute limit (each check counts).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), InvokeError>")]
pub struct AdmitFire {
    pub namespace: String,
}

/// Set the throttle limits of one namespace (fields left `None` use the controller's defaults).
/// They survive a restart of the actor.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct SetNamespaceLimits {
    pub namespace: String,
    pub limits: crate::core::throttle::NamespaceLimits,
}

/// Ask for the controller's counters.
#[derive(Message)]
#[rtype(result = "Stats")]
pub struct ControllerStats;

/// The controller's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub accepted: u64,
    pub recorded: u64,
    pub lost: u64,
    pub restarts: u64,
    pub in_flight: usize,
}
