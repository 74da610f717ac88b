//! The `exec` kind with OpenFaaS classic-watchdog semantics: each run forks the command
//! (split on whitespace, no shell, like `fprocess`), writes the body on stdin and answers with
//! stdout; `Http_*` variables describe the request; a non-zero exit is an error carrying the
//! output; the timeout kills the process group; the output is read with a bound.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use rustix::process::{kill_process_group, Pid, Signal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::driver::{ActionLimits, HttpRequestMeta, InitRequest, RunFailure, RunRequest};
use crate::error::{DriverError, Result};
use crate::http_answer::{answer_content_type, HttpAnswer};
use crate::launcher::lines::BoundedLines;
use crate::logs::{ActivationLogs, LogLine, LogStream};
use crate::process::spawn::cloexec_pipe;

/// What the watchdog answers when it killed a command at its timeout.
pub const KILLED_PROCESS: &str = "Killed process.";

/// How long stderr may stay open after the command's stdout closed and it exited.
const STDERR_GRACE: Duration = Duration::from_millis(200);

/// An initialized `exec` container: the command and its options.
#[derive(Debug, Clone)]
pub(crate) struct ExecCommand {
    pub program: String,
    pub args: Vec<String>,
    /// Classic watchdog's `combine_output` (default true): stderr goes into the response
    /// instead of the logs.
    pub combine_output: bool,
    pub env: BTreeMap<String, String>,
    pub limits: ActionLimits,
}

/// What one run of the command produced.
pub(crate) struct ExecRun {
    pub result: std::result::Result<String, RunFailure>,
    pub logs: ActivationLogs,
}

impl ExecCommand {
    /// The command is the `fprocess` env entry if set, else the init's `code`.
    pub fn from_init(request: &InitRequest) -> std::result::Result<Self, String> {
        let line = request
            .env
            .get("fprocess")
            .filter(|line| !line.trim().is_empty())
            .unwrap_or(&request.code);
        let mut words = line.split_whitespace().map(str::to_string);
        let program = words
            .next()
            .ok_or_else(|| "the exec command is empty".to_string())?;
        let combine_output = request
            .env
            .get("combine_output")
            .map(|v| !matches!(v.trim(), "false" | "0" | "no"))
            .unwrap_or(true);
        Ok(ExecCommand {
            program,
            args: words.collect(),
            combine_output,
            env: request.env.clone(),
            limits: request.limits,
        })
    }

    /// Forks the command for one request; the container's `base_env` comes first.
    pub async fn run(
        &self,
        base_env: &BTreeMap<String, String>,
        request: &RunRequest,
        timeout: Duration,
    ) -> Result<ExecRun> {
        let body = request
            .http
            .as_ref()
            .and_then(|http| http.body.clone())
            .unwrap_or_else(|| request.params.clone().into_bytes());
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(base_env)
            .envs(&self.env)
            .envs(openwhisk_env(request))
            .stdin(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(http) = &request.http {
            command.envs(http_env(http, body.len()));
        }
        let combined = if self.combine_output {
            let (reader, writer) =
                cloexec_pipe().map_err(|e| DriverError::io("creating the exec output pipe", e))?;
            let writer_too = writer
                .try_clone()
                .map_err(|e| DriverError::io("duplicating the exec output pipe", e))?;
            command
                .stdout(Stdio::from(writer))
                .stderr(Stdio::from(writer_too));
            Some(reader)
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            None
        };
        let mut child = command.spawn().map_err(|source| DriverError::Spawn {
            what: format!("exec command {}", self.program),
            source,
        })?;
        // The command's own copies of the pipe's write ends are closed with `command`.
        drop(command);
        let pgid = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(Pid::from_raw);
        let output: Box<dyn AsyncRead + Send + Unpin> = match (combined, child.stdout.take()) {
            (Some(reader), _) => Box::new(
                tokio::net::unix::pipe::Receiver::from_owned_fd(reader)
                    .map_err(|e| DriverError::io("registering the exec output pipe", e))?,
            ),
            (None, Some(stdout)) => Box::new(stdout),
            (None, None) => {
                return Err(DriverError::io(
                    "exec stdout",
                    std::io::Error::other("stdout not captured"),
                ))
            }
        };
        let log_limit = self.limits.log_bytes;
        let stderr_task = child
            .stderr
            .take()
            .map(|stderr| tokio::spawn(collect_stderr(stderr, log_limit)));
        if let Some(mut stdin) = child.stdin.take() {
            tokio::spawn(async move {
                // A command that does not read its input is not an error.
                let _ = stdin.write_all(&body).await;
                let _ = stdin.shutdown().await;
            });
        }
        let limit = self.limits.result_bytes;
        let work = async {
            let (bytes, too_large) = read_bounded(output, limit).await;
            if too_large {
                return Err(RunFailure::ResultTooLarge {
                    size: bytes.len(),
                    limit,
                });
            }
            let status = child.wait().await;
            match status {
                Ok(status) if status.success() => Ok(self.answer(request, &bytes)),
                Ok(status) => Err(RunFailure::ExitStatus {
                    code: status.code(),
                    output: String::from_utf8_lossy(&bytes).into_owned(),
                }),
                Err(err) => Err(RunFailure::Crashed {
                    detail: format!("waiting for the command: {err}"),
                }),
            }
        };
        let result = match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(RunFailure::Timeout { after: timeout }),
        };
        if result.is_err() {
            if let Some(pgid) = pgid {
                // The group may already be gone; nothing else to do then.
                let _ = kill_process_group(pgid, Signal::KILL);
            }
            let _ = child.wait().await;
        }
        let logs = match stderr_task {
            Some(task) => match tokio::time::timeout(STDERR_GRACE, task).await {
                Ok(Ok(logs)) => logs,
                _ => ActivationLogs::new(log_limit),
            },
            None => ActivationLogs::new(log_limit),
        };
        Ok(ExecRun { result, logs })
    }
}

impl ExecCommand {
    /// The result text of a successful run: stdout as text, or for an HTTP request an
    /// [`HttpAnswer`] (200, the watchdog's `Content-Type`, stdout as the body, binary safe).
    pub fn answer(&self, request: &RunRequest, stdout: &[u8]) -> String {
        match &request.http {
            Some(http) => {
                HttpAnswer::new(200, answer_content_type(&self.env, &http.headers), stdout)
                    .to_json()
            }
            None => String::from_utf8_lossy(stdout).into_owned(),
        }
    }
}

/// Reads at most `limit` bytes; the flag says the output went past it.
async fn read_bounded(
    mut output: Box<dyn AsyncRead + Send + Unpin>,
    limit: usize,
) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match output.read(&mut chunk).await {
            Ok(0) | Err(_) => return (bytes, false),
            Ok(n) => {
                if bytes.len() + n > limit {
                    let room = limit - bytes.len();
                    bytes.extend_from_slice(&chunk[..room]);
                    return (bytes, true);
                }
                bytes.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

async fn collect_stderr(stderr: tokio::process::ChildStderr, log_limit: usize) -> ActivationLogs {
    let max = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(
        log_limit.saturating_add(1),
    ));
    let mut lines = BoundedLines::new(stderr, max);
    let mut logs = ActivationLogs::new(log_limit);
    while let Ok(Some(line)) = lines.next_line().await {
        logs.push(LogLine::new(
            SystemTime::now(),
            LogStream::Stderr,
            line.text,
        ));
    }
    logs
}

/// `__OW_*` variables for an exec run, as the launchers set them.
pub(crate) fn openwhisk_env(request: &RunRequest) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "__OW_ACTIVATION_ID".to_string(),
            request.activation_id.clone(),
        ),
        (
            "__OW_TRANSACTION_ID".to_string(),
            request.transaction_id.clone(),
        ),
        ("__OW_NAMESPACE".to_string(), request.namespace.clone()),
        ("__OW_ACTION_NAME".to_string(), request.action_name.clone()),
        (
            "__OW_ACTION_VERSION".to_string(),
            request.action_version.clone(),
        ),
        ("__OW_DEADLINE".to_string(), request.deadline_ms.to_string()),
    ];
    if let Some(key) = &request.api_key {
        env.push(("__OW_API_KEY".to_string(), key.clone()));
    }
    for (key, value) in &request.extra {
        env.push((format!("__OW_{}", key.to_uppercase()), value.clone()));
    }
    env
}

/// The classic watchdog's `Http_*` variables.
pub(crate) fn http_env(http: &HttpRequestMeta, body_len: usize) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = http
        .headers
        .iter()
        .map(|(name, value)| {
            (
                format!("Http_{}", canonical_header(name).replace('-', "_")),
                value.clone(),
            )
        })
        .collect();
    env.push(("Http_Method".into(), http.method.clone()));
    env.push(("Http_ContentLength".into(), body_len.to_string()));
    env.push(("Http_Content_Length".into(), body_len.to_string()));
    if !http.query.is_empty() {
        env.push(("Http_Query".into(), http.query.clone()));
    }
    if !http.path.is_empty() {
        env.push(("Http_Path".into(), http.path.clone()));
    }
    if let Some(host) = http.host.as_ref().filter(|h| !h.is_empty()) {
        env.push(("Http_Host".into(), host.clone()));
    }
    env
}

/// `x-served-by` → `X-Served-By` (Go's canonical MIME header key).
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn init(code: &str, env: &[(&str, &str)]) -> InitRequest {
        InitRequest {
            name: "e".into(),
            main: String::new(),
            code: code.into(),
            binary: false,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            limits: ActionLimits::default(),
        }
    }

    #[test]
    fn command_splits_on_whitespace_and_fprocess_wins() {
        let cmd = ExecCommand::from_init(&init("cat  -n", &[])).unwrap();
        assert_eq!(cmd.program, "cat");
        assert_eq!(cmd.args, vec!["-n"]);
        assert!(cmd.combine_output);
        let cmd = ExecCommand::from_init(&init(
            "ignored",
            &[("fprocess", "wc -c"), ("combine_output", "false")],
        ))
        .unwrap();
        assert_eq!(cmd.program, "wc");
        assert!(!cmd.combine_output);
        assert!(ExecCommand::from_init(&init("   ", &[])).is_err());
    }

    #[test]
    fn http_variables_follow_the_classic_watchdog() {
        let http = HttpRequestMeta {
            method: "PUT".into(),
            path: "/function/echo".into(),
            query: "a=1".into(),
            host: Some("gw:8080".into()),
            headers: vec![
                ("x-served-by".into(), "me".into()),
                ("Content-Type".into(), "text/plain".into()),
            ],
            body: None,
        };
        let env: BTreeMap<String, String> = http_env(&http, 5).into_iter().collect();
        assert_eq!(env["Http_X_Served_By"], "me");
        assert_eq!(env["Http_Content_Type"], "text/plain");
        assert_eq!(env["Http_Method"], "PUT");
        assert_eq!(env["Http_Path"], "/function/echo");
        assert_eq!(env["Http_Query"], "a=1");
        assert_eq!(env["Http_Host"], "gw:8080");
        assert_eq!(env["Http_Content_Length"], "5");
    }

    #[test]
    fn empty_query_and_host_are_not_set() {
        let http = HttpRequestMeta {
            method: "GET".into(),
            ..HttpRequestMeta::default()
        };
        let env: BTreeMap<String, String> = http_env(&http, 0).into_iter().collect();
        assert!(!env.contains_key("Http_Query"));
        assert!(!env.contains_key("Http_Host"));
        assert!(!env.contains_key("Http_Path"));
    }
}
