//! Starting launcher processes directly (a new interpreter per container), and the four pipes
//! every launcher (direct or forked by the zygote) gets: requests on its stdin, answers on its
//! fd 3, and its stdout and stderr.
//!
//! Pipes rather than one socket for requests and answers: a Unix socket wakes the other side's
//! waiters whenever a reader frees buffer space, so each run woke the launcher (blocked reading
//! its next request) when the driver read the answer, and the driver's event loop when the
//! launcher read the request. A pipe wakes its writer only when it was full.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;

use command_fds::{CommandFdExt, FdMapping};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};

use crate::actionloop::RESULT_FD;
use crate::error::{DriverError, Result};
use crate::launcher::connection::LauncherIo;

/// The launcher's ends of its four pipes.
pub(crate) struct ChildEnds {
    /// Read end of the request pipe: the launcher's stdin.
    pub requests: OwnedFd,
    /// Write end of the answer pipe: the launcher's fd 3.
    pub answers: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Creates the four pipes of a new launcher: the driver's ends, registered with the runtime,
/// and the launcher's.
pub(crate) fn launcher_pipes() -> Result<(LauncherIo, ChildEnds)> {
    let io_err = |what: &str| {
        let what = what.to_string();
        move |e| DriverError::io(what, e)
    };
    let (requests_r, requests_w) = cloexec_pipe().map_err(io_err("creating the request pipe"))?;
    let (answers_r, answers_w) = cloexec_pipe().map_err(io_err("creating the answer pipe"))?;
    let (stdout_r, stdout_w) = cloexec_pipe().map_err(io_err("creating the stdout pipe"))?;
    let (stderr_r, stderr_w) = cloexec_pipe().map_err(io_err("creating the stderr pipe"))?;
    let requests =
        pipe::Sender::from_owned_fd(requests_w).map_err(io_err("registering the request pipe"))?;
    let answers =
        pipe::Receiver::from_owned_fd(answers_r).map_err(io_err("registering the answer pipe"))?;
    let stdout =
        pipe::Receiver::from_owned_fd(stdout_r).map_err(io_err("registering the stdout pipe"))?;
    let stderr =
        pipe::Receiver::from_owned_fd(stderr_r).map_err(io_err("registering the stderr pipe"))?;
    Ok((
        LauncherIo {
            requests: Box::new(requests),
            answers: Box::new(answers),
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
        },
        ChildEnds {
            requests: requests_r,
            answers: answers_w,
            stdout: stdout_w,
            stderr: stderr_w,
        },
    ))
}

/// A pipe whose two ends are closed on exec: `(read end, write end)`.
pub(crate) fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(std::io::Error::from)
}

/// Starts `program args...` in a new process group with the launcher's ends on fds 0..3.
pub(crate) fn spawn_direct(
    program: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
    ends: ChildEnds,
) -> Result<Child> {
    let what = || format!("{} {}", program.display(), args.join(" "));
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::from(ends.requests))
        .stdout(Stdio::from(ends.stdout))
        .stderr(Stdio::from(ends.stderr))
        .process_group(0)
        .kill_on_drop(false);
    command
        .fd_mappings(vec![FdMapping {
            parent_fd: ends.answers,
            child_fd: RESULT_FD,
        }])
        .map_err(|collision| DriverError::Spawn {
            what: what(),
            source: std::io::Error::other(collision.to_string()),
        })?;
    command.spawn().map_err(|source| DriverError::Spawn {
        what: what(),
        source,
    })
}
