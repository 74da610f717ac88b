//! The client of the Python fork server (`deploy/runtimes/python/zygote.py`): starts it with
//! a Unix socket as its stdin, hands it a new container's four pipes with SCM_RIGHTS,
//! reads back the child's pid, and restarts the zygote when it has died.

use std::collections::BTreeMap;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::error::{DriverError, Result};
use crate::process::spawn::ChildEnds;

/// How the zygote is started.
#[derive(Debug, Clone)]
pub(crate) struct ZygoteCommand {
    pub python: PathBuf,
    pub script: PathBuf,
    pub env: BTreeMap<String, String>,
    /// Longest wait for one answer (covers the zygote's own start).
    pub answer_timeout: Duration,
}

struct RunningZygote {
    child: Child,
    control: UnixStream,
}

/// The fork server; one request at a time.
pub(crate) struct Zygote {
    command: ZygoteCommand,
    running: Mutex<Option<RunningZygote>>,
}

impl Zygote {
    pub fn new(command: ZygoteCommand) -> Self {
        Zygote {
            command,
            running: Mutex::new(None),
        }
    }

    /// Starts the zygote if needed and waits until it answers.
    pub async fn ensure_ready(&self) -> Result<()> {
        let mut running = self.running.lock().await;
        let result = self.ping(&mut running).await;
        if result.is_err() {
            *running = None;
        }
        result
    }

    /// The pid of the zygote process, if running.
    pub async fn pid(&self) -> Option<u32> {
        self.running
            .lock()
            .await
            .as_ref()
            .and_then(|z| z.child.id())
    }

    /// Forks a container running the launcher with `ends` on its fds 0..3; returns its pid
    /// (also its process group). Retries once with a fresh zygote if the first one failed.
    pub async fn fork(
        &self,
        memory_mb: u32,
        env: &BTreeMap<String, String>,
        ends: ChildEnds,
    ) -> Result<i32> {
        let request = format!("{}\n", json!({ "memory_mb": memory_mb, "env": env }));
        let mut running = self.running.lock().await;
        let mut last_error = None;
        for attempt in 0..2 {
            match self.fork_once(&mut running, &request, &ends).await {
                Ok(pid) => return Ok(pid),
                Err(err) => {
                    tracing::warn!(attempt, error = %err, "python zygote failed; restarting it");
                    *running = None;
                    last_error = Some(err);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| DriverError::Zygote("fork failed".into())))
    }

    async fn fork_once(
        &self,
        running: &mut Option<RunningZygote>,
        request: &str,
        ends: &ChildEnds,
    ) -> Result<i32> {
        let zygote = self.started(running)?;
        let fds = [
            ends.requests.as_fd(),
            ends.answers.as_fd(),
            ends.stdout.as_fd(),
            ends.stderr.as_fd(),
        ];
        let sent = zygote
            .control
            .async_io(Interest::WRITABLE, || {
                let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(4))];
                let mut control = SendAncillaryBuffer::new(&mut space);
                if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
                    return Err(std::io::Error::other("ancillary buffer too small"));
                }
                sendmsg(
                    &zygote.control,
                    &[IoSlice::new(request.as_bytes())],
                    &mut control,
                    SendFlags::empty(),
                )
                .map_err(std::io::Error::from)
            })
            .await
            .map_err(|e| DriverError::Zygote(format!("sending a fork request: {e}")))?;
        if sent < request.len() {
            zygote
                .control
                .write_all(&request.as_bytes()[sent..])
                .await
                .map_err(|e| DriverError::Zygote(format!("sending a fork request: {e}")))?;
        }
        let answer = self.read_answer(zygote).await?;
        match answer.get("pid").and_then(Value::as_i64) {
            Some(pid) if pid > 0 => {
                i32::try_from(pid).map_err(|_| DriverError::Zygote(format!("bad pid {pid}")))
            }
            _ => Err(DriverError::Zygote(format!("fork refused: {answer}"))),
        }
    }

    async fn ping(&self, running: &mut Option<RunningZygote>) -> Result<()> {
        let zygote = self.started(running)?;
        zygote
            .control
            .write_all(b"{\"ping\":true}\n")
            .await
            .map_err(|e| DriverError::Zygote(format!("sending a ping: {e}")))?;
        let answer = self.read_answer(zygote).await?;
        if answer.get("pong") == Some(&Value::Bool(true)) {
            Ok(())
        } else {
            Err(DriverError::Zygote(format!(
                "unexpected answer to a ping: {answer}"
            )))
        }
    }

    fn started<'a>(&self, running: &'a mut Option<RunningZygote>) -> Result<&'a mut RunningZygote> {
        let alive = match running.as_mut() {
            Some(zygote) => zygote.child.try_wait().ok().flatten().is_none(),
            None => false,
        };
        if !alive {
            if running.is_some() {
                tracing::warn!("python zygote exited; starting a new one");
            }
            *running = Some(self.spawn()?);
        }
        running
            .as_mut()
            .ok_or_else(|| DriverError::Zygote("the zygote is not running".into()))
    }

    fn spawn(&self) -> Result<RunningZygote> {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| DriverError::io("creating the zygote socket", e))?;
        ours.set_nonblocking(true)
            .map_err(|e| DriverError::io("setting the zygote socket non-blocking", e))?;
        let control = UnixStream::from_std(ours)
            .map_err(|e| DriverError::io("registering the zygote socket", e))?;
        let child = Command::new(&self.command.python)
            .arg(&self.command.script)
            .env_clear()
            .envs(&self.command.env)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| DriverError::Spawn {
                what: format!("python zygote {}", self.command.script.display()),
                source,
            })?;
        tracing::info!(pid = child.id().unwrap_or(0), "python zygote started");
        Ok(RunningZygote { child, control })
    }

    async fn read_answer(&self, zygote: &mut RunningZygote) -> Result<Value> {
        let read = async {
            let mut answer = Vec::new();
            let mut byte = [0u8; 256];
            loop {
                let n = zygote.control.read(&mut byte).await?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "zygote closed its socket",
                    ));
                }
                answer.extend_from_slice(&byte[..n]);
                if answer.ends_with(b"\n") {
                    return Ok(answer);
                }
            }
        };
        let answer = tokio::time::timeout(self.command.answer_timeout, read)
            .await
            .map_err(|_| DriverError::Zygote("no answer in time".into()))?
            .map_err(|e| DriverError::Zygote(format!("reading an answer: {e}")))?;
        serde_json::from_slice(&answer).map_err(|e| DriverError::Zygote(format!("bad answer: {e}")))
    }
}
