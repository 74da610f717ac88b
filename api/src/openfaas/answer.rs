//! What a function's activation record means as an HTTP answer, the way a watchdog would have
//! answered: the function's own status, headers and body bytes on success (`HttpAnswer`), a JSON
//! result as `application/json`, 408 "Killed process." when it ran past its timeout, 500 with the
//! output for a non-zero exit or any other failure.

use bridge::{HttpAnswer, KILLED_PROCESS};
use store::{ActivationDoc, ActivationStatus};

/// A function's answer, ready to send (or to POST to a callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl FunctionAnswer {
    fn text(status: u16, body: impl Into<String>) -> Self {
        FunctionAnswer {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }
}

/// Whether the record says the run was killed at its timeout.
fn timed_out(doc: &ActivationDoc) -> bool {
    let annotations = crate::wire::from_json_text(&doc.annotations);
    matches!(
        crate::wire::annotation(&annotations, "timeout"),
        Some(serde_json::Value::Bool(true))
    )
}

/// Whether the record is of a kind that answers an `HttpAnswer` (`exec` and image functions; a
/// runtime kind's result is its JSON, whatever its shape).
fn answers_http(doc: &ActivationDoc) -> bool {
    let annotations = crate::wire::from_json_text(&doc.annotations);
    matches!(
        crate::wire::annotation(&annotations, "kind"),
        Some(serde_json::Value::String(kind)) if kind.starts_with("exec") || kind.starts_with("blackbox")
    )
}

/// The answer a record stands for.
pub fn answer_of(doc: &ActivationDoc) -> FunctionAnswer {
    let result = doc.result.as_str();
    let http = if answers_http(doc) {
        HttpAnswer::from_json(result)
    } else {
        None
    };
    match doc.status {
        ActivationStatus::Success => match http {
            Some(answer) => FunctionAnswer {
                status: answer.status_code,
                body: answer.body_bytes().unwrap_or_default(),
                headers: answer.headers.into_iter().collect(),
            },
            None => FunctionAnswer {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: result.as_bytes().to_vec(),
            },
        },
        _ if timed_out(doc) => FunctionAnswer::text(408, format!("{KILLED_PROCESS}\n")),
        _ => {
            let error = doc
                .result
                .to_value()
                .ok()
                .and_then(|value| value.get("error").cloned());
            let text = match error {
                Some(serde_json::Value::String(text)) => text,
                Some(other) => other.to_string(),
                None => result.to_owned(),
            };
            FunctionAnswer::text(500, text)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use store::{ActivationId, JsonText, SemVer};

    fn record(status: ActivationStatus, result: &str, annotations: &str) -> ActivationDoc {
        ActivationDoc {
            activation_id: ActivationId::generate(),
            namespace: "guest".into(),
            name: "f".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::INITIAL,
            start_ms: 1,
            end_ms: 2,
            duration_ms: 1,
            cause: None,
            status,
            result: JsonText::parse(result).unwrap(),
            logs: vec![],
            annotations: JsonText::parse(annotations).unwrap(),
        }
    }

    #[test]
    fn records_answer_as_a_watchdog_would() {
        let png = HttpAnswer::new(200, Some("image/png"), &[0x89, b'P', 0, 255]).to_json();
        let exec = r#"[{"key":"kind","value":"exec"}]"#;
        let answer = answer_of(&record(ActivationStatus::Success, &png, exec));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, vec![0x89, b'P', 0, 255]);
        assert_eq!(
            answer.headers,
            vec![("Content-Type".to_owned(), "image/png".to_owned())]
        );
        // A runtime kind's result is JSON, even when shaped like an answer.
        let python = r#"[{"key":"kind","value":"python:3"}]"#;
        let shaped = answer_of(&record(ActivationStatus::Success, &png, python));
        assert_eq!(shaped.status, 200);
        let body: serde_json::Value = serde_json::from_slice(&shaped.body).unwrap();
        assert_eq!(
            body,
            serde_json::from_str::<serde_json::Value>(&png).unwrap()
        );
        let json = answer_of(&record(ActivationStatus::Success, r#"{"a":1}"#, "[]"));
        assert_eq!(
            (json.status, json.body.as_slice()),
            (200, br#"{"a":1}"#.as_slice())
        );
        let killed = answer_of(&record(
            ActivationStatus::ActionDeveloperError,
            r#"{"error":"The action exceeded its time limit"}"#,
            r#"[{"key":"timeout","value":true}]"#,
        ));
        assert_eq!(
            (killed.status, killed.body.as_slice()),
            (408, b"Killed process.\n".as_slice())
        );
        let failed = answer_of(&record(
            ActivationStatus::ApplicationError,
            r#"{"error":"convert: no decode delegate","exitCode":1}"#,
            "[]",
        ));
        assert_eq!(
            (failed.status, failed.body.as_slice()),
            (500, b"convert: no decode delegate".as_slice())
        );
    }
}
