"""Whirl's fork server ("zygote") for the python:3 kind.

Started once by the process driver with a Unix stream socket as its stdin. It has already
imported launcher.py (and the modules the launcher needs), so a new container costs a fork
instead of a new interpreter.

Protocol on the socket, one request at a time:
  * request: one JSON line `{"memory_mb": N, "env": {...}}` sent together with three file
    descriptors (SCM_RIGHTS): the container's ActionLoop socket, its stdout and its stderr;
  * the zygote forks; the child starts a new session (its pid is its process group), puts
    the socket on fds 0 and 3, stdout on 1, stderr on 2, closes everything else, applies the
    environment and the memory limit, and runs the launcher;
  * reply: one JSON line `{"pid": N}` (or `{"error": "..."}`);
  * `{"ping": true}` (no descriptors) is answered `{"pong": true}`: the driver's readiness check.
The zygote reaps its children; it exits when the socket closes.
"""

import gc
import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import launcher  # noqa: E402  (imported here so that every child inherits it)

MAX_FDS = 3


def reap_children(_signum=None, _frame=None):
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_container(control, request, fds):
    """Runs in the forked child: never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        control.detach()
        conn, out, err = fds
        os.dup2(conn, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.dup2(conn, launcher.RESULT_FD)
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


def read_request(control):
    """Returns (request, fds), or (None, []) when the driver has closed the socket."""
    data, fds, _flags, _addr = socket.recv_fds(control, 65536, MAX_FDS)
    if not data:
        return None, fds
    while not data.endswith(b"\n"):
        more = control.recv(65536)
        if not more:
            return None, fds
        data += more
    return json.loads(data), fds


def main():
    control = socket.socket(fileno=0)
    signal.signal(signal.SIGCHLD, reap_children)
    # Everything imported so far is shared with the children: keep the collector from
    # touching (and so copying) those pages in every child.
    gc.collect()
    gc.freeze()
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
            control.sendall(b'{"error":"expected 3 file descriptors"}\n')
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            become_container(control, request, fds)
        for fd in fds:
            os.close(fd)
        control.sendall(('{"pid":%d}\n' % pid).encode())


if __name__ == "__main__":
    sys.exit(main())
