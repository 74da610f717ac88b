//! Whirl's deterministic simulation testing, and the keep-alive policy study.
//!
//! **Simulator** ([`world`]): one seed determines everything. A discrete-event [`scheduler`] with a
//! simulated clock drives the production cores (`actors::core::controller::Controller` and
//! `actors::core::invoker::Invoker`, which hold the dispatcher, throttles, container pool and
//! activation lifecycle) through hosts that play the actors' part: a [`controller_host`] over the
//! store's in-memory event log with its crash model, [`invoker_host`]s over a faulty simulated
//! [`driver`], a [`bus`] that delays, drops, duplicates and reorders, clients that invoke, fire
//! triggers and change actions and rules, and crashes of every process. The [`invariants`] are
//! checked as it runs; the [`trace`] hash proves a seed replays bit for bit.
//!
//! **Keep-alive study** ([`keepalive`]): a seeded synthetic workload shaped like the Azure
//! Functions trace (Shahrad et al., ATC'20) run under fixed keep-alive, the paper's hybrid
//! histogram policy and our own, reporting per-app cold starts and wasted memory-time.

pub mod bus;
pub mod config;
pub mod controller_host;
pub mod driver;
pub mod error;
pub mod invariants;
pub mod invoker_host;
pub mod keepalive;
pub mod messages;
pub mod outbox;
pub mod random;
pub mod read_model;
pub mod scheduler;
pub mod sweep;
pub mod trace;
pub mod world;

pub use config::{RunLimits, SimConfig};
pub use error::{Error, Result};
pub use invariants::{Invariant, Violation};
pub use world::{run_seed, RunOutcome, RunStats};
