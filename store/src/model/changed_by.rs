//! `ChangedBy`: who caused a change (an API key, the administrator or the system itself).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The principal behind an entity-changing event, so `whirl log history` can say who changed what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangedBy {
    /// A user's API key, by its uuid.
    Key(uuid::Uuid),
    /// The operator (the `whirl` admin commands).
    Admin,
    /// Whirl itself (feeds, retention, sequences, recovery).
    System,
}

impl fmt::Display for ChangedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangedBy::Key(uuid) => write!(f, "key {uuid}"),
            ChangedBy::Admin => f.write_str("admin"),
            ChangedBy::System => f.write_str("system"),
        }
    }
}
