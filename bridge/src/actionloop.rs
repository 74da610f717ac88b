//! The ActionLoop lines Whirl writes to launchers and reads back: the init line, the run
//! line, the end-of-activation sentinel, the tag that names what an answer (and, in
//! concurrent containers, a log line) belongs to, and the check that an answer is one JSON
//! object. Pure functions, no I/O.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::driver::{InitRequest, RunRequest};

/// OpenWhisk's end-of-activation marker, written on stdout and stderr after each activation.
pub const SENTINEL: &str = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

/// The launcher's file descriptor for answers (ActionLoop's fd 3).
pub const RESULT_FD: i32 = 3;

/// Starts and ends the tag `\x1e<key>\x1e` in front of every answer (and of the log lines of
/// concurrent containers). JSON text never holds this character unescaped.
pub const TAG: char = '\u{1e}';

/// The key of the launcher's start acknowledgement (`__OW_WAIT_FOR_ACK`).
pub const ACK_KEY: &str = "ack";

/// The key of the answer to the init line.
pub const INIT_KEY: &str = "init";

/// One line read from a launcher's answer channel, split into what the launcher framed
/// (`\x1e<key>\x1e<answer>`) and whatever stood in front of that frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerFrame<'a> {
    /// The request the answer belongs to (`ack`, `init` or an activation id); `None` when the
    /// line has no frame: it is not the launcher's (the action wrote to the channel itself).
    pub key: Option<&'a str>,
    /// The answer (the whole line when there is no frame).
    pub text: &'a str,
    /// Text in front of the frame, on the same line: the action wrote to the channel without a
    /// newline. Not part of the answer.
    pub stray: &'a str,
}

/// Finds the launcher's frame in an answer line. The frame is the last tag on the line, so text
/// an action wrote to the channel before it is left out, and the answer itself (JSON) cannot hold
/// a tag character.
pub fn answer_frame(line: &str) -> AnswerFrame<'_> {
    let unframed = AnswerFrame {
        key: None,
        text: line,
        stray: "",
    };
    let Some(close) = line.rfind(TAG) else {
        return unframed;
    };
    let Some(open) = line[..close].rfind(TAG) else {
        return unframed;
    };
    AnswerFrame {
        key: Some(&line[open + TAG.len_utf8()..close]),
        text: &line[close + TAG.len_utf8()..],
        stray: &line[..open],
    }
}

/// The first line a launcher reads: `{"value":{"name","main","code","binary","env","concurrency"}}`.
pub fn init_line(request: &InitRequest) -> String {
    let env: Map<String, Value> = request
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let main = if request.main.is_empty() {
        "main"
    } else {
        request.main.as_str()
    };
    json!({
        "value": {
            "name": request.name,
            "main": main,
            "code": request.code,
            "binary": request.binary,
            "env": env,
            "concurrency": request.limits.concurrency,
        }
    })
    .to_string()
}

/// Why params could not be put on a run line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the parameters are not valid JSON: {0}")]
pub struct BadParams(pub String);

/// One run line: `{"value":<params>,"activation_id",...,"deadline","api_key",<extra>}`, with
/// no newline inside (params with line breaks are re-serialized).
pub fn run_line(request: &RunRequest) -> Result<String, BadParams> {
    let params: Box<RawValue> = if request.params.contains(['\n', '\r']) {
        let value: Value =
            serde_json::from_str(&request.params).map_err(|e| BadParams(e.to_string()))?;
        RawValue::from_string(value.to_string()).map_err(|e| BadParams(e.to_string()))?
    } else {
        serde_json::from_str(&request.params).map_err(|e| BadParams(e.to_string()))?
    };
    // Written straight into the line (this runs once per activation; building a JSON map and
    // printing it showed in profiles, then serde_json's string formatter did). A key of `extra`
    // equal to a standard one comes later on the line, and JSON parsers keep the last value, so it
    // overrides as before.
    let mut line = String::with_capacity(params.get().len() + 320);
    line.push_str("{\"value\":");
    line.push_str(params.get());
    let deadline = request.deadline_ms.to_string();
    let standard = [
        ("activation_id", request.activation_id.as_str()),
        ("transaction_id", request.transaction_id.as_str()),
        ("namespace", request.namespace.as_str()),
        ("action_name", request.action_name.as_str()),
        ("action_version", request.action_version.as_str()),
        ("deadline", deadline.as_str()),
    ];
    for (key, value) in standard {
        push_string_field(&mut line, key, value);
    }
    if let Some(key) = &request.api_key {
        push_string_field(&mut line, "api_key", key);
    }
    for (key, value) in &request.extra {
        push_string_field(&mut line, key, value);
    }
    line.push('}');
    Ok(line)
}

/// `,"key":"value"`, both escaped as JSON strings.
fn push_string_field(line: &mut String, key: &str, value: &str) {
    line.push(',');
    store::push_json_string(line, key);
    line.push(':');
    store::push_json_string(line, value);
}

/// Splits `\x1e<id>\x1e<rest>` into `(Some(id), rest)`; untagged lines give `(None, line)`.
pub fn split_tag(line: &str) -> (Option<&str>, &str) {
    if let Some(tagged) = line.strip_prefix(TAG) {
        if let Some(end) = tagged.find(TAG) {
            return (Some(&tagged[..end]), &tagged[end + TAG.len_utf8()..]);
        }
    }
    (None, line)
}

/// Checks that `text` is exactly one JSON object (without building it).
pub fn check_json_object(text: &str) -> Result<(), String> {
    struct ObjectOnly;
    impl<'de> Deserialize<'de> for ObjectOnly {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ObjectOnly)
        }
    }
    impl<'de> Visitor<'de> for ObjectOnly {
        type Value = ObjectOnly;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(ObjectOnly)
        }
    }
    let _: ObjectOnly = serde_json::from_str(text).map_err(|e: serde_json::Error| {
        if e.is_data() {
            de::Error::custom(format!("the action did not return a JSON object ({e})"))
        } else {
            e
        }
        .to_string()
    })?;
    Ok(())
}

/// The error message of an init answer `{"error": ...}`, or `None` for `{"ok":true}`.
pub fn init_answer_error(answer: &str) -> Option<String> {
    match serde_json::from_str::<Value>(answer) {
        Ok(Value::Object(map)) if map.get("ok") == Some(&Value::Bool(true)) => None,
        Ok(Value::Object(map)) => Some(match map.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => format!("unexpected init answer: {answer}"),
        }),
        _ => Some(format!("unexpected init answer: {answer}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::driver::ActionLimits;
    use std::collections::BTreeMap;

    fn run_request(params: &str) -> RunRequest {
        RunRequest {
            params: params.to_string(),
            activation_id: "a1".into(),
            transaction_id: "t1".into(),
            namespace: "guest".into(),
            action_name: "/guest/hello".into(),
            action_version: "0.0.1".into(),
            deadline_ms: 1234,
            api_key: Some("k".into()),
            extra: BTreeMap::from([("extra_key".to_string(), "x".to_string())]),
            http: None,
        }
    }

    #[test]
    fn run_line_embeds_params_and_openwhisk_fields() {
        let line = run_line(&run_request(r#"{"name":"Ada"}"#)).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["value"]["name"], "Ada");
        assert_eq!(v["activation_id"], "a1");
        assert_eq!(v["transaction_id"], "t1");
        assert_eq!(v["namespace"], "guest");
        assert_eq!(v["action_name"], "/guest/hello");
        assert_eq!(v["action_version"], "0.0.1");
        assert_eq!(v["deadline"], "1234");
        assert_eq!(v["api_key"], "k");
        assert_eq!(v["extra_key"], "x");
    }

    #[test]
    fn run_line_never_holds_a_line_break() {
        let line = run_line(&run_request("{\n  \"a\": \"x\\ny\"\n}")).unwrap();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["value"]["a"], "x\ny");
    }

    #[test]
    fn run_line_escapes_fields_and_extras_override_standard_ones() {
        let mut request = run_request("{}");
        request.action_name = "/guest/quo\"te\\back\nline\u{1}".into();
        request.extra = BTreeMap::from([
            ("namespace".to_string(), "overridden".to_string()),
            ("k\"ey".to_string(), "v".to_string()),
        ]);
        let line = run_line(&request).unwrap();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["action_name"], "/guest/quo\"te\\back\nline\u{1}");
        assert_eq!(v["k\"ey"], "v");
        // serde_json, like the launchers' parsers, keeps the last of a repeated key.
        assert_eq!(v["namespace"], "overridden");
        assert_eq!(v["value"], serde_json::json!({}));
    }

    #[test]
    fn run_line_rejects_invalid_params() {
        assert!(run_line(&run_request("{not json")).is_err());
    }

    #[test]
    fn init_line_carries_code_main_env_and_concurrency() {
        let request = InitRequest {
            name: "hello".into(),
            main: String::new(),
            code: "def main(a):\n  return a".into(),
            binary: false,
            env: BTreeMap::from([("A".to_string(), "1".to_string())]),
            limits: ActionLimits {
                concurrency: 4,
                ..ActionLimits::default()
            },
        };
        let line = init_line(&request);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["value"]["main"], "main");
        assert_eq!(v["value"]["code"], "def main(a):\n  return a");
        assert_eq!(v["value"]["env"]["A"], "1");
        assert_eq!(v["value"]["concurrency"], 4);
        assert_eq!(v["value"]["binary"], false);
    }

    #[test]
    fn tags_split_off_the_activation_id() {
        assert_eq!(split_tag("\u{1e}abc\u{1e}hello"), (Some("abc"), "hello"));
        assert_eq!(split_tag("hello"), (None, "hello"));
        assert_eq!(
            split_tag("\u{1e}unterminated"),
            (None, "\u{1e}unterminated")
        );
    }

    #[test]
    fn answer_frames_name_their_request_and_leave_out_stray_text() {
        assert_eq!(
            answer_frame("\u{1e}abc\u{1e}{\"a\":1}"),
            AnswerFrame {
                key: Some("abc"),
                text: "{\"a\":1}",
                stray: ""
            }
        );
        assert_eq!(
            answer_frame("garbage\u{1e}init\u{1e}{\"ok\":true}"),
            AnswerFrame {
                key: Some("init"),
                text: "{\"ok\":true}",
                stray: "garbage"
            }
        );
        // A line the action wrote itself, or a lone tag character: no frame.
        for line in ["{\"stale\":true}", "\u{1e}unterminated", ""] {
            assert_eq!(
                answer_frame(line),
                AnswerFrame {
                    key: None,
                    text: line,
                    stray: ""
                }
            );
        }
        // An empty key (a run line without an activation id) is still a frame.
        assert_eq!(answer_frame("\u{1e}\u{1e}{}").key, Some(""));
    }

    #[test]
    fn only_json_objects_are_results() {
        assert!(check_json_object(r#"{"a":[1,{"b":2}]}"#).is_ok());
        assert!(check_json_object("{}").is_ok());
        let err = check_json_object(r#""text""#).unwrap_err();
        assert!(err.contains("did not return a JSON object"), "{err}");
        assert!(check_json_object("[1]").is_err());
        assert!(check_json_object("null").is_err());
        assert!(check_json_object("{\"a\":").is_err());
        assert!(check_json_object("{} {}").is_err());
    }

    #[test]
    fn init_answers_are_read() {
        assert_eq!(init_answer_error(r#"{"ok":true}"#), None);
        assert_eq!(
            init_answer_error(r#"{"error":"SyntaxError: x"}"#),
            Some("SyntaxError: x".into())
        );
        assert!(init_answer_error("garbage").is_some());
    }
}
