//! Authentication: HTTP Basic `uuid:key` checked against an in-memory table of API keys (one
//! blake3 hash and a constant-time compare per request, no key derivation), kept in step with the
//! log; and the caller it yields.

mod basic;
mod key_table;
mod secret;

pub use basic::parse_basic;
pub use key_table::{Caller, KeyTable};
pub use secret::{new_secret, IssuedKey};
