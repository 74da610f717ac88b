//! Starting launcher processes directly (a new interpreter per container): the container's
//! socket becomes the launcher's stdin and, through `sh -c 'exec "$@" 3<&0'`, its fd 3 too.
//! Also the pipes and socket pair every launcher (direct or forked by the zygote) gets.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;

use tokio::net::UnixStream;
use tokio::process::{Child, Command};

use crate::error::{DriverError, Result};
use crate::launcher::connection::LauncherIo;

/// The launcher's ends: the socket (fds 0 and 3), stdout and stderr write ends.
pub(crate) struct ChildEnds {
    pub socket: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Creates the socket pair and the two pipes of a new launcher.
pub(crate) fn launcher_pipes() -> Result<(LauncherIo, ChildEnds)> {
    let io_err = |what: &str| {
        let what = what.to_string();
        move |e| DriverError::io(what, e)
    };
    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().map_err(io_err("creating a socket pair"))?;
    ours.set_nonblocking(true)
        .map_err(io_err("setting the socket non-blocking"))?;
    let socket = UnixStream::from_std(ours).map_err(io_err("registering the socket"))?;
    let (stdout_r, stdout_w) = cloexec_pipe().map_err(io_err("creating the stdout pipe"))?;
    let (stderr_r, stderr_w) = cloexec_pipe().map_err(io_err("creating the stderr pipe"))?;
    let stdout = tokio::net::unix::pipe::Receiver::from_owned_fd(stdout_r)
        .map_err(io_err("registering the stdout pipe"))?;
    let stderr = tokio::net::unix::pipe::Receiver::from_owned_fd(stderr_r)
        .map_err(io_err("registering the stderr pipe"))?;
    Ok((
        LauncherIo {
            socket,
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
        },
        ChildEnds {
            socket: OwnedFd::from(theirs),
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
    shell: &Path,
    program: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
    ends: ChildEnds,
) -> Result<Child> {
    let mut command = Command::new(shell);
    command
        .arg("-c")
        .arg("exec \"$@\" 3<&0")
        .arg("whirl-launcher")
        .arg(program)
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::from(ends.socket))
        .stdout(Stdio::from(ends.stdout))
        .stderr(Stdio::from(ends.stderr))
        .process_group(0)
        .kill_on_drop(false);
    command.spawn().map_err(|source| DriverError::Spawn {
        what: format!("{} {}", program.display(), args.join(" ")),
        source,
    })
}
