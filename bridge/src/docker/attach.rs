//! A container's stdout and stderr through `docker attach`: the multiplexed stream is split into
//! two byte streams (for the launcher connection, which splits them per activation at the
//! sentinels), or collected as log lines (for images that write no sentinels).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bollard::container::LogOutput;
use bollard::query_parameters::AttachContainerOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWriteExt};

use crate::error::{DriverError, Result};
use crate::launcher::lines::BoundedLines;
use crate::logs::{LogLine, LogStream};

/// Buffer between the attach stream and a reader; a full buffer holds the container's writes.
const PIPE_BYTES: usize = 256 * 1024;

/// Lines kept for a container whose logs nobody has claimed yet.
const MAX_COLLECTED_LINES: usize = 10_000;

/// The container's stdout and stderr as two readers.
pub(crate) struct AttachedOutput {
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn AsyncRead + Send + Unpin>,
}

/// Attaches to `name` (before it starts, so nothing it writes is missed) and forwards its output
/// into two pipes until the container ends (or dockerd goes away); then `ended` is set.
pub(crate) async fn attach(
    docker: &Docker,
    name: &str,
    ended: Arc<AtomicBool>,
) -> Result<AttachedOutput> {
    let options = AttachContainerOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .stream(true)
        .logs(true)
        .build();
    let attached = docker
        .attach_container(name, Some(options))
        .await
        .map_err(|e| DriverError::docker(format!("attaching to container {name}"), e))?;
    let mut output = attached.output;
    let (mut out_tx, out_rx) = tokio::io::duplex(PIPE_BYTES);
    let (mut err_tx, err_rx) = tokio::io::duplex(PIPE_BYTES);
    let container = name.to_owned();
    tokio::spawn(async move {
        while let Some(chunk) = output.next().await {
            let written = match chunk {
                Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                    out_tx.write_all(&message).await
                }
                Ok(LogOutput::StdErr { message }) => err_tx.write_all(&message).await,
                Ok(LogOutput::StdIn { .. }) => Ok(()),
                Err(error) => {
                    tracing::debug!(%container, %error, "attach stream ended");
                    break;
                }
            };
            if written.is_err() {
                break;
            }
        }
        ended.store(true, Ordering::Release);
    });
    Ok(AttachedOutput {
        stdout: Box::new(out_rx),
        stderr: Box::new(err_rx),
    })
}

/// Log lines collected from a container that writes no sentinels (blackbox images, `exec`'s
/// container): whatever arrived since the last `take`.
#[derive(Clone, Default)]
pub(crate) struct CollectedLines {
    lines: Arc<Mutex<VecDeque<LogLine>>>,
}

impl CollectedLines {
    /// Reads both streams line by line (each line cut at `max_line` bytes) into the collection.
    pub fn collect(output: AttachedOutput, max_line: usize) -> Self {
        let collected = CollectedLines::default();
        let max = Arc::new(AtomicUsize::new(max_line));
        for (reader, stream) in [
            (output.stdout, LogStream::Stdout),
            (output.stderr, LogStream::Stderr),
        ] {
            let into = collected.clone();
            let max = max.clone();
            tokio::spawn(async move {
                let mut lines = BoundedLines::new(reader, max);
                while let Ok(Some(line)) = lines.next_line().await {
                    into.push(LogLine::new(SystemTime::now(), stream, line.text));
                }
            });
        }
        collected
    }

    fn push(&self, line: LogLine) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() >= MAX_COLLECTED_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Everything collected so far (sentinel lines dropped), leaving the collection empty.
    pub fn take(&self) -> Vec<LogLine> {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        lines
            .drain(..)
            .filter(|line| line.message != crate::actionloop::SENTINEL)
            .collect()
    }
}
