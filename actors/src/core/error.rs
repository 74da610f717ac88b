//! The crate's error type: one variant per core that can refuse an input.

use crate::core::dispatcher::NoInvoker;
use crate::core::lifecycle::LifecycleError;
use crate::core::throttle::Throttled;

/// Everything a core can refuse. Each variant's message names what was refused and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The dispatcher found no healthy invoker (HTTP 503).
    #[error(transparent)]
    NoInvoker(#[from] NoInvoker),
    /// A namespace hit one of its throttles (HTTP 429).
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// An activation lifecycle received an input its phase does not allow.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

/// `Result` with the cores' [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
