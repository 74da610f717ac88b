//! Activation records on the wire: the full record, the `/result` and `/logs` views, the list
//! summary, and the `{"activationId"}` body of accepted invocations and trigger fires.

use super::{from_json_text, KeyValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use store::ActivationDoc;

/// `{"activationId": "<32 hex>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActivationIdBody {
    #[serde(rename = "activationId")]
    pub activation_id: String,
}

/// `response` of an activation record.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ActivationResponse {
    /// `success`, `application error`, `action developer error` or `whisk internal error`.
    pub status: String,
    #[serde(rename = "statusCode")]
    pub status_code: u8,
    pub success: bool,
    /// The stored JSON text as it is: re-parsing it would lose a result nested deeper than
    /// serde_json's recursion limit (128), which the log keeps.
    #[schemars(with = "serde_json::Value")]
    pub result: Box<RawValue>,
    /// Bytes of the result's JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl ActivationResponse {
    pub fn from_doc(doc: &ActivationDoc) -> Self {
        Self {
            status: doc.status.as_str().to_owned(),
            status_code: doc.status.status_code(),
            success: doc.status == store::ActivationStatus::Success,
            result: raw_result(doc),
            size: Some(doc.result.as_str().len() as u64),
        }
    }
}

/// A record's result as raw JSON (`null` if the stored text were not JSON, which the log never
/// stores).
fn raw_result(doc: &ActivationDoc) -> Box<RawValue> {
    RawValue::from_string(doc.result.as_str().to_owned())
        .unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// An activation record as `GET /namespaces/{ns}/activations/{id}` (and a blocking invoke)
/// returns it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Activation {
    pub namespace: String,
    pub name: String,
    pub subject: String,
    #[serde(rename = "activationId")]
    pub activation_id: String,
    pub version: String,
    pub publish: bool,
    pub start: u64,
    pub end: u64,
    pub duration: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub response: ActivationResponse,
    pub logs: Vec<String>,
    pub annotations: Vec<KeyValue>,
}

impl Activation {
    pub fn from_doc(doc: &ActivationDoc) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            subject: doc.subject.clone(),
            activation_id: doc.activation_id.to_string(),
            version: doc.version.to_string(),
            publish: false,
            start: doc.start_ms,
            end: doc.end_ms,
            duration: doc.duration_ms,
            cause: doc.cause.map(|cause| cause.to_string()),
            response: ActivationResponse::from_doc(doc),
            logs: doc.logs.clone(),
            annotations: from_json_text(&doc.annotations),
        }
    }
}

/// `GET .../activations/{id}/result`: the response without its status code.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ActivationResult {
    pub status: String,
    pub success: bool,
    #[schemars(with = "serde_json::Value")]
    pub result: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl ActivationResult {
    pub fn from_doc(doc: &ActivationDoc) -> Self {
        let response = ActivationResponse::from_doc(doc);
        Self {
            status: response.status,
            success: response.success,
            result: response.result,
            size: response.size,
        }
    }
}

/// `GET .../activations/{id}/logs`: `{"logs": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActivationLogs {
    pub logs: Vec<String>,
}

/// One activation of `GET /namespaces/{ns}/activations` without `docs=true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActivationSummary {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub subject: String,
    #[serde(rename = "activationId")]
    pub activation_id: String,
    pub start: u64,
    pub end: u64,
    pub duration: u64,
    #[serde(rename = "statusCode")]
    pub status_code: u8,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl ActivationSummary {
    pub fn from_doc(doc: &ActivationDoc) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            subject: doc.subject.clone(),
            activation_id: doc.activation_id.to_string(),
            start: doc.start_ms,
            end: doc.end_ms,
            duration: doc.duration_ms,
            status_code: doc.status.status_code(),
            publish: false,
            annotations: from_json_text(&doc.annotations),
            cause: doc.cause.map(|cause| cause.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use store::{ActivationId, ActivationStatus, JsonText, SemVer};

    fn doc() -> ActivationDoc {
        ActivationDoc {
            activation_id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            namespace: "guest".into(),
            name: "hello".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::INITIAL,
            start_ms: 10,
            end_ms: 15,
            duration_ms: 5,
            cause: Some(ActivationId([1; 16])),
            status: ActivationStatus::ApplicationError,
            result: JsonText::parse(r#"{"error":"no"}"#).unwrap(),
            logs: vec!["2024-01-01T00:00:00.000000000Z stdout: hi".into()],
            annotations: JsonText::parse(r#"[{"key":"path","value":"guest/hello"}]"#).unwrap(),
        }
    }

    #[test]
    fn a_result_nested_deeper_than_serde_json_parses_is_served_as_stored() {
        let deep = format!(
            "{}{}",
            r#"{"d":"#.repeat(300),
            "{}".to_owned() + &"}".repeat(300)
        );
        let mut record = doc();
        record.result = JsonText::parse(&deep).unwrap();
        let text = serde_json::to_string(&ActivationResult::from_doc(&record)).unwrap();
        assert!(text.contains(&deep), "{text}");
        let text = serde_json::to_string(&Activation::from_doc(&record)).unwrap();
        assert!(text.contains(&deep));
        // Clients decode the same type from the text, or from an already parsed value.
        let decoded: ActivationResult =
            serde_json::from_str(r#"{"status":"success","success":true,"result":{"a":1}}"#)
                .unwrap();
        assert_eq!(decoded.result.get(), r#"{"a":1}"#);
        let decoded: ActivationResult = serde_json::from_value(
            json!({"status": "success", "success": true, "result": {"a": 1}}),
        )
        .unwrap();
        assert_eq!(decoded.result.get(), r#"{"a":1}"#);
    }

    #[test]
    fn an_activation_has_openwhisk_shape() {
        let json = serde_json::to_value(Activation::from_doc(&doc())).unwrap();
        assert_eq!(json["activationId"], "0123456789abcdef0123456789abcdef");
        assert_eq!(json["cause"], "01010101010101010101010101010101");
        assert_eq!(
            json["response"],
            json!({"status": "application error", "statusCode": 1, "success": false,
                   "result": {"error": "no"}, "size": 14})
        );
        let result = serde_json::to_value(ActivationResult::from_doc(&doc())).unwrap();
        assert!(result.get("statusCode").is_none());
        let summary = serde_json::to_value(ActivationSummary::from_doc(&doc())).unwrap();
        assert_eq!(summary["statusCode"], 1);
        assert!(summary.get("response").is_none());
        assert!(summary.get("logs").is_none());
    }
}
