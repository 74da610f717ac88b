//! Deserializers for the object-shaped fields of request bodies. serde's derived structs also
//! read a JSON array positionally (`"limits": [1000, 256]` would set the timeout and the memory,
//! `"parameters": [["k", 1]]` a key and a value); OpenWhisk refuses both, and so do these.
//!
//! Use with `#[serde(default, deserialize_with = "...")]`; an absent field or `null` reads as
//! `None`.

use serde::de::{DeserializeOwned, Error, Unexpected};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An object of `T`, or `None` for `null`.
pub fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => object_of(value).map(Some),
    }
}

/// An array of objects of `T` (`[{key, value}]`), or `None` for `null`.
pub fn optional_objects<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(object_of)
            .collect::<Result<Vec<T>, _>>()
            .map(Some),
        Some(other) => Err(Error::invalid_type(
            unexpected(&other),
            &"an array of JSON objects",
        )),
    }
}

/// An object of `T`; `null` reads as `T::default()`.
pub fn object_or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    optional_object(deserializer).map(Option::unwrap_or_default)
}

fn object_of<T: DeserializeOwned, E: Error>(value: Value) -> Result<T, E> {
    if !value.is_object() {
        return Err(E::invalid_type(unexpected(&value), &"a JSON object"));
    }
    serde_json::from_value(value).map_err(E::custom)
}

/// The value as serde's messages name it ("integer `5`", "sequence").
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (None, Some(i), _) => Unexpected::Signed(i),
            (None, None, Some(f)) => Unexpected::Float(f),
            (None, None, None) => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::wire::{ActionPut, NamespaceCreate, PackagePut, TriggerPut};

    #[test]
    fn arrays_where_objects_belong_are_refused() {
        for body in [
            r#"{"limits": [1000, 256]}"#,
            r#"{"exec": ["python:3", "def main(a): return a"]}"#,
            r#"{"parameters": [["k", 1]]}"#,
            r#"{"annotations": {"key": "k", "value": 1}}"#,
        ] {
            let error = serde_json::from_str::<ActionPut>(body).unwrap_err();
            assert!(error.to_string().contains("expected"), "{body}: {error}");
        }
        assert!(serde_json::from_str::<PackagePut>(r#"{"binding": [null, null]}"#).is_err());
        assert!(serde_json::from_str::<TriggerPut>(r#"{"parameters": [[]]}"#).is_err());
        assert!(
            serde_json::from_str::<NamespaceCreate>(r#"{"name": "n", "limits": [1]}"#).is_err()
        );
    }

    #[test]
    fn objects_absent_fields_and_nulls_still_read() {
        let put: ActionPut = serde_json::from_str(
            r#"{"exec": {"kind": "python:3", "code": "x"}, "limits": {"memory": 512}, "parameters": [{"key": "k", "value": 1}], "annotations": null}"#,
        )
        .unwrap();
        assert_eq!(put.limits.unwrap().memory, Some(512));
        assert_eq!(put.parameters.unwrap()[0].key, "k");
        assert!(put.annotations.is_none());
        let put: ActionPut = serde_json::from_str("{}").unwrap();
        assert_eq!(put, ActionPut::default());
        let put: PackagePut = serde_json::from_str(r#"{"binding": {}}"#).unwrap();
        assert!(put.binding.is_some());
        let create: NamespaceCreate =
            serde_json::from_str(r#"{"name": "n", "limits": null}"#).unwrap();
        assert_eq!(create.name, "n");
    }
}
