//! The pure decision cores of the invocation path.
//!
//! Each core is a plain struct: inputs go in with the current time ([`Millis`]) and, where a choice
//! is random, a random number; decisions come out as effects (or a `Result`) for the hosting actor to
//! carry out. Nothing here does I/O, reads a clock, spawns a task or draws from a global RNG, and
//! every decision iterates ordered collections, so the same inputs always give the same outputs.
//!
//! - [`dispatcher`]: which invoker gets an activation (home invoker, coprime step walk, health, capacity).
//! - [`pool`]: which container of an invoker runs an activation (warm, prewarmed, cold, evict, queue).
//! - [`throttle`]: per-namespace invocations per minute, concurrent invocations and trigger fires per minute.
//! - [`lifecycle`]: turns what happened to one activation into its final status, result, logs and annotations.
//! - [`alarm`]: when alarm feeds fire their triggers (cron and intervals, checkpoints, catch-up).
//! - [`retry`]: backoff and dead-lettering of queued invocations after platform failures.
//!
//! `docs/cores.md` describes the contracts for hosts; the rustdoc of each input and effect is normative.

pub mod action;
pub mod alarm;
pub mod controller;
pub mod dispatcher;
pub mod error;
pub mod hashing;
pub mod ids;
pub mod invoker;
pub mod lifecycle;
pub mod pool;
pub mod random;
pub mod retry;
pub mod rules;
pub mod sequence;
pub mod throttle;
pub mod time;

pub use action::{ActionKey, ActionLimits, Kind};
pub use error::{Error, Result};
pub use ids::{ActivationId, ContainerId, InvokerId};
pub use random::SplitMix64;
pub use time::Millis;
