//! Whirl's actors crate: the sans-IO decision cores (dispatcher, container pool, throttles, activation
//! lifecycle) that the actix actors host. The cores live in [`core`]; they take time and randomness as
//! arguments and return effects, so the same code runs in the server and in the deterministic simulator.

pub mod core;

pub use crate::core::{Error, Result};
