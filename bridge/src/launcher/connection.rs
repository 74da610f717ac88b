//! One launcher's ActionLoop connection: writes request lines to the launcher's stdin, reads
//! answers back from its fd 3 (pipes for the process driver, one socket for Docker), and splits
//! the stdout/stderr logs per activation at the sentinels. Every answer carries the key of its
//! request (`ack`, `init` or the activation id) and goes to that request only, so a line an
//! action writes to fd 3 itself can never become the answer of a later activation. Log lines
//! of concurrent containers are tagged with the activation id too; those of single-activation
//! containers are matched in order.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::actionloop::{answer_frame, split_tag, ACK_KEY, SENTINEL};
use crate::launcher::lines::{BoundedLine, BoundedLines};
use crate::logs::{ActivationLogs, LogLine, LogStream};

/// Slack above the result limit for the activation tag.
const TAG_SLACK: usize = 512;

/// Early answers kept for a request still to be registered.
const MAX_UNCLAIMED: usize = 16;

/// The Rust side of a started launcher: where requests go, where answers come from (the
/// process driver's pipes, or both halves of a Docker container's socket), and the read ends of
/// its stdout and stderr.
pub(crate) struct LauncherIo {
    pub requests: Box<dyn AsyncWrite + Send + Unpin>,
    pub answers: Box<dyn AsyncRead + Send + Unpin>,
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn AsyncRead + Send + Unpin>,
}

impl LauncherIo {
    /// Requests and answers over one socket (a Docker container's), logs from `stdout` and
    /// `stderr`.
    pub fn over_socket(
        socket: UnixStream,
        stdout: Box<dyn AsyncRead + Send + Unpin>,
        stderr: Box<dyn AsyncRead + Send + Unpin>,
    ) -> Self {
        let (answers, requests) = socket.into_split();
        LauncherIo {
            requests: Box::new(requests),
            answers: Box::new(answers),
            stdout,
            stderr,
        }
    }
}

/// What the reader task reads.
struct ReadSide {
    answers: Box<dyn AsyncRead + Send + Unpin>,
    stdout: Box<dyn AsyncRead + Send + Unpin>,
    stderr: Box<dyn AsyncRead + Send + Unpin>,
}

/// The launcher's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Line(String),
    TooLarge {
        size: usize,
    },
    /// The launcher closed its end: it died.
    Closed,
}

/// What one request/answer exchange produced. `answer` is `None` when the timeout passed.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub answer: Option<Answer>,
    pub logs: ActivationLogs,
}

struct Pending {
    key: String,
    answer_tx: Option<oneshot::Sender<Answer>>,
    logs: ActivationLogs,
    stdout_done: bool,
    stderr_done: bool,
    logs_done_tx: Option<oneshot::Sender<()>>,
}

impl Pending {
    fn done(&self, stream: LogStream) -> bool {
        match stream {
            LogStream::Stdout => self.stdout_done,
            LogStream::Stderr => self.stderr_done,
        }
    }

    fn finish(&mut self, stream: LogStream) {
        match stream {
            LogStream::Stdout => self.stdout_done = true,
            LogStream::Stderr => self.stderr_done = true,
        }
        if self.stdout_done && self.stderr_done {
            if let Some(tx) = self.logs_done_tx.take() {
                let _ = tx.send(());
            }
        }
    }
}

#[derive(Default)]
struct RouterState {
    pending: Vec<Pending>,
    /// Answers that arrived before their request was registered (a fast launcher can
    /// acknowledge its start before the driver starts waiting for it).
    unclaimed: VecDeque<(String, Answer)>,
    answers_closed: bool,
    stdout_closed: bool,
    stderr_closed: bool,
}

struct Router {
    state: Mutex<RouterState>,
    tagged: AtomicBool,
    log_line_max: Arc<AtomicUsize>,
    answer_max: Arc<AtomicUsize>,
    container: String,
}

impl Router {
    fn lock(&self) -> MutexGuard<'_, RouterState> {
        // A poisoned lock only means another task panicked mid-update; the state is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Splits off the activation tag of a log line when the container is concurrent.
    fn split<'a>(&self, line: &'a str) -> (Option<&'a str>, &'a str) {
        if self.tagged.load(Ordering::Relaxed) {
            split_tag(line)
        } else {
            (None, line)
        }
    }

    /// Hands `answer` to the request keyed `key`; keeps it for a while if that request is not
    /// registered yet (a fast launcher can answer before the driver starts waiting).
    fn route_answer(&self, key: &str, answer: Answer) {
        let mut state = self.lock();
        if let Some(pending) = state.pending.iter_mut().find(|p| p.key == key) {
            match pending.answer_tx.take() {
                Some(tx) => {
                    let _ = tx.send(answer);
                }
                None => {
                    tracing::warn!(container = %self.container, key, "a second answer for one request; ignored")
                }
            }
            return;
        }
        if state.unclaimed.len() >= MAX_UNCLAIMED {
            tracing::warn!(container = %self.container, "dropping an answer nobody claimed");
            state.unclaimed.pop_front();
        }
        state.unclaimed.push_back((key.to_string(), answer));
    }

    /// An answer that arrived early for `key`, if any.
    fn claim(state: &mut RouterState, key: &str) -> Option<Answer> {
        let at = state.unclaimed.iter().position(|(k, _)| k == key)?;
        state.unclaimed.remove(at).map(|(_, answer)| answer)
    }

    fn route_log(&self, stream: LogStream, key: Option<&str>, text: &str, time: SystemTime) {
        let mut state = self.lock();
        let target = match key {
            Some(key) => state.pending.iter_mut().find(|p| p.key == key),
            None => state.pending.iter_mut().find(|p| !p.done(stream)),
        };
        let Some(pending) = target else {
            tracing::trace!(container = %self.container, stream = stream.as_str(), "log line outside any activation");
            return;
        };
        match text.strip_suffix(SENTINEL) {
            // Output without a final newline ends up in front of the sentinel.
            Some(unterminated) => {
                if !unterminated.is_empty() {
                    pending.logs.push(LogLine::new(time, stream, unterminated));
                }
                pending.finish(stream);
            }
            None => pending.logs.push(LogLine::new(time, stream, text)),
        }
    }

    fn close_answers(&self) {
        let mut state = self.lock();
        state.answers_closed = true;
        for pending in &mut state.pending {
            if let Some(tx) = pending.answer_tx.take() {
                let _ = tx.send(Answer::Closed);
            }
        }
    }

    fn close_stream(&self, stream: LogStream) {
        let mut state = self.lock();
        match stream {
            LogStream::Stdout => state.stdout_closed = true,
            LogStream::Stderr => state.stderr_closed = true,
        }
        for pending in &mut state.pending {
            pending.finish(stream);
        }
    }
}

/// A launcher's connection; dropping it stops its reader tasks and closes its request channel
/// (the launcher sees the end of its stdin and exits).
pub(crate) struct LauncherConnection {
    writer: tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    router: Arc<Router>,
    tasks: Vec<JoinHandle<()>>,
}

impl LauncherConnection {
    /// Starts the reader tasks. `container` names the container in logs.
    pub fn start(io: LauncherIo, container: &str) -> Self {
        let router = Arc::new(Router {
            state: Mutex::new(RouterState::default()),
            tagged: AtomicBool::new(false),
            log_line_max: Arc::new(AtomicUsize::new(64 * 1024)),
            answer_max: Arc::new(AtomicUsize::new(1024 * 1024 + TAG_SLACK)),
            container: container.to_string(),
        });
        let read_side = ReadSide {
            answers: io.answers,
            stdout: io.stdout,
            stderr: io.stderr,
        };
        let tasks = vec![tokio::spawn(read_launcher(read_side, router.clone()))];
        LauncherConnection {
            writer: tokio::sync::Mutex::new(io.requests),
            router,
            tasks,
        }
    }

    /// Applies an action's limits: answers above `result_bytes` are refused, log lines are
    /// kept up to `log_bytes`, and with `tagged` lines are matched by activation id.
    pub fn configure(&self, result_bytes: usize, log_bytes: usize, tagged: bool) {
        self.router
            .answer_max
            .store(result_bytes.saturating_add(TAG_SLACK), Ordering::Relaxed);
        self.router
            .log_line_max
            .store(log_bytes.saturating_add(1), Ordering::Relaxed);
        self.router.tagged.store(tagged, Ordering::Relaxed);
    }

    /// True once the launcher closed its answer channel (it died).
    pub fn is_closed(&self) -> bool {
        self.router.lock().answers_closed
    }

    /// Waits for the launcher's start acknowledgement (`{"ok":true}` with `__OW_WAIT_FOR_ACK`).
    pub async fn await_ack(&self, timeout: Duration) -> Exchange {
        self.exchange(ACK_KEY, None, timeout, 64 * 1024, Duration::ZERO)
            .await
    }

    /// Sends `line` (if any) and waits up to `timeout` for the answer keyed `key` (the
    /// activation id), then up to `grace` for both sentinels; returns the answer and this
    /// exchange's logs.
    pub async fn exchange(
        &self,
        key: &str,
        line: Option<&str>,
        timeout: Duration,
        log_limit: usize,
        grace: Duration,
    ) -> Exchange {
        let (answer_tx, answer_rx) = oneshot::channel();
        let (logs_tx, logs_rx) = oneshot::channel();
        {
            let mut state = self.router.lock();
            let mut pending = Pending {
                key: key.to_string(),
                answer_tx: Some(answer_tx),
                logs: ActivationLogs::new(log_limit),
                stdout_done: state.stdout_closed,
                stderr_done: state.stderr_closed,
                logs_done_tx: Some(logs_tx),
            };
            if let Some(answer) = Router::claim(&mut state, key) {
                if let Some(tx) = pending.answer_tx.take() {
                    let _ = tx.send(answer);
                }
            } else if state.answers_closed {
                if let Some(tx) = pending.answer_tx.take() {
                    let _ = tx.send(Answer::Closed);
                }
            }
            if pending.stdout_done && pending.stderr_done {
                if let Some(tx) = pending.logs_done_tx.take() {
                    let _ = tx.send(());
                }
            }
            state.pending.push(pending);
        }
        let exchange = async {
            if let Some(line) = line {
                let mut framed = String::with_capacity(line.len() + 1);
                framed.push_str(line);
                framed.push('\n');
                if let Err(err) = self.write(&framed).await {
                    tracing::debug!(container = %self.router.container, error = %err, "cannot write to the launcher");
                    return Answer::Closed;
                }
            }
            answer_rx.await.unwrap_or(Answer::Closed)
        };
        let answer = tokio::time::timeout(timeout, exchange).await.ok();
        if answer.is_some() {
            let _ = tokio::time::timeout(grace, logs_rx).await;
        }
        let logs = {
            let mut state = self.router.lock();
            match state.pending.iter().position(|p| p.key == key) {
                Some(at) => state.pending.remove(at).logs,
                None => ActivationLogs::new(log_limit),
            }
        };
        Exchange { answer, logs }
    }

    async fn write(&self, framed: &str) -> io::Result<()> {
        let mut writer = self.writer.lock().await;
        writer.write_all(framed.as_bytes()).await?;
        writer.flush().await
    }
}

impl Drop for LauncherConnection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Reads the launcher's answers and both log streams in one task. Logs come first when
/// several are ready, so the sentinels written before an answer are routed before it and
/// the waiting run completes without another wake-up.
async fn read_launcher(io: ReadSide, router: Arc<Router>) {
    let mut answers = BoundedLines::new(io.answers, router.answer_max.clone());
    let mut stdout = BoundedLines::new(io.stdout, router.log_line_max.clone());
    let mut stderr = BoundedLines::new(io.stderr, router.log_line_max.clone());
    let (mut answers_open, mut stdout_open, mut stderr_open) = (true, true, true);
    while answers_open || stdout_open || stderr_open {
        tokio::select! {
            biased;
            line = stdout.next_line(), if stdout_open => {
                stdout_open = on_log_line(&router, LogStream::Stdout, line);
            }
            line = stderr.next_line(), if stderr_open => {
                stderr_open = on_log_line(&router, LogStream::Stderr, line);
            }
            line = answers.next_line(), if answers_open => {
                answers_open = on_answer_line(&router, line);
            }
        }
    }
}

/// Routes one answer line by its key; false once the answer channel is closed. A line without
/// the launcher's frame was written by the action itself and is dropped.
fn on_answer_line(router: &Router, line: io::Result<Option<BoundedLine>>) -> bool {
    match line {
        Ok(Some(line)) => {
            let frame = answer_frame(&line.text);
            let Some(key) = frame.key else {
                tracing::warn!(container = %router.container, bytes = line.full_len, "a line on the answer channel that the launcher did not write (the action wrote to fd 3?); ignored");
                return true;
            };
            if !frame.stray.is_empty() {
                tracing::warn!(container = %router.container, key, bytes = frame.stray.len(), "text in front of an answer (the action wrote to fd 3?); ignored");
            }
            let answer = if line.was_cut() {
                Answer::TooLarge {
                    size: line.full_len,
                }
            } else {
                Answer::Line(frame.text.to_string())
            };
            router.route_answer(key, answer);
            true
        }
        Ok(None) => {
            router.close_answers();
            false
        }
        Err(err) => {
            tracing::debug!(container = %router.container, error = %err, "reading answers failed");
            router.close_answers();
            false
        }
    }
}

/// Routes one log line; false once the stream is closed.
fn on_log_line(router: &Router, which: LogStream, line: io::Result<Option<BoundedLine>>) -> bool {
    match line {
        Ok(Some(line)) => {
            let now = SystemTime::now();
            let (key, text) = router.split(&line.text);
            router.route_log(which, key, text, now);
            true
        }
        Ok(None) => {
            router.close_stream(which);
            false
        }
        Err(err) => {
            tracing::debug!(container = %router.container, error = %err, "reading logs failed");
            router.close_stream(which);
            false
        }
    }
}
