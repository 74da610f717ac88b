//! `[{key, value}]`: how OpenWhisk writes annotations and parameters, and the operations on them
//! (lookup, merge with override, conversion to a JSON object and to the stored `JsonText`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::JsonText;

/// One annotation or parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyValue {
    #[schemars(length(min = 1))]
    pub key: String,
    pub value: Value,
    /// OpenWhisk's init-time parameter flag (kept when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
}

impl KeyValue {
    /// `{key, value}`.
    pub fn new(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            init: None,
        }
    }
}

/// Reads a stored `[{key, value}]` array; anything else (or an entry without a string `key`)
/// is skipped, so a damaged row never makes a read fail.
pub fn from_json_text(text: &JsonText) -> Vec<KeyValue> {
    match text.to_value() {
        Ok(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// The stored form of `[{key, value}]`.
pub fn to_json_text(items: &[KeyValue]) -> JsonText {
    match serde_json::to_value(items) {
        Ok(value) => JsonText::from_value(&value),
        Err(_) => JsonText::empty_array(),
    }
}

/// `base` with every key of `over` replaced or appended (later wins), in first-seen order.
pub fn merged(base: &[KeyValue], over: &[KeyValue]) -> Vec<KeyValue> {
    let mut out: Vec<KeyValue> = Vec::with_capacity(base.len() + over.len());
    for item in base.iter().chain(over) {
        match out.iter_mut().find(|existing| existing.key == item.key) {
            Some(existing) => *existing = item.clone(),
            None => out.push(item.clone()),
        }
    }
    out
}

/// The items as a JSON object (later keys win).
pub fn to_object(items: &[KeyValue]) -> Map<String, Value> {
    items
        .iter()
        .map(|item| (item.key.clone(), item.value.clone()))
        .collect()
}

/// The value of annotation `key`, if present.
pub fn annotation<'a>(items: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    items
        .iter()
        .rev()
        .find(|item| item.key == key)
        .map(|item| &item.value)
}

/// Whether annotation `key` is `true` (or the string `"true"`, as some clients write it).
pub fn annotation_is_true(items: &[KeyValue], key: &str) -> bool {
    matches!(annotation(items, key), Some(Value::Bool(true)))
        || matches!(annotation(items, key), Some(Value::String(text)) if text == "true")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_overrides_by_key_and_keeps_order() {
        let base = vec![KeyValue::new("a", 1), KeyValue::new("b", 2)];
        let over = vec![KeyValue::new("b", 3), KeyValue::new("c", 4)];
        let merged = merged(&base, &over);
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            json!([{"key":"a","value":1},{"key":"b","value":3},{"key":"c","value":4}])
        );
        assert_eq!(
            Value::Object(to_object(&merged)),
            json!({"a":1,"b":3,"c":4})
        );
    }

    #[test]
    fn stored_text_round_trips_and_damage_reads_as_empty() {
        let items = vec![KeyValue::new("web-export", true)];
        let text = to_json_text(&items);
        assert_eq!(text.as_str(), r#"[{"key":"web-export","value":true}]"#);
        assert_eq!(from_json_text(&text), items);
        assert!(annotation_is_true(&items, "web-export"));
        assert!(!annotation_is_true(&items, "raw-http"));
        assert!(from_json_text(&JsonText::parse(r#"{"a":1}"#).unwrap()).is_empty());
    }
}
