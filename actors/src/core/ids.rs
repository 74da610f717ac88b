//! Identifiers the cores pass around: activations, containers and invokers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An activation id (OpenWhisk uses 32 lowercase hex characters; the cores treat it as opaque).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ActivationId(pub String);

impl ActivationId {
    /// Wraps an id string.
    pub fn new(id: impl Into<String>) -> Self {
        ActivationId(id.into())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A container handle allocated by one container pool (unique within that pool's life and the
/// containers it adopted). The host maps it to the driver's own container name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContainerId(pub u64);

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "container{}", self.0)
    }
}

/// An invoker instance id (OpenWhisk's `invoker0`, `invoker1`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InvokerId(pub u32);

impl fmt::Display for InvokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invoker{}", self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_their_kind() {
        assert_eq!(ActivationId::new("ab12").to_string(), "ab12");
        assert_eq!(ContainerId(7).to_string(), "container7");
        assert_eq!(InvokerId(2).to_string(), "invoker2");
    }
}
