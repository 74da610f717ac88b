//! Actions: the functions users deploy, with their code (or image, sequence, or command) and limits.

use super::{JsonText, SemVer};
use serde::{Deserialize, Serialize};

/// What an action runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exec {
    /// Source code (or a base64 zip when `binary`) for a managed runtime such as `python:3`.
    Code {
        kind: String,
        code: String,
        binary: bool,
        main: Option<String>,
    },
    /// A Docker image speaking the action container protocol, optionally with code to init it.
    Blackbox {
        image: String,
        code: Option<String>,
        main: Option<String>,
        binary: bool,
    },
    /// A sequence of other actions, by fully-qualified name (`/ns/pkg/a`).
    Sequence { components: Vec<String> },
    /// An OpenFaaS-style command that reads the request on stdin and writes the result on stdout.
    Command { command: String },
}

impl Exec {
    /// The OpenWhisk `kind` of this exec: the runtime kind, `blackbox`, `sequence` or `exec`.
    pub fn kind(&self) -> &str {
        match self {
            Exec::Code { kind, .. } => kind,
            Exec::Blackbox { .. } => "blackbox",
            Exec::Sequence { .. } => "sequence",
            Exec::Command { .. } => "exec",
        }
    }
}

/// Resource limits of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLimits {
    pub timeout_ms: u64,
    pub memory_mb: u32,
    pub logs_mb: u32,
    pub concurrency: u32,
}

impl Default for ActionLimits {
    /// OpenWhisk's shipped defaults: 60 s, 256 MB, 10 MB of logs, one activation at a time.
    fn default() -> Self {
        Self {
            timeout_ms: 60_000,
            memory_mb: 256,
            logs_mb: 10,
            concurrency: 1,
        }
    }
}

/// An action as persisted by `ActionPut`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDoc {
    pub namespace: String,
    /// The package holding the action, if any (`ns/pkg/action`).
    pub package: Option<String>,
    pub name: String,
    pub version: SemVer,
    pub publish: bool,
    pub exec: Exec,
    /// JSON array of `{key, value}`.
    pub annotations: JsonText,
    /// JSON array of `{key, value}`.
    pub parameters: JsonText,
    pub limits: ActionLimits,
    pub updated_ms: u64,
}

impl ActionDoc {
    /// The name within the namespace: `package/name` or `name`.
    pub fn name_in_namespace(&self) -> String {
        match &self.package {
            Some(package) => format!("{package}/{}", self.name),
            None => self.name.clone(),
        }
    }
}
