//! The baseline of warm invocations: a direct ActionLoop round trip to a warm Python
//! launcher (one line written on its stdin, one line read back from its fd 3, the same pipes the
//! process driver uses), with none of the driver's
//! bookkeeping. Benchmarks compare the platform's warm invoke against it.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::Child;

use crate::actionloop::init_answer_error;
use crate::driver::{ActionLimits, ContainerId, InitRequest};
use crate::error::{DriverError, Result};
use crate::process::{spawn_python_for_baseline, BaselineIo};

/// A warm Python launcher driven directly over ActionLoop.
pub struct WarmPythonProcess {
    writer: Box<dyn AsyncWrite + Send + Unpin>,
    answers: BufReader<Box<dyn AsyncRead + Send + Unpin>>,
    child: Child,
    line: String,
}

impl WarmPythonProcess {
    /// Starts `python` on the launcher (written under `runtime_dir`) and initializes it with
    /// `code` (entry point `main`).
    pub async fn start(python: &Path, runtime_dir: &Path, code: &str) -> Result<Self> {
        let BaselineIo {
            requests,
            answers,
            stdout,
            stderr,
            child,
        } = spawn_python_for_baseline(python, runtime_dir).await?;
        tokio::spawn(drain(stdout));
        tokio::spawn(drain(stderr));
        let mut process = WarmPythonProcess {
            writer: requests,
            answers: BufReader::new(answers),
            child,
            line: String::new(),
        };
        let init = crate::actionloop::init_line(&InitRequest {
            name: "baseline".into(),
            main: "main".into(),
            code: code.into(),
            binary: false,
            env: Default::default(),
            limits: ActionLimits::default(),
        });
        let answer = process.exchange(&init).await?;
        if let Some(message) = init_answer_error(&answer) {
            return Err(DriverError::InitFailed {
                id: ContainerId("baseline".into()),
                message,
                logs: Vec::new(),
            });
        }
        Ok(process)
    }

    /// One round trip: `{"value":<params>}` out, the result line back.
    pub async fn invoke(&mut self, params: &str) -> Result<String> {
        let line = format!("{{\"value\":{params}}}");
        self.exchange(&line).await
    }

    async fn exchange(&mut self, line: &str) -> Result<String> {
        let io = |e| DriverError::io("in a baseline round trip", e);
        self.writer.write_all(line.as_bytes()).await.map_err(io)?;
        self.writer.write_all(b"\n").await.map_err(io)?;
        self.line.clear();
        let n = self.answers.read_line(&mut self.line).await.map_err(io)?;
        if n == 0 {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the launcher exited",
            )));
        }
        // The launcher frames its answer with the request's key; the baseline sends one request
        // at a time and takes the answer as it comes.
        Ok(crate::actionloop::answer_frame(self.line.trim_end())
            .text
            .to_string())
    }

    /// Stops the launcher.
    pub async fn stop(mut self) {
        let _ = self.writer.shutdown().await;
        let _ = self.child.kill().await;
    }
}

async fn drain(mut stream: Box<dyn AsyncRead + Send + Unpin>) {
    let _ = tokio::io::copy(&mut stream, &mut tokio::io::sink()).await;
}

/// Where the baseline keeps its launcher copy by default.
pub fn default_runtime_dir() -> PathBuf {
    std::env::temp_dir().join(format!("whirl-baseline-{}", std::process::id()))
}
