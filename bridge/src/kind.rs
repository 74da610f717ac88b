//! Runtime kinds the drivers know (`python:3`, `nodejs:20`, `exec`) and how their names parse.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A runtime kind: what runs an action's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RuntimeKind {
    /// `python:3` (also what `python:default` means).
    Python3,
    /// `nodejs:20` (also what `nodejs:default` means).
    Nodejs20,
    /// `exec`: any command that reads the request on stdin and writes the response on stdout,
    /// forked once per request (OpenFaaS classic-watchdog semantics).
    Exec,
}

impl RuntimeKind {
    /// Every kind, in a stable order.
    pub const ALL: [RuntimeKind; 3] = [
        RuntimeKind::Python3,
        RuntimeKind::Nodejs20,
        RuntimeKind::Exec,
    ];

    /// The concrete kind name as stored on actions.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Python3 => "python:3",
            RuntimeKind::Nodejs20 => "nodejs:20",
            RuntimeKind::Exec => "exec",
        }
    }

    /// The largest number of activations one container of this kind runs at once.
    pub fn max_concurrency(self) -> u32 {
        match self {
            RuntimeKind::Python3 => 1,
            // Node.js interleaves activations on its event loop; exec forks per request.
            RuntimeKind::Nodejs20 | RuntimeKind::Exec => 500,
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name no driver knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown runtime kind '{0}' (known: python:3, python:default, nodejs:20, nodejs:default, exec)"
)]
pub struct UnknownKind(pub String);

impl FromStr for RuntimeKind {
    type Err = UnknownKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "python:3" | "python:default" => Ok(RuntimeKind::Python3),
            "nodejs:20" | "nodejs:default" => Ok(RuntimeKind::Nodejs20),
            "exec" => Ok(RuntimeKind::Exec),
            other => Err(UnknownKind(other.to_string())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn default_kinds_resolve_to_concrete_ones() {
        assert_eq!("python:default".parse(), Ok(RuntimeKind::Python3));
        assert_eq!("nodejs:default".parse(), Ok(RuntimeKind::Nodejs20));
        assert_eq!("exec".parse(), Ok(RuntimeKind::Exec));
        for kind in RuntimeKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
    }

    #[test]
    fn unknown_kind_is_an_error_naming_it() {
        let err = "java:8".parse::<RuntimeKind>().unwrap_err();
        assert!(err.to_string().contains("java:8"));
    }
}
