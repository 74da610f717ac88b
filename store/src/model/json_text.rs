//! `JsonText`: arbitrary JSON (parameters, annotations, results) kept as its text.
//!
//! bincode 1.3 cannot encode `serde_json::Value` (it needs `deserialize_any`), so persisted documents
//! hold JSON as text and parse it at the edges. In human-readable formats (JSON export, HTTP bodies)
//! a `JsonText` serializes as the JSON value itself, not as a quoted string: its text, unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::fmt::Write as _;

/// A JSON document stored as its (compact) text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

impl JsonText {
    /// JSON `null`.
    pub fn null() -> Self {
        Self("null".to_owned())
    }

    /// An empty JSON object `{}`.
    pub fn empty_object() -> Self {
        Self("{}".to_owned())
    }

    /// An empty JSON array `[]`.
    pub fn empty_array() -> Self {
        Self("[]".to_owned())
    }

    /// Text its writer produced as compact JSON, kept as it is (checked in debug builds only).
    pub fn from_compact(text: String) -> Self {
        debug_assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(),
            "not JSON: {text}"
        );
        Self(text)
    }

    /// The compact text of `value`.
    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(value.to_string())
    }

    /// Checks that `text` is JSON and keeps it in compact form: the whitespace between tokens
    /// goes, everything else (key order included) stays as written. Cheaper than building the
    /// value: nothing is allocated but the kept text.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        if Self::has_surrogate_escape(text) {
            serde_json::from_str::<serde_json::Value>(text)?;
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(text)?;
        }
        Ok(Self(compact(text)))
    }

    /// Whether `text` may hold a `\uD800`-`\uDFFF` escape (a false positive only costs a slower
    /// check). serde_json pairs surrogate escapes only when it builds a string: skipping one, as
    /// `IgnoredAny` does, accepts a lone surrogate that building the value refuses. Text with one
    /// is checked by building its value, so that every reader agrees on what is JSON.
    pub fn has_surrogate_escape(text: &str) -> bool {
        text.as_bytes().windows(4).any(|w| {
            w[0] == b'\\'
                && w[1] == b'u'
                && matches!(w[2], b'd' | b'D')
                && matches!(w[3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
        })
    }

    /// The JSON text as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the text into a `serde_json::Value`.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

/// `text` (valid JSON) without the whitespace between its tokens.
fn compact(text: &str) -> String {
    let is_space = |b: u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    let mut kept = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut plain_from = 0;
    for (at, byte) in text.bytes().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if is_space(byte) {
            // Whitespace is ASCII, so `at` is a character boundary.
            kept.push_str(&text[plain_from..at]);
            plain_from = at + 1;
        }
    }
    kept.push_str(&text[plain_from..]);
    kept
}

impl Default for JsonText {
    fn default() -> Self {
        Self::null()
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> Self {
        Self::from_value(&value)
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonText({})", self.0)
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends `value` as a JSON string: quotes, backslashes and control characters escaped, the
/// same text as `serde_json` writes, without its formatter (records and run lines are written
/// this way once per activation).
pub fn push_json_string(text: &mut String, value: &str) {
    text.reserve(value.len() + 2);
    text.push('"');
    if needs_escape(value.as_bytes()) {
        push_escaped(text, value);
    } else {
        text.push_str(value);
    }
    text.push('"');
}

/// Whether any byte needs an escape. Looks at every byte without stopping early, which the
/// compiler turns into wide compares: most strings here (ids, names, versions) need none.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &byte| {
        found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

fn push_escaped(text: &mut String, value: &str) {
    let mut plain_from = 0;
    for (at, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `at` is a character boundary.
        text.push_str(&value[plain_from..at]);
        if escape.is_empty() {
            let _ = write!(text, "\\u{byte:04x}");
        } else {
            text.push_str(escape);
        }
        plain_from = at + 1;
    }
    text.push_str(&value[plain_from..]);
}

impl Serialize for JsonText {
    /// In JSON the text is written as it is (through `RawValue`, which checks it again), so a
    /// document keeps its key order everywhere it is shown: an activation's result reads the same
    /// in `GET /activations/{id}` as in `?result=true`. `serde_json::to_value` builds the value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serde_json::value::RawValue::from_string(self.0.clone())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer)
        } else {
            serializer.serialize_str(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let value = serde_json::Value::deserialize(deserializer)?;
            Ok(Self::from_value(&value))
        } else {
            Ok(Self(String::deserialize(deserializer)?))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bincode_keeps_the_text_and_json_shows_the_value() {
        let text = JsonText::parse(r#"{ "a": [1, 2] }"#).unwrap();
        assert_eq!(text.as_str(), r#"{"a":[1,2]}"#);
        let bytes = bincode::serialize(&text).unwrap();
        let back: JsonText = bincode::deserialize(&bytes).unwrap();
        assert_eq!(back, text);
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(json, r#"{"a":[1,2]}"#);
        let from_json: JsonText = serde_json::from_str(&json).unwrap();
        assert_eq!(from_json, text);
    }

    #[test]
    fn parse_drops_the_space_between_tokens_and_keeps_the_rest() {
        let text =
            JsonText::parse(" {\n\t\"z\" : \"a b\\\" \\\\ c\",\r\n \"a\": [ 1 , 2.5e3, null ] } ")
                .unwrap();
        assert_eq!(text.as_str(), r#"{"z":"a b\" \\ c","a":[1,2.5e3,null]}"#);
        assert_eq!(
            text.to_value().unwrap(),
            serde_json::json!({"z": "a b\" \\ c", "a": [1, 2500.0, null]})
        );
    }

    #[test]
    fn parse_refuses_a_lone_surrogate_as_building_the_value_does() {
        for lone in [
            r#"{"a":"\ud800"}"#,
            r#"{"a":"x\uDC00"}"#,
            r#"["\ud800\u0041"]"#,
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(lone).is_err(),
                "{lone}"
            );
            assert!(JsonText::parse(lone).is_err(), "{lone}");
        }
        let pair = JsonText::parse(r#"{ "a": "\ud83d\ude00" }"#).unwrap();
        assert_eq!(pair.as_str(), r#"{"a":"\ud83d\ude00"}"#);
        assert_eq!(pair.to_value().unwrap()["a"], "😀");
        assert!(!JsonText::has_surrogate_escape(
            r#"{"a":"\u00e9 \u0041 d800"}"#
        ));
        assert!(JsonText::has_surrogate_escape(r#"\uDfff"#));
    }

    #[test]
    fn json_shows_the_text_with_its_key_order_inside_any_document() {
        #[derive(Serialize)]
        struct Record {
            result: JsonText,
            status: &'static str,
        }
        let record = Record {
            result: JsonText::parse(r#"{"z": 1, "a": {"y": [2], "b": "\u00e9"}}"#).unwrap(),
            status: "success",
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"result":{"z":1,"a":{"y":[2],"b":"\u00e9"}},"status":"success"}"#
        );
        // Pretty printing keeps the text as it is; building a value sorts the keys as before.
        assert!(serde_json::to_string_pretty(&record)
            .unwrap()
            .contains(r#""result": {"z":1,"a":{"y":[2],"b":"\u00e9"}}"#));
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(value["result"]["a"]["b"], "é");
        assert_eq!(
            value["result"].to_string(),
            r#"{"a":{"b":"é","y":[2]},"z":1}"#
        );
    }

    #[test]
    fn push_json_string_writes_what_serde_json_writes() {
        for value in [
            "",
            "plain",
            "quote \" and backslash \\",
            "line\nfeed\rreturn\ttab",
            "\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "é 😀 \u{2028}",
            "/guest/pkg/action",
        ] {
            let mut written = String::from("x");
            push_json_string(&mut written, value);
            assert_eq!(
                written,
                format!("x{}", serde_json::to_string(value).unwrap()),
                "{value:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_text_that_is_not_json() {
        assert!(JsonText::parse("{nope").is_err());
    }
}
