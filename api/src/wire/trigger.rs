//! Triggers on the wire: the document with the rules that name it, and the `PUT` body.

use super::{from_json_text, EntityPath, KeyValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{RuleDoc, TriggerDoc};

/// One rule of a trigger's `rules` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TriggerRule {
    pub action: EntityPath,
    pub status: String,
}

/// A trigger as `GET /namespaces/{ns}/triggers/{name}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    pub parameters: Vec<KeyValue>,
    #[serde(default)]
    pub limits: serde_json::Map<String, serde_json::Value>,
    /// `"ns/rule"` → the rule's action and status (left out in list summaries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<BTreeMap<String, TriggerRule>>,
    pub updated: u64,
}

impl Trigger {
    /// The response form of `doc`; `rules` are the rules that name it (`None` in list summaries).
    pub fn from_doc(doc: &TriggerDoc, rules: Option<&[RuleDoc]>) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            annotations: from_json_text(&doc.annotations),
            parameters: from_json_text(&doc.parameters),
            limits: serde_json::Map::new(),
            rules: rules.map(|rules| {
                rules
                    .iter()
                    .map(|rule| {
                        (
                            format!("{}/{}", rule.namespace, rule.name),
                            TriggerRule {
                                action: EntityPath::from(&rule.action),
                                status: rule.status.as_str().to_owned(),
                            },
                        )
                    })
                    .collect()
            }),
            updated: doc.updated_ms,
        }
    }
}

/// The body of `PUT /namespaces/{ns}/triggers/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriggerPut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<Vec<KeyValue>>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Vec<KeyValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
