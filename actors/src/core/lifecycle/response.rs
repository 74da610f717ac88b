//! Turns what the runtime answered to `/init` and `/run` into a status and a result (OpenWhisk's
//! `ActivationResponse.processInitResponseContent` / `processRunResponseContent`).

use crate::core::lifecycle::messages;
use crate::core::lifecycle::status::ActivationStatus;
use serde::{Deserialize, Serialize};

/// How an init ended, as the host observed it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InitResult {
    /// The runtime accepted the code (HTTP 200).
    Succeeded,
    /// The runtime refused the code; `body` is its raw answer (OpenWhisk uses its `error` field).
    Failed {
        /// The raw answer.
        body: String,
    },
    /// The init did not finish in time (the host gave up at the deadline).
    TimedOut,
    /// The container ran out of memory.
    MemoryExhausted,
    /// The action process or container died; `detail` is for logs only.
    Crashed {
        /// What the driver saw.
        detail: String,
    },
}

/// How a run ended, as the host observed it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunResult {
    /// The runtime answered. `ok` is HTTP 200 for the HTTP protocol; an ActionLoop process that
    /// wrote its one JSON line on fd 3 answered `ok`. `body` is the raw answer text.
    Responded {
        /// Whether the runtime reported success at the protocol level.
        ok: bool,
        /// The raw answer.
        body: String,
    },
    /// The run did not finish in time.
    TimedOut,
    /// The container ran out of memory.
    MemoryExhausted,
    /// The action process or container died; `detail` is for logs only.
    Crashed {
        /// What the driver saw.
        detail: String,
    },
    /// The runtime's answer was cut by the driver at its limit: `size` bytes in all, of which
    /// `trunk` is the beginning.
    TooLarge {
        /// The answer's full size in bytes.
        size: u64,
        /// Its beginning.
        trunk: String,
    },
}

/// A processed response: status, result JSON text (always an object) and the raw answer's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProcessedResponse {
    pub(crate) status: ActivationStatus,
    pub(crate) result: String,
    pub(crate) size: Option<u64>,
    pub(crate) timed_out: bool,
}

/// `{"error": <value>}` as JSON text.
pub(crate) fn error_object(value: serde_json::Value) -> String {
    serde_json::json!({ "error": value }).to_string()
}

fn error_message(status: ActivationStatus, message: &str) -> ProcessedResponse {
    ProcessedResponse {
        status,
        result: error_object(serde_json::Value::String(message.to_string())),
        size: None,
        timed_out: false,
    }
}

/// The largest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn trunk(text: &str, max: u64) -> &str {
    let mut end = usize::try_from(max).unwrap_or(usize::MAX).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

enum Parsed {
    /// A JSON object, with the value of its `error` key if it has one.
    Object {
        error: Option<serde_json::Value>,
    },
    NotObject,
}

/// Reads a JSON object's top level, keeping only the value of `error` (the last one, as a map
/// would): the other values are checked and skipped, not built.
struct ErrorField(Option<serde_json::Value>);

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ErrorFieldVisitor)
    }
}

struct ErrorFieldVisitor;

impl<'de> serde::de::Visitor<'de> for ErrorFieldVisitor {
    type Value = ErrorField;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<ErrorField, M::Error> {
        let mut error = None;
        while let Some(KeyIsError(is_error)) = map.next_key()? {
            if is_error {
                error = Some(map.next_value::<serde_json::Value>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(ErrorField(error))
    }
}

/// Whether an object key is `error`, read without keeping the key.
struct KeyIsError(bool);

impl<'de> Deserialize<'de> for KeyIsError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyIsErrorVisitor)
    }
}

struct KeyIsErrorVisitor;

impl serde::de::Visitor<'_> for KeyIsErrorVisitor {
    type Value = KeyIsError;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<KeyIsError, E> {
        Ok(KeyIsError(key == "error"))
    }
}

fn parse(body: &str) -> Parsed {
    // Skipped strings are not checked for lone surrogates (see `JsonText::has_surrogate_escape`):
    // an answer that may hold one is checked by building it, so it is refused as before.
    if store::JsonText::has_surrogate_escape(body) {
        return match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(mut map)) => Parsed::Object {
                error: map.remove("error"),
            },
            _ => Parsed::NotObject,
        };
    }
    match serde_json::from_str::<ErrorField>(body) {
        Ok(ErrorField(error)) => Parsed::Object { error },
        Err(_) => Parsed::NotObject,
    }
}

fn oversize(body: &str, max_bytes: u64) -> Option<ProcessedResponse> {
    let length = body.len() as u64;
    (length > max_bytes).then(|| ProcessedResponse {
        status: ActivationStatus::DeveloperError,
        result: error_object(serde_json::Value::String(messages::truncated_response(
            trunk(body, max_bytes),
            length,
            max_bytes,
        ))),
        size: Some(length),
        timed_out: false,
    })
}

/// The outcome of a failed init (`None` when the init succeeded).
pub(crate) fn process_init(
    result: &InitResult,
    max_bytes: u64,
    timeout_ms: u64,
) -> Option<ProcessedResponse> {
    let developer = ActivationStatus::DeveloperError;
    Some(match result {
        InitResult::Succeeded => return None,
        InitResult::Failed { body } => {
            if let Some(too_big) = oversize(body, max_bytes) {
                return Some(too_big);
            }
            let error = match parse(body) {
                Parsed::Object { error } => error,
                Parsed::NotObject => None,
            };
            ProcessedResponse {
                status: developer,
                result: error_object(error.unwrap_or_else(|| {
                    serde_json::Value::String(messages::invalid_init_response(body))
                })),
                size: Some(body.len() as u64),
                timed_out: false,
            }
        }
        InitResult::TimedOut => ProcessedResponse {
            timed_out: true,
            ..error_message(developer, &messages::timed_out(timeout_ms, true))
        },
        InitResult::MemoryExhausted => error_message(developer, messages::MEMORY_EXHAUSTED),
        InitResult::Crashed { .. } => error_message(developer, messages::ABNORMAL_INITIALIZATION),
    })
}

/// The outcome of a run.
pub(crate) fn process_run(
    result: &RunResult,
    max_bytes: u64,
    timeout_ms: u64,
) -> ProcessedResponse {
    let developer = ActivationStatus::DeveloperError;
    match result {
        RunResult::Responded { ok, body } => {
            if let Some(too_big) = oversize(body, max_bytes) {
                return too_big;
            }
            let size = Some(body.len() as u64);
            match parse(body) {
                Parsed::Object { error } => match (ok, error) {
                    (true, None) => ProcessedResponse {
                        status: ActivationStatus::Success,
                        result: body.trim().to_string(),
                        size,
                        timed_out: false,
                    },
                    (true, Some(error)) => ProcessedResponse {
                        status: ActivationStatus::ApplicationError,
                        result: error_object(error),
                        size,
                        timed_out: false,
                    },
                    (false, error) => ProcessedResponse {
                        status: developer,
                        result: error_object(error.unwrap_or_else(|| {
                            serde_json::Value::String(messages::invalid_run_response(body))
                        })),
                        size,
                        timed_out: false,
                    },
                },
                Parsed::NotObject => ProcessedResponse {
                    size,
                    ..error_message(developer, &messages::invalid_run_response(body))
                },
            }
        }
        RunResult::TimedOut => ProcessedResponse {
            timed_out: true,
            ..error_message(developer, &messages::timed_out(timeout_ms, false))
        },
        RunResult::MemoryExhausted => error_message(developer, messages::MEMORY_EXHAUSTED),
        RunResult::Crashed { .. } => error_message(developer, messages::ABNORMAL_RUN),
        RunResult::TooLarge { size, trunk: head } => ProcessedResponse {
            size: Some(*size),
            ..error_message(
                developer,
                &messages::truncated_response(trunk(head, max_bytes), *size, max_bytes),
            )
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MAX: u64 = 1024 * 1024;

    fn run(ok: bool, body: &str) -> ProcessedResponse {
        process_run(
            &RunResult::Responded {
                ok,
                body: body.to_string(),
            },
            MAX,
            60_000,
        )
    }

    #[test]
    fn object_without_error_is_success_and_kept_verbatim() {
        let r = run(true, " {\"greeting\": \"hi\", \"n\": [1,2]}\n");
        assert_eq!(r.status, ActivationStatus::Success);
        assert_eq!(r.result, "{\"greeting\": \"hi\", \"n\": [1,2]}");
        assert_eq!(r.size, Some(32), "the raw answer, whitespace included");
    }

    #[test]
    fn object_with_error_is_an_application_error_keeping_only_error() {
        let r = run(true, r#"{"error":{"code":7},"other":1}"#);
        assert_eq!(r.status, ActivationStatus::ApplicationError);
        assert_eq!(r.result, r#"{"error":{"code":7}}"#);
    }

    #[test]
    fn only_a_top_level_error_counts_and_the_last_one_wins() {
        let r = run(true, r#"{"nested":{"error":1},"x":[{"error":2}]}"#);
        assert_eq!(r.status, ActivationStatus::Success);
        let r = run(true, r#"{"error":1,"err\u006fr":{"b":[true]}}"#);
        assert_eq!(r.status, ActivationStatus::ApplicationError);
        assert_eq!(r.result, r#"{"error":{"b":[true]}}"#);
        let r = run(true, r#"{"error":null}"#);
        assert_eq!(r.status, ActivationStatus::ApplicationError);
        assert_eq!(r.result, r#"{"error":null}"#);
    }

    #[test]
    fn a_lone_surrogate_anywhere_is_not_json() {
        for body in [r#"{"a":"\ud800"}"#, r#"{"a":{"b":["\udfff"]}}"#] {
            assert_eq!(
                run(true, body).status,
                ActivationStatus::DeveloperError,
                "{body}"
            );
        }
        let r = run(true, r#"{"a":"\ud83d\ude00","error":"\ud83d\ude00"}"#);
        assert_eq!(r.status, ActivationStatus::ApplicationError);
        assert_eq!(r.result, r#"{"error":"😀"}"#);
    }

    #[test]
    fn an_object_with_a_broken_value_or_trailing_text_is_not_an_object() {
        for body in [r#"{"a":[1,}"#, r#"{"a":1} x"#, r#"{"a":1"#, r#"{"a" 1}"#] {
            assert_eq!(
                run(true, body).status,
                ActivationStatus::DeveloperError,
                "{body}"
            );
        }
    }

    #[test]
    fn non_objects_are_developer_errors() {
        for body in ["42", "[1]", "\"text\"", "not json", ""] {
            let r = run(true, body);
            assert_eq!(r.status, ActivationStatus::DeveloperError, "{body}");
            let v: serde_json::Value = serde_json::from_str(&r.result).unwrap();
            let msg = v["error"].as_str().unwrap();
            assert!(
                msg.starts_with("The action did not produce a valid JSON response"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_protocol_failure_is_a_developer_error_even_with_an_object() {
        let r = run(false, r#"{"error":"bad"}"#);
        assert_eq!(r.status, ActivationStatus::DeveloperError);
        assert_eq!(r.result, r#"{"error":"bad"}"#);
        let r = run(false, r#"{"x":1}"#);
        assert_eq!(
            r.result,
            r#"{"error":"The action did not produce a valid JSON response: {\"x\":1}"}"#
        );
    }

    #[test]
    fn oversize_answers_are_truncated_developer_errors() {
        let body = format!("{{\"k\":\"{}\"}}", "é".repeat(10));
        let r = process_run(
            &RunResult::Responded {
                ok: true,
                body: body.clone(),
            },
            8,
            1,
        );
        assert_eq!(r.status, ActivationStatus::DeveloperError);
        assert_eq!(r.size, Some(body.len() as u64));
        let v: serde_json::Value = serde_json::from_str(&r.result).unwrap();
        let msg = v["error"].as_str().unwrap();
        // "{"k":"é" is 8 bytes; the trunk never splits a character.
        assert_eq!(
            msg,
            format!("The action produced a response that exceeded the allowed length: {} > 8 bytes. The truncated response was: {{\"k\":\"é", body.len())
        );
        assert_eq!(trunk("aé", 2), "a");
    }

    #[test]
    fn timeouts_crashes_and_oom() {
        let r = process_run(&RunResult::TimedOut, MAX, 3000);
        assert!(r.timed_out);
        assert_eq!(
            r.result,
            r#"{"error":"The action exceeded its time limits of 3000 milliseconds."}"#
        );
        let r = process_run(
            &RunResult::Crashed {
                detail: "exit 1".into(),
            },
            MAX,
            3000,
        );
        assert_eq!(
            r.result,
            r#"{"error":"The action did not produce a valid response and exited unexpectedly."}"#
        );
        let r = process_run(&RunResult::MemoryExhausted, MAX, 3000);
        assert_eq!(
            r.result,
            r#"{"error":"The action exhausted its memory and was aborted."}"#
        );
        assert!(!r.timed_out);
    }

    #[test]
    fn init_failures() {
        assert_eq!(process_init(&InitResult::Succeeded, MAX, 1), None);
        let r = process_init(
            &InitResult::Failed {
                body: r#"{"error":"syntax error"}"#.into(),
            },
            MAX,
            1,
        )
        .unwrap();
        assert_eq!(r.status, ActivationStatus::DeveloperError);
        assert_eq!(r.result, r#"{"error":"syntax error"}"#);
        let r = process_init(
            &InitResult::Failed {
                body: "boom".into(),
            },
            MAX,
            1,
        )
        .unwrap();
        assert_eq!(
            r.result,
            r#"{"error":"The action failed during initialization: boom"}"#
        );
        let r = process_init(&InitResult::TimedOut, MAX, 250).unwrap();
        assert!(r.timed_out);
        assert_eq!(
            r.result,
            r#"{"error":"The action exceeded its time limits of 250 milliseconds during initialization."}"#
        );
        let r = process_init(
            &InitResult::Crashed {
                detail: String::new(),
            },
            MAX,
            1,
        )
        .unwrap();
        assert_eq!(
            r.result,
            r#"{"error":"The action did not initialize and exited unexpectedly."}"#
        );
    }
}
