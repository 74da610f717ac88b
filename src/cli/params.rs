//! Parameters and annotations from the command line: `-p KEY VALUE` (VALUE is JSON when it parses
//! as JSON, else a string, as in wsk), `-P FILE` (a JSON object), and the same for annotations
//! with `-a`/`-A`. `-p` pairs override keys read from the file.

use super::client_error::ClientError;
use api::wire::KeyValue;
use clap::ArgAction;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// `-p KEY VALUE` and `-P FILE`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ParamArgs {
    /// A parameter, KEY VALUE (VALUE is read as JSON when it is JSON, else as a string); repeatable.
    #[arg(
        short = 'p',
        long = "param",
        num_args = 2,
        value_names = ["KEY", "VALUE"],
        allow_hyphen_values = true,
        action = ArgAction::Append
    )]
    pub param: Vec<String>,
    /// A file holding a JSON object of parameters.
    #[arg(short = 'P', long = "param-file", value_name = "FILE")]
    pub param_file: Option<PathBuf>,
}

/// `-a KEY VALUE` and `-A FILE`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AnnotationArgs {
    /// An annotation, KEY VALUE (VALUE is read as JSON when it is JSON, else as a string); repeatable.
    #[arg(
        short = 'a',
        long = "annotation",
        num_args = 2,
        value_names = ["KEY", "VALUE"],
        allow_hyphen_values = true,
        action = ArgAction::Append
    )]
    pub annotation: Vec<String>,
    /// A file holding a JSON object of annotations.
    #[arg(short = 'A', long = "annotation-file", value_name = "FILE")]
    pub annotation_file: Option<PathBuf>,
}

/// Ordered key/value pairs (the order users gave them in; a later key replaces an earlier one in place).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyValues(Vec<(String, Value)>);

impl KeyValues {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `key`, replacing it where it already is.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    /// OpenWhisk's `[{"key": ..., "value": ...}]`.
    pub fn to_wire(&self) -> Vec<KeyValue> {
        self.0
            .iter()
            .map(|(key, value)| KeyValue::new(key.clone(), value.clone()))
            .collect()
    }

    /// A JSON object (an invocation's or a fire's payload).
    pub fn to_object(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect::<Map<String, Value>>())
    }
}

impl ParamArgs {
    /// The parameters: the file's, then `-p` pairs over them.
    pub fn read(&self) -> Result<KeyValues, ClientError> {
        read_pairs(&self.param, self.param_file.as_deref(), "parameter")
    }
}

impl AnnotationArgs {
    /// The annotations: the file's, then `-a` pairs over them.
    pub fn read(&self) -> Result<KeyValues, ClientError> {
        read_pairs(
            &self.annotation,
            self.annotation_file.as_deref(),
            "annotation",
        )
    }
}

fn read_pairs(flat: &[String], file: Option<&Path>, what: &str) -> Result<KeyValues, ClientError> {
    let mut pairs = KeyValues::default();
    if let Some(path) = file {
        for (key, value) in read_object_file(path, what)? {
            pairs.set(&key, value);
        }
    }
    for chunk in flat.chunks(2) {
        match chunk {
            [key, value] => pairs.set(key, parse_value(value)),
            _ => {
                return Err(ClientError::input(
                    format!("a {what} needs a KEY and a VALUE"),
                    "write it as `KEY VALUE`, e.g. -p name World",
                ))
            }
        }
    }
    Ok(pairs)
}

/// A value as wsk reads it: JSON when it parses, otherwise the text itself.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn read_object_file(path: &Path, what: &str) -> Result<Map<String, Value>, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::File {
        doing: "read the file",
        path: path.display().to_string(),
        source,
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ClientError::input(
            format!("{} does not hold a JSON object", path.display()),
            format!("a {what} file holds one JSON object, e.g. {{\"name\": \"World\"}}"),
        )),
        Err(e) => Err(ClientError::input(
            format!("{} is not valid JSON: {e}", path.display()),
            format!("a {what} file holds one JSON object, e.g. {{\"name\": \"World\"}}"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    fn array(pairs: &KeyValues) -> Value {
        serde_json::to_value(pairs.to_wire()).unwrap()
    }

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        annotations: AnnotationArgs,
    }

    #[test]
    fn pairs_parse_negative_numbers_json_and_strings() {
        let probe = Probe::try_parse_from([
            "probe",
            "-p",
            "stock_change",
            "-1",
            "--param",
            "name",
            "World",
            "-p",
            "obj",
            "{\"a\":[1]}",
            "-a",
            "web-export",
            "true",
        ])
        .unwrap();
        let params = probe.params.read().unwrap();
        assert_eq!(
            params.to_object(),
            json!({"stock_change": -1, "name": "World", "obj": {"a": [1]}})
        );
        assert_eq!(
            array(&probe.annotations.read().unwrap()),
            json!([{"key": "web-export", "value": true}])
        );
    }

    #[test]
    fn command_line_pairs_override_the_file_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, r#"{"a": 1, "b": "x"}"#).unwrap();
        let args = ParamArgs {
            param: vec!["a".into(), "2".into(), "c".into(), "three".into()],
            param_file: Some(file),
        };
        assert_eq!(
            array(&args.read().unwrap()),
            json!([{"key":"a","value":2},{"key":"b","value":"x"},{"key":"c","value":"three"}])
        );
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, "[1]").unwrap();
        let args = ParamArgs {
            param: vec![],
            param_file: Some(file.clone()),
        };
        let err = args.read().unwrap_err();
        assert!(err.to_string().contains("p.json"), "{err}");
        assert!(err.hint().unwrap().contains("JSON object"));
        std::fs::write(&file, "{nope").unwrap();
        assert!(args
            .read()
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
        let missing = ParamArgs {
            param: vec![],
            param_file: Some(dir.path().join("missing.json")),
        };
        assert!(missing
            .read()
            .unwrap_err()
            .to_string()
            .contains("missing.json"));
    }
}
