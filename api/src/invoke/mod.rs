//! Invocations: one atomic action through the controller, a sequence orchestrated component by
//! component, a trigger fire that invokes the action of every active rule, and how the outcome
//! becomes an HTTP answer (OpenWhisk's blocking semantics).

mod atomic;
mod context;
mod fire;
mod outcome;
mod payload;
mod sequence;

pub use atomic::invoke;
pub use context::InvocationContext;
pub use fire::{fire_trigger, FireOutcome};
pub use outcome::{respond, status_of_record, InvokeOutcome};
pub use payload::parse_payload;
