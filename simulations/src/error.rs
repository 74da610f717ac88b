//! The crate's error type: what the command line or a study can refuse (simulation failures are
//! not errors but [`crate::Violation`]s in a run's outcome).

/// Everything the simulations crate can refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `--seeds` range that does not read as `A..B` with `A < B`.
    #[error("invalid seed range {input:?}: {reason}")]
    SeedRange {
        /// What was given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// A study parameter out of its range.
    #[error("invalid keep-alive study parameter {name}: {reason}")]
    StudyParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

/// `Result` with the crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
