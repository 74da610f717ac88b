//! Actions on the wire: the full document (`GET`), the list summary (no code), and the `PUT` body.

use super::{from_json_text, ActionLimitsBody, ActionLimitsPut, ExecBody, KeyValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::ActionDoc;

/// The namespace path of an action: `ns` or `ns/pkg`.
pub(crate) fn action_namespace_path(doc: &ActionDoc) -> String {
    match &doc.package {
        Some(package) => format!("{}/{package}", doc.namespace),
        None => doc.namespace.clone(),
    }
}

/// An action as `GET /namespaces/{ns}/actions/[{pkg}/]{name}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// `ns` or `ns/pkg`.
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub exec: ExecBody,
    pub annotations: Vec<KeyValue>,
    pub parameters: Vec<KeyValue>,
    pub limits: ActionLimitsBody,
    /// Unix ms of the last change.
    pub updated: u64,
}

impl Action {
    /// The response form of a stored action (`include_code` false for `code=false`).
    pub fn from_doc(doc: &ActionDoc, include_code: bool) -> Self {
        Self {
            namespace: action_namespace_path(doc),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            exec: ExecBody::from_exec(&doc.exec, include_code),
            annotations: from_json_text(&doc.annotations),
            parameters: from_json_text(&doc.parameters),
            limits: ActionLimitsBody::from(&doc.limits),
            updated: doc.updated_ms,
        }
    }
}

/// `exec` in a list summary: only whether the code is binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionExecSummary {
    pub binary: bool,
}

/// One action of `GET /namespaces/{ns}/actions` (no code, no parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionSummary {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    pub limits: ActionLimitsBody,
    pub exec: ActionExecSummary,
    pub updated: u64,
}

impl ActionSummary {
    pub fn from_doc(doc: &ActionDoc) -> Self {
        let binary = match &doc.exec {
            store::Exec::Code { binary, .. } | store::Exec::Blackbox { binary, .. } => *binary,
            store::Exec::Sequence { .. } | store::Exec::Command { .. } => false,
        };
        Self {
            namespace: action_namespace_path(doc),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            annotations: from_json_text(&doc.annotations),
            limits: ActionLimitsBody::from(&doc.limits),
            exec: ActionExecSummary { binary },
            updated: doc.updated_ms,
        }
    }
}

/// The body of `PUT /namespaces/{ns}/actions/[{pkg}/]{name}`. On create `exec` is required; on
/// update (`overwrite=true`) a field left out keeps its current value (`parameters` and
/// `annotations` are replaced when given; the server sets the `exec` annotation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionPut {
    #[serde(
        default,
        deserialize_with = "super::strict::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "super::exec::exec_put_schema")]
    pub exec: Option<ExecBody>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Vec<KeyValue>>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<Vec<KeyValue>>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub limits: Option<ActionLimitsPut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// Ignored (the server versions entities); accepted because clients send it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use store::{ActionLimits, Exec, JsonText, SemVer};

    fn doc() -> ActionDoc {
        ActionDoc {
            namespace: "guest".into(),
            package: Some("utils".into()),
            name: "echo".into(),
            version: SemVer::INITIAL,
            publish: true,
            exec: Exec::Code {
                kind: "python:3".into(),
                code: "def main(a): return a".into(),
                binary: false,
                main: None,
            },
            annotations: JsonText::parse(r#"[{"key":"exec","value":"python:3"}]"#).unwrap(),
            parameters: JsonText::parse(r#"[{"key":"x","value":1}]"#).unwrap(),
            limits: ActionLimits::default(),
            updated_ms: 5,
        }
    }

    #[test]
    fn an_action_has_openwhisk_shape() {
        let json = serde_json::to_value(Action::from_doc(&doc(), true)).unwrap();
        assert_eq!(
            json,
            json!({
                "namespace": "guest/utils", "name": "echo", "version": "0.0.1", "publish": true,
                "exec": {"kind": "python:3", "code": "def main(a): return a", "binary": false},
                "annotations": [{"key": "exec", "value": "python:3"}],
                "parameters": [{"key": "x", "value": 1}],
                "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1},
                "updated": 5
            })
        );
        let summary = serde_json::to_value(ActionSummary::from_doc(&doc())).unwrap();
        assert!(summary.get("parameters").is_none());
        assert_eq!(summary["exec"], json!({"binary": false}));
    }

    #[test]
    fn a_put_body_may_leave_fields_out() {
        let put: ActionPut =
            serde_json::from_str(r#"{"parameters":[{"key":"a","value":"b"}]}"#).unwrap();
        assert!(put.exec.is_none());
        assert_eq!(put.parameters.unwrap()[0].key, "a");
        assert!(serde_json::from_str::<ActionPut>(r#"{"exec":5}"#).is_err());
    }
}
