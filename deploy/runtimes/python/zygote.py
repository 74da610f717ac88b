"""Whirl's fork server ("zygote") for the python:3 kind.

Started once by the process driver with a Unix stream socket as its stdin. It has already
imported launcher.py (and the modules the launcher needs), so a new container costs a fork
instead of a new interpreter. To take even the fork out of the way, the zygote keeps one
*spare* child forked in advance, waiting on a private socket for the descriptors of the next
container (like Android's pool of unspecialized app processes).

Protocol on the socket, one request at a time:
  * request: one JSON line `{"memory_mb": N, "env": {...}}` sent together with four file
    descriptors (SCM_RIGHTS): the read end of the container's request pipe, the write end of
    its answer pipe, its stdout and its stderr;
  * the spare, while it waits, runs the launcher's paths once (`launcher.warm_up`) so the
    copy-on-write faults of a new container are paid in advance;
  * the zygote hands the request and the descriptors to its spare child (or forks one if the
    spare is gone); the child, already in a new session (its pid is its process group), puts
    the request pipe on fd 0, the answer pipe on fd 3, stdout on 1, stderr on 2, closes
    everything else, applies the
    environment and the memory limit, and runs the launcher;
  * reply: one JSON line `{"pid": N}` (or `{"error": "..."}`); then the zygote forks the next
    spare;
  * `{"ping": true}` (no descriptors) is answered `{"pong": true}`: the driver's readiness check.
The zygote reaps its children; it exits when the socket closes (and its spare then exits too).
"""

import fcntl
import gc
import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import launcher  # noqa: E402  (imported here so that every child inherits it)

MAX_FDS = 4


def reap_children(_signum=None, _frame=None):
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_container(request, fds):
    """Runs in a child that has its request: never returns."""
    code = 1
    try:
        # Each descriptor is first copied above every target, so that no dup2 below overwrites
        # one still to be placed (a spare receives them in whatever numbers are free, 0 too).
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds]
        for fd, target in zip(high, (0, launcher.RESULT_FD, 1, 2)):
            os.dup2(fd, target)
        os.closerange(launcher.RESULT_FD + 1, os.sysconf("SC_OPEN_MAX"))
        for key, val in (request.get("env") or {}).items():
            os.environ[str(key)] = str(val)
        launcher.apply_memory_limit(request.get("memory_mb"))
        code = launcher.serve(sys.stdin.buffer)
    except BaseException:  # the child must never return into the zygote's loop
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(1)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code or 0)


def leave_zygote(control):
    """First steps of every child: default signals, own session, no zygote socket."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    control.close()


def read_request(channel):
    """Returns (request, fds), or (None, fds) when the other side has closed the socket."""
    data, fds, _flags, _addr = socket.recv_fds(channel, 65536, MAX_FDS)
    if not data:
        return None, fds
    while not data.endswith(b"\n"):
        more = channel.recv(65536)
        if not more:
            return None, fds
        data += more
    return json.loads(data), fds


def fork_spare(control):
    """Forks a child that waits for its request; returns (pid, socket to it)."""
    ours, theirs = socket.socketpair()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            leave_zygote(control)
            ours.close()
            launcher.warm_up()
            request, fds = read_request(theirs)
            theirs.close()
            if request is None or len(fds) != MAX_FDS:
                os._exit(0)
            become_container(request, fds)
        finally:
            os._exit(1)
    theirs.close()
    return pid, ours


def fork_now(control, request, fds):
    """Forks a container directly (when no spare is usable); returns its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            leave_zygote(control)
            become_container(request, fds)
        finally:
            os._exit(1)
    return pid


def hand_to_spare(spare, line, fds):
    """Gives the request to the spare; returns its pid, or None if the spare is gone."""
    pid, channel = spare
    try:
        socket.send_fds(channel, [line], fds)
        return pid
    except OSError:
        return None
    finally:
        channel.close()


def main():
    control = socket.socket(fileno=0)
    signal.signal(signal.SIGCHLD, reap_children)
    # Everything imported so far is shared with the children: keep the collector from
    # touching (and so copying) those pages in every child.
    gc.collect()
    gc.freeze()
    spare = fork_spare(control)
    while True:
        request, fds = read_request(control)
        if request is None:
            return 0
        if request.get("ping"):
            for fd in fds:
                os.close(fd)
            control.sendall(b'{"pong":true}\n')
            continue
        if len(fds) != MAX_FDS:
            for fd in fds:
                os.close(fd)
            control.sendall(b'{"error":"expected 4 file descriptors"}\n')
            continue
        line = json.dumps(request).encode() + b"\n"
        pid = hand_to_spare(spare, line, fds) if spare else None
        if pid is None:
            pid = fork_now(control, request, fds)
        for fd in fds:
            os.close(fd)
        control.sendall(('{"pid":%d}\n' % pid).encode())
        spare = fork_spare(control)


if __name__ == "__main__":
    sys.exit(main())
