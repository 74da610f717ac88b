//! Whirl's actors crate: the sans-IO decision cores (dispatcher, container pool, throttles, activation
//! lifecycle, controller, invoker) in [`core`], and the supervised actix actors that host them:
//! [`controller_actor::ControllerActor`] and [`invoker_actor::InvokerActor`]. The cores take time and
//! randomness as arguments and return effects, so the same code runs in the server and in the
//! deterministic simulator; the actors carry the effects out through `store::EventLog`,
//! `bridge::ContainerDriver` and `bridge::bus::Bus`.

mod annotation_list;
mod bus_intake;
pub mod controller_actor;
mod convert;
pub mod core;
pub mod invoker_actor;
pub mod local_first_queue;
pub mod queue_consumer;
pub mod recovery;

pub use crate::core::{Error, Result};

/// Asks a supervised actor to stop; its supervisor restarts it, and it rebuilds its state (the
/// controller from the log, the invoker from its driver). Used by operators and by the tests that
/// prove a restart in the middle of a load leaves no activation without a record.
#[derive(Debug, Clone, Copy, actix::Message)]
#[rtype(result = "()")]
pub struct Restart;
