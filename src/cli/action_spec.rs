//! The flags of `whirl action create|update` and how they become an OpenWhisk `PUT` body
//! ([`api::wire::ActionPut`]): the artifact and `--kind` give `exec` (kind guessed from the
//! file's extension as wsk does), `--docker` a blackbox, `--sequence` a sequence; `--web`,
//! `--web-secure` and `-a` give annotations; `-t`/`-m`/`-l`/`-c` give limits.

use super::client_error::ClientError;
use super::names::QualifiedName;
use super::params::{AnnotationArgs, KeyValues, ParamArgs};
use api::wire::{ActionLimitsPut, ActionPut, ExecBody};
use base64::Engine as _;
use serde_json::Value;
use std::path::Path;

/// `--web`: whether the action is a web action, and a raw one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WebFlag {
    #[value(alias = "yes")]
    True,
    #[value(alias = "no")]
    False,
    Raw,
}

/// `--shared`: whether the action is public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shared {
    Yes,
    No,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ActionSpecArgs {
    /// Action name: NAME, PACKAGE/NAME, /NAMESPACE/NAME or /NAMESPACE/PACKAGE/NAME.
    pub name: String,
    /// The code: a .py or .js file, a .zip (with --kind), the command line for --kind exec, or
    /// with --sequence the comma-separated actions (e.g. a,pkg/b,/ns/c).
    pub artifact: Option<String>,
    /// Runtime: python:3, python:default, nodejs:20, nodejs:default, exec (default: from the
    /// artifact's extension).
    #[arg(long)]
    pub kind: Option<String>,
    /// The function the runtime calls (default `main`).
    #[arg(long)]
    pub main: Option<String>,
    /// Run the action in this Docker image (a blackbox action).
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["kind", "sequence"])]
    pub docker: Option<String>,
    /// Make the action a sequence of the actions listed in ARTIFACT.
    #[arg(long, conflicts_with_all = ["kind", "main"])]
    pub sequence: bool,
    /// Timeout in milliseconds after which the action is terminated.
    #[arg(short = 't', long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Memory limit in MB.
    #[arg(short = 'm', long, value_name = "MB")]
    pub memory: Option<u32>,
    /// Log size limit in MB.
    #[arg(short = 'l', long, value_name = "MB")]
    pub logsize: Option<u32>,
    /// How many activations one container may run at once.
    #[arg(short = 'c', long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Make it a web action (true|yes), a raw one (raw), or not (false|no).
    #[arg(long, value_enum, value_name = "true|false|raw")]
    pub web: Option<WebFlag>,
    /// Require the X-Require-Whisk-Auth header to equal SECRET on web calls ("false" removes it).
    #[arg(long, value_name = "SECRET")]
    pub web_secure: Option<String>,
    /// Share the action publicly (yes|no).
    #[arg(long, value_enum)]
    pub shared: Option<Shared>,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub annotations: AnnotationArgs,
}

impl ActionSpecArgs {
    /// The `PUT` body. On create `exec` is required; on update only what was given is sent.
    pub fn to_put(&self, creating: bool) -> Result<ActionPut, ClientError> {
        let exec = self.exec(creating)?;
        let params = self.params.read()?;
        let mut annotations = self.annotations.read()?;
        self.web_annotations(&mut annotations);
        let limits = ActionLimitsPut {
            timeout: self.timeout,
            memory: self.memory,
            logs: self.logsize,
            concurrency: self.concurrency,
        };
        let some_limit = limits != ActionLimitsPut::default();
        Ok(ActionPut {
            exec,
            parameters: (creating || !params.is_empty()).then(|| params.to_wire()),
            annotations: (creating || !annotations.is_empty()).then(|| annotations.to_wire()),
            limits: some_limit.then_some(limits),
            publish: self.shared.map(|shared| shared == Shared::Yes),
            version: None,
        })
    }

    fn exec(&self, creating: bool) -> Result<Option<ExecBody>, ClientError> {
        if self.sequence {
            let list = self.artifact.as_deref().ok_or_else(|| {
                ClientError::input(
                    "a sequence needs the actions it runs",
                    "list them after the name: `whirl action create seq --sequence a,b`",
                )
            })?;
            return sequence_exec(list).map(Some);
        }
        if let Some(image) = &self.docker {
            let mut exec = ExecBody::blackbox(image.clone());
            if let Some(artifact) = &self.artifact {
                let (code, binary) = read_code(Path::new(artifact))?;
                exec.code = Some(code);
                exec.binary = Some(binary);
            }
            exec.main = self.main.clone();
            return Ok(Some(exec));
        }
        let Some(artifact) = &self.artifact else {
            if creating {
                return Err(ClientError::input(
                    format!("action '{}' needs code", self.name),
                    "give a file (`whirl action create hello hello.py`), --docker IMAGE, or \
                     --sequence a,b",
                ));
            }
            if self.kind.is_some() || self.main.is_some() {
                return Err(ClientError::input(
                    "--kind and --main change the code, so the code must be given too",
                    format!("`whirl action update {} FILE --kind KIND`", self.name),
                ));
            }
            return Ok(None);
        };
        if self.kind.as_deref() == Some("exec") {
            let mut exec = ExecBody::code("exec", artifact.clone());
            exec.binary = Some(false);
            return Ok(Some(exec));
        }
        let path = Path::new(artifact);
        let kind = match &self.kind {
            Some(kind) => kind.clone(),
            None => kind_from_extension(path)?,
        };
        let (code, binary) = read_code(path)?;
        Ok(Some(ExecBody {
            kind,
            code: Some(code),
            main: self.main.clone(),
            binary: Some(binary),
            ..ExecBody::default()
        }))
    }

    fn web_annotations(&self, annotations: &mut KeyValues) {
        if let Some(web) = self.web {
            let (export, raw) = match web {
                WebFlag::True => (true, false),
                WebFlag::Raw => (true, true),
                WebFlag::False => (false, false),
            };
            annotations.set("web-export", Value::Bool(export));
            annotations.set("raw-http", Value::Bool(raw));
            annotations.set("final", Value::Bool(export));
        }
        if let Some(secret) = &self.web_secure {
            let value = match secret.as_str() {
                "false" => Value::Bool(false),
                other => Value::String(other.to_string()),
            };
            annotations.set("require-whisk-auth", value);
        }
    }
}

/// `a,pkg/b,/ns/c` → `{"kind":"sequence","components":["/_/a","/_/pkg/b","/ns/c"]}`.
pub fn sequence_exec(list: &str) -> Result<ExecBody, ClientError> {
    let components = list
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| QualifiedName::action(part).map(|name| name.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if components.is_empty() {
        return Err(ClientError::input(
            "a sequence needs at least one action",
            "`whirl action create seq --sequence a,b`",
        ));
    }
    Ok(ExecBody::sequence(components))
}

/// The kind wsk guesses from a file's extension (`:default` kinds; the server resolves them).
pub fn kind_from_extension(path: &Path) -> Result<String, ClientError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("py") => Ok("python:default".into()),
        Some("js") | Some("mjs") | Some("cjs") => Ok("nodejs:default".into()),
        Some("zip") => Err(ClientError::input(
            format!("cannot tell the kind of the zip file {}", path.display()),
            "name it: --kind python:3 or --kind nodejs:20",
        )),
        _ => Err(ClientError::input(
            format!(
                "cannot tell the kind of {} from its extension",
                path.display()
            ),
            "name it: --kind python:3, --kind nodejs:20, or --kind exec with a command line",
        )),
    }
}

/// A file's contents as `exec.code`: text as it is, a zip as base64 (`binary: true`).
pub fn read_code(path: &Path) -> Result<(String, bool), ClientError> {
    let bytes = std::fs::read(path).map_err(|source| ClientError::File {
        doing: "read the action's code from",
        path: path.display().to_string(),
        source,
    })?;
    let is_zip = path.extension().and_then(|e| e.to_str()) == Some("zip")
        || bytes.starts_with(b"PK\x03\x04");
    if is_zip {
        return Ok((
            base64::engine::general_purpose::STANDARD.encode(bytes),
            true,
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, false)),
        Err(_) => Err(ClientError::input(
            format!("{} is neither text nor a zip file", path.display()),
            "give source code (.py, .js) or a zip archive",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        spec: ActionSpecArgs,
    }

    fn spec(args: &[&str]) -> ActionSpecArgs {
        let mut all = vec!["probe"];
        all.extend_from_slice(args);
        Probe::try_parse_from(all).unwrap().spec
    }

    #[test]
    fn a_python_file_becomes_python_default_with_limits_and_web_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hello.py");
        std::fs::write(&file, "def main(a):\n    return a\n").unwrap();
        let put = spec(&[
            "hello",
            file.to_str().unwrap(),
            "-m",
            "128",
            "--timeout",
            "3000",
            "--web",
            "true",
            "-p",
            "name",
            "World",
        ])
        .to_put(true)
        .unwrap();
        assert_eq!(
            serde_json::to_value(&put).unwrap(),
            json!({
                "exec": {"kind": "python:default", "code": "def main(a):\n    return a\n", "binary": false},
                "parameters": [{"key": "name", "value": "World"}],
                "annotations": [
                    {"key": "web-export", "value": true},
                    {"key": "raw-http", "value": false},
                    {"key": "final", "value": true}
                ],
                "limits": {"timeout": 3000, "memory": 128}
            })
        );
    }

    #[test]
    fn zips_are_base64_and_need_a_kind() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("exec.zip");
        std::fs::write(&file, b"PK\x03\x04rest").unwrap();
        let err = spec(&["inv", file.to_str().unwrap()])
            .to_put(true)
            .unwrap_err();
        assert!(err.hint().unwrap().contains("--kind python:3"), "{err}");
        let put = spec(&["inv", file.to_str().unwrap(), "--kind", "python:3"])
            .to_put(true)
            .unwrap();
        let exec = put.exec.unwrap();
        assert_eq!(exec.binary, Some(true));
        assert_eq!(exec.code.as_deref(), Some("UEsDBHJlc3Q="));
    }

    #[test]
    fn sequences_docker_and_exec_commands() {
        let put = spec(&["seq", "--sequence", "a,pkg/b,/ns/c"])
            .to_put(true)
            .unwrap();
        assert_eq!(
            serde_json::to_value(put.exec.unwrap()).unwrap(),
            json!({"kind": "sequence", "components": ["/_/a", "/_/pkg/b", "/ns/c"]})
        );
        let put = spec(&["img", "--docker", "me/img:1"]).to_put(true).unwrap();
        assert_eq!(
            serde_json::to_value(put.exec.unwrap()).unwrap(),
            json!({"kind": "blackbox", "image": "me/img:1"})
        );
        let put = spec(&["count", "wc -c", "--kind", "exec"])
            .to_put(true)
            .unwrap();
        assert_eq!(
            serde_json::to_value(put.exec.unwrap()).unwrap(),
            json!({"kind": "exec", "code": "wc -c", "binary": false})
        );
        assert!(spec(&["seq", "--sequence"]).to_put(true).is_err());
        assert!(Probe::try_parse_from(["probe", "x", "--docker", "i", "--sequence"]).is_err());
    }

    #[test]
    fn an_update_sends_only_what_was_given() {
        let put = spec(&["hello", "-p", "a", "1"]).to_put(false).unwrap();
        assert_eq!(
            serde_json::to_value(&put).unwrap(),
            json!({"parameters": [{"key": "a", "value": 1}]})
        );
        assert!(spec(&["hello"]).to_put(true).is_err());
        assert!(spec(&["hello", "--kind", "python:3"])
            .to_put(false)
            .is_err());
        let put = spec(&["hello", "--web", "raw", "--shared", "yes"])
            .to_put(false)
            .unwrap();
        assert_eq!(put.publish, Some(true));
        assert_eq!(
            serde_json::to_value(put.annotations.unwrap()).unwrap()[1],
            json!({"key": "raw-http", "value": true})
        );
    }

    #[test]
    fn unknown_extensions_ask_for_a_kind() {
        let err = kind_from_extension(Path::new("run.sh")).unwrap_err();
        assert!(err.hint().unwrap().contains("--kind exec"));
        assert_eq!(
            kind_from_extension(Path::new("a.js")).unwrap(),
            "nodejs:default"
        );
    }
}
