//! `AnnotationList`: an activation record's annotations, OpenWhisk's `[{"key":..,"value":..}]`
//! array, written straight as compact JSON text. Building them as `serde_json::Value`s and
//! serializing those was about a fifth of the actor thread's instructions per warm invocation.

use crate::core::action::ActionLimits;
use crate::core::lifecycle::AnnotationValue;
use std::fmt::Write;
use store::{push_json_string, JsonText};

/// The annotations of one record, written as they are pushed.
pub(crate) struct AnnotationList {
    text: String,
}

impl AnnotationList {
    pub fn new() -> Self {
        let mut text = String::with_capacity(320);
        text.push('[');
        AnnotationList { text }
    }

    /// Appends `{"key":<key>,"value":<value>}`.
    pub fn push(&mut self, key: &str, value: AnnotationValue<'_>) {
        self.open(key);
        match value {
            AnnotationValue::Text(text) => push_json_string(&mut self.text, text),
            AnnotationValue::Number(number) => {
                let _ = write!(self.text, "{number}");
            }
            AnnotationValue::Flag(flag) => self.text.push_str(if flag { "true" } else { "false" }),
            AnnotationValue::Limits(limits) => push_limits(&mut self.text, limits),
        }
        self.text.push('}');
    }

    /// Appends `{"key":<key>,"value":<value>}` for a value that is JSON already.
    pub fn push_json(&mut self, key: &str, value: &serde_json::Value) {
        self.open(key);
        let _ = write!(self.text, "{value}");
        self.text.push('}');
    }

    fn open(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str("{\"key\":");
        push_json_string(&mut self.text, key);
        self.text.push_str(",\"value\":");
    }

    pub fn finish(mut self) -> JsonText {
        self.text.push(']');
        JsonText::from_compact(self.text)
    }
}

/// `{"concurrency":1,"logs":10,"memory":256,"timeout":60000}`: the `limits` annotation as
/// OpenWhisk renders it.
fn push_limits(text: &mut String, limits: &ActionLimits) {
    let _ = write!(
        text,
        "{{\"concurrency\":{},\"logs\":{},\"memory\":{},\"timeout\":{}}}",
        limits.concurrency, limits.logs_mb, limits.memory_mb, limits.timeout_ms
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn written(pairs: &[(&str, AnnotationValue<'_>)]) -> String {
        let mut list = AnnotationList::new();
        for (key, value) in pairs {
            list.push(key, *value);
        }
        list.finish().as_str().to_owned()
    }

    /// The same value built with serde_json: the reference the written text must equal.
    fn as_value(value: AnnotationValue<'_>) -> serde_json::Value {
        match value {
            AnnotationValue::Text(text) => serde_json::Value::from(text),
            AnnotationValue::Number(number) => serde_json::Value::from(number),
            AnnotationValue::Flag(flag) => serde_json::Value::from(flag),
            AnnotationValue::Limits(limits) => serde_json::json!({
                "concurrency": limits.concurrency,
                "logs": limits.logs_mb,
                "memory": limits.memory_mb,
                "timeout": limits.timeout_ms,
            }),
        }
    }

    /// What serde_json writes for the same pairs built as values: the text the list replaces.
    fn through_values(pairs: &[(&str, AnnotationValue<'_>)]) -> String {
        let values: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": as_value(*value) }))
            .collect();
        serde_json::Value::Array(values).to_string()
    }

    #[test]
    fn limits_are_written_as_openwhisk_renders_them() {
        let limits = ActionLimits::default();
        assert_eq!(
            written(&[("limits", AnnotationValue::Limits(&limits))]),
            r#"[{"key":"limits","value":{"concurrency":1,"logs":10,"memory":256,"timeout":60000}}]"#
        );
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let limits = ActionLimits::default();
        let pairs = [
            ("limits", AnnotationValue::Limits(&limits)),
            ("path", AnnotationValue::Text("guest/hello")),
            ("kind", AnnotationValue::Text("python:3")),
            ("timeout", AnnotationValue::Flag(false)),
            ("initTime", AnnotationValue::Number(12)),
            ("waitTime", AnnotationValue::Number(u64::MAX)),
        ];
        assert_eq!(written(&pairs), through_values(&pairs));
    }

    #[test]
    fn escapes_strings_like_serde_json() {
        let nasty =
            "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} unit \u{1f} é 😀 \u{7f}";
        let pairs = [("we\"ird", AnnotationValue::Text(nasty))];
        assert_eq!(written(&pairs), through_values(&pairs));
        let parsed: serde_json::Value = serde_json::from_str(&written(&pairs)).unwrap();
        assert_eq!(parsed[0]["value"], nasty);
    }

    #[test]
    fn an_empty_list_is_an_empty_array() {
        assert_eq!(written(&[]), "[]");
    }

    #[test]
    fn json_values_are_written_compact() {
        let mut list = AnnotationList::new();
        list.push("timeout", AnnotationValue::Flag(true));
        list.push_json("openfaas.callId", &serde_json::json!({"a": [1, "b"]}));
        assert_eq!(
            list.finish().as_str(),
            r#"[{"key":"timeout","value":true},{"key":"openfaas.callId","value":{"a":[1,"b"]}}]"#
        );
    }
}
