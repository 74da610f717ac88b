//! Rules on the wire: `{trigger:{path,name}, action:{path,name}, status}` in responses, and
//! `{"trigger":"/_/t","action":"/_/a"}` in `PUT` bodies.

use super::{from_json_text, KeyValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::{FullyQualifiedName, RuleDoc};

/// `{path, name}`: an entity by its namespace path (`ns` or `ns/pkg`) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EntityPath {
    pub path: String,
    pub name: String,
}

impl From<&FullyQualifiedName> for EntityPath {
    fn from(name: &FullyQualifiedName) -> Self {
        Self {
            path: match &name.package {
                Some(package) => format!("{}/{package}", name.namespace),
                None => name.namespace.clone(),
            },
            name: name.name.clone(),
        }
    }
}

/// A rule as `GET /namespaces/{ns}/rules/{name}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    pub status: String,
    pub trigger: EntityPath,
    pub action: EntityPath,
    pub updated: u64,
}

impl Rule {
    pub fn from_doc(doc: &RuleDoc) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            annotations: from_json_text(&doc.annotations),
            status: doc.status.as_str().to_owned(),
            trigger: EntityPath::from(&doc.trigger),
            action: EntityPath::from(&doc.action),
            updated: doc.updated_ms,
        }
    }
}

/// The body of `PUT /namespaces/{ns}/rules/{name}`: fully-qualified names, where the namespace
/// `_` means the caller's (`/_/t`, `/guest/pkg/a`, or a bare `t`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RulePut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::names::QUALIFIED_NAME_PATTERN))]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::names::QUALIFIED_NAME_PATTERN))]
    pub action: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<Vec<KeyValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The body of `POST /namespaces/{ns}/rules/{name}`: `{"status":"active"|"inactive"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RuleStatusBody {
    #[schemars(extend("enum" = ["active", "inactive"]))]
    pub status: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use store::{JsonText, RuleStatus, SemVer};

    #[test]
    fn a_rule_names_its_trigger_and_action_by_path_and_name() {
        let doc = RuleDoc {
            namespace: "guest".into(),
            name: "r".into(),
            version: SemVer::INITIAL,
            publish: false,
            annotations: JsonText::empty_array(),
            trigger: FullyQualifiedName::new("guest", "t"),
            action: FullyQualifiedName::in_package("guest", "p", "a"),
            status: RuleStatus::Active,
            updated_ms: 1,
        };
        let json = serde_json::to_value(Rule::from_doc(&doc)).unwrap();
        assert_eq!(json["status"], "active");
        assert_eq!(json["trigger"], json!({"path": "guest", "name": "t"}));
        assert_eq!(json["action"], json!({"path": "guest/p", "name": "a"}));
    }
}
