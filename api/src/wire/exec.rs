//! `exec`: what an action runs, as OpenWhisk writes it (`{kind, code, binary, main}`,
//! `{kind:"blackbox", image, ...}`, `{kind:"sequence", components}`), plus Whirl's
//! `{kind:"exec", code:"<command>"}` for a command that reads stdin and writes stdout.

use super::WireError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::Exec;

/// Every kind an action may have; `:default` kinds resolve to the family's concrete kind.
pub const KNOWN_KINDS: &[&str] = &[
    "python:3",
    "python:default",
    "nodejs:20",
    "nodejs:default",
    "exec",
    "blackbox",
    "sequence",
];

/// The concrete kind stored for `kind` (`python:default` → `python:3`), or why it is unknown.
pub fn resolve_kind(kind: &str) -> Result<&'static str, WireError> {
    match kind {
        "python:3" | "python:default" => Ok("python:3"),
        "nodejs:20" | "nodejs:default" => Ok("nodejs:20"),
        "exec" => Ok("exec"),
        "blackbox" => Ok("blackbox"),
        "sequence" => Ok("sequence"),
        other => Err(WireError::UnknownKind {
            kind: other.to_owned(),
            known: KNOWN_KINDS.join(", "),
        }),
    }
}

/// `kind` in the OpenAPI document: one of [`KNOWN_KINDS`].
fn kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "enum": KNOWN_KINDS})
}

/// `exec` as a `PUT` gives it (absent or `null`: the action's current exec): an `ExecBody` with
/// what its kind needs (`ExecBody::to_exec`): code for a runtime, a command that is not blank for
/// `exec`, an image for `blackbox`, components for `sequence`. Responses leave the code out when
/// asked to (`code=false`), so only requests carry these rules.
pub fn exec_put_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let body = generator.subschema_for::<ExecBody>();
    let runtimes: Vec<&str> = KNOWN_KINDS
        .iter()
        .copied()
        .filter(|kind| !matches!(*kind, "exec" | "blackbox" | "sequence"))
        .collect();
    schemars::json_schema!({
        "nullable": true,
        "allOf": [body],
        "oneOf": [
            {
                "properties": {
                    "kind": {"enum": runtimes},
                    "code": {"type": "string"}
                },
                "required": ["kind", "code"]
            },
            {
                "properties": {"kind": {"enum": ["exec"]}, "code": {"type": "string", "pattern": "\\S"}},
                "required": ["kind", "code"]
            },
            {
                "properties": {"kind": {"enum": ["blackbox"]}, "image": {"type": "string", "minLength": 1}},
                "required": ["kind", "image"]
            },
            {
                "properties": {
                    "kind": {"enum": ["sequence"]},
                    "components": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": crate::names::QUALIFIED_NAME_PATTERN}
                    }
                },
                "required": ["kind", "components"]
            }
        ]
    })
}

/// The `exec` object of an action, in requests and responses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ExecBody {
    #[schemars(schema_with = "kind_schema")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

impl ExecBody {
    /// `{kind, code}` for a managed runtime (`python:3`, `nodejs:20`, ...) or `exec`.
    pub fn code(kind: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            code: Some(code.into()),
            ..Self::default()
        }
    }

    /// `{kind:"sequence", components}`.
    pub fn sequence(components: Vec<String>) -> Self {
        Self {
            kind: "sequence".into(),
            components: Some(components),
            ..Self::default()
        }
    }

    /// `{kind:"blackbox", image}`.
    pub fn blackbox(image: impl Into<String>) -> Self {
        Self {
            kind: "blackbox".into(),
            image: Some(image.into()),
            ..Self::default()
        }
    }

    /// The response form of a stored exec; without `include_code` the code is left out
    /// (`GET ...?code=false`).
    pub fn from_exec(exec: &Exec, include_code: bool) -> Self {
        let code = |code: &str| include_code.then(|| code.to_owned());
        match exec {
            Exec::Code {
                kind,
                code: text,
                binary,
                main,
            } => Self {
                kind: kind.clone(),
                code: code(text),
                main: main.clone(),
                binary: Some(*binary),
                ..Self::default()
            },
            Exec::Blackbox {
                image,
                code: text,
                main,
                binary,
            } => Self {
                kind: "blackbox".into(),
                image: Some(image.clone()),
                code: text.as_deref().and_then(code),
                main: main.clone(),
                binary: Some(*binary),
                ..Self::default()
            },
            Exec::Sequence { components } => Self::sequence(components.clone()),
            Exec::Command { command } => Self {
                kind: "exec".into(),
                code: code(command),
                binary: Some(false),
                ..Self::default()
            },
        }
    }

    /// The stored exec this body describes (kinds resolved, required fields checked). Sequence
    /// components are only checked to be present here; the server resolves and validates them.
    pub fn to_exec(&self) -> Result<Exec, WireError> {
        let kind = resolve_kind(&self.kind)?;
        let code = || {
            self.code.clone().ok_or_else(|| WireError::Missing {
                field: "exec.code",
                context: format!(" for kind '{kind}'"),
            })
        };
        let exec = match kind {
            "sequence" => {
                let components = self.components.clone().ok_or(WireError::Missing {
                    field: "exec.components",
                    context: " for kind 'sequence'".into(),
                })?;
                Exec::Sequence { components }
            }
            "blackbox" => Exec::Blackbox {
                image: self.image.clone().filter(|image| !image.is_empty()).ok_or(
                    WireError::Missing {
                        field: "exec.image",
                        context: " for kind 'blackbox'".into(),
                    },
                )?,
                code: self.code.clone(),
                main: self.main.clone(),
                binary: self.binary.unwrap_or(false),
            },
            "exec" => {
                let command = code()?;
                if command.trim().is_empty() {
                    return Err(WireError::Invalid {
                        field: "exec.code",
                        reason: "the command of kind 'exec' is empty".into(),
                    });
                }
                Exec::Command { command }
            }
            runtime => Exec::Code {
                kind: runtime.to_owned(),
                code: code()?,
                binary: self.binary.unwrap_or(false),
                main: self.main.clone(),
            },
        };
        Ok(exec)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn default_kinds_resolve_and_unknown_kinds_are_named() {
        let exec = ExecBody::code("python:default", "def main(a): return a")
            .to_exec()
            .unwrap();
        assert_eq!(exec.kind(), "python:3");
        let error = ExecBody::code("java:8", "x").to_exec().unwrap_err();
        assert!(error.to_string().contains("java:8"), "{error}");
        assert!(error.to_string().contains("python:3"), "{error}");
    }

    #[test]
    fn required_fields_are_named() {
        let missing = ExecBody {
            kind: "nodejs:20".into(),
            ..ExecBody::default()
        };
        assert_eq!(
            missing.to_exec().unwrap_err().to_string(),
            "exec.code is required for kind 'nodejs:20'"
        );
        assert!(ExecBody::blackbox("").to_exec().is_err());
        let sequence = ExecBody {
            kind: "sequence".into(),
            ..ExecBody::default()
        };
        assert!(sequence.to_exec().is_err());
    }

    #[test]
    fn responses_follow_openwhisk_and_code_can_be_left_out() {
        let exec = Exec::Code {
            kind: "nodejs:20".into(),
            code: "function main(){}".into(),
            binary: false,
            main: None,
        };
        assert_eq!(
            serde_json::to_value(ExecBody::from_exec(&exec, true)).unwrap(),
            json!({"kind":"nodejs:20","code":"function main(){}","binary":false})
        );
        assert_eq!(
            serde_json::to_value(ExecBody::from_exec(&exec, false)).unwrap(),
            json!({"kind":"nodejs:20","binary":false})
        );
        let command = ExecBody::code("exec", "cat").to_exec().unwrap();
        assert_eq!(
            command,
            Exec::Command {
                command: "cat".into()
            }
        );
        assert_eq!(
            ExecBody::from_exec(&command, true).to_exec().unwrap(),
            command
        );
    }
}
