//! Whirl's public NATS subjects (the internal controller/invoker subjects are the bus's, in
//! `bridge::bus`): triggers fired by a publish on `whirl.triggers.<namespace>.<trigger>`, and
//! every activation record published on `whirl.activations.<namespace>.<name>` once it is
//! durable. Payloads are JSON, in the shapes of the REST API. See docs/nats.md.

mod activations;
mod triggers;

pub use activations::{activation_subject, ActivationPublisher};
pub use triggers::{parse_trigger_subject, TriggerSubscriber, TRIGGER_SUBJECTS};
