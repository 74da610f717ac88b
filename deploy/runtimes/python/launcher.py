"""Whirl's ActionLoop launcher for the python:3 kind.

Speaks ActionLoop as Whirl's drivers do (see docs/runtimes.md):
  * with `__OW_WAIT_FOR_ACK` set, the launcher first writes `{"ok": true}` on fd 3 once started;
  * (Docker: with `WHIRL_ACTIONLOOP_SOCKET` set, the launcher connects to that unix socket and
    uses it as both stdin and fd 3);
  * stdin, first line: the init, `{"value": {"name", "main", "code", "binary", "env"}}`;
    the answer is `{"ok": true}` or `{"error": "..."}` on fd 3 (an init error ends the process);
  * stdin, every later line: one run, `{"value": <params>, "activation_id", "namespace", ...}`;
    every key but `value` becomes the environment variable `__OW_<KEY>` for that run;
    the answer is the action's result as ONE JSON line on fd 3;
  * every answer line starts with the key of its request, `\x1e<key>\x1e` (`ack`, `init`, or
    the run's activation id), so the driver never takes a line the action wrote to fd 3 itself
    for an answer, nor hands one run's answer to the next;
  * logs go to stdout/stderr; after the init and after each run the launcher writes the
    sentinel `XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX` on both, then the answer on fd 3.

Python standard library only: the same file runs in the process driver (started directly
or forked by zygote.py) and in the Docker images.
"""

import base64
import io
import json
import os
import resource
import sys
import tempfile
import traceback
import zipfile

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
RESULT_FD = 3


def apply_memory_limit(memory_mb):
    """Caps the address space at the container's memory (plus what is already mapped)."""
    if not memory_mb:
        return
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError) as err:
        print("whirl launcher: cannot apply the memory limit: %s" % err, file=sys.stderr)


def warm_up():
    """Runs the paths a new container takes, so that a forked spare pays its copy-on-write
    page faults while it waits instead of during a cold start."""
    namespace = {"__name__": "__whirl_action__"}
    source = "def main(args):\n    return {'n': args.get('n')}\n"
    exec(compile(source, "warm_up", "exec"), namespace)
    request = json.loads('{"value": {"n": 1}, "activation_id": "x"}')
    serialize(namespace["main"](request["value"]))
    with open("/proc/self/statm") as statm:
        statm.read()
    resource.getrlimit(resource.RLIMIT_AS)


SENTINEL_LINE = (SENTINEL + "\n").encode()


def write_sentinels():
    """Ends this activation's logs: the sentinel line written on fds 1 and 2 themselves, after
    whatever Python still buffers for them. Not through `sys.stdout`: an action may have
    replaced it (with a `StringIO`, say), and a sentinel written there never reaches the driver,
    which then waits out its grace period and splits the logs wrongly."""
    streams = [sys.stdout, sys.stderr]
    for original in (sys.__stdout__, sys.__stderr__):
        if original is not None and original not in streams:
            streams.append(original)
    for stream in streams:
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass  # closed or not a stream: nothing of it to push out
    for fd in (1, 2):
        try:
            os.write(fd, SENTINEL_LINE)
        except OSError:
            pass  # the action closed it: the driver saw that stream end, and waits for no sentinel


TAG = "\x1e"
ACK_LINE = (TAG + "ack" + TAG + '{"ok":true}\n').encode()


def answer(out, key, text):
    """Writes one answer line on fd 3, framed with its request's key, after the sentinels."""
    write_sentinels()
    out.write((TAG + key + TAG + text + "\n").encode("utf-8"))
    out.flush()


def work_dir():
    path = os.environ.get("WHIRL_WORK_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        return path
    return tempfile.mkdtemp(prefix="whirl-action-")


def load_action(value):
    """Compiles the action and returns its entry function (raises on any problem)."""
    for key, val in (value.get("env") or {}).items():
        os.environ[str(key)] = val if isinstance(val, str) else json.dumps(val)
    main_name = value.get("main") or "main"
    code = value.get("code") or ""
    namespace = {"__name__": "__whirl_action__"}
    if value.get("binary"):
        target = work_dir()
        data = base64.b64decode(code)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(target)
        entry = os.path.join(target, "__main__.py")
        if not os.path.isfile(entry):
            raise ValueError("zip action has no __main__.py at its root")
        sys.path.insert(0, target)
        os.chdir(target)
        with open(entry, encoding="utf-8") as source:
            code = source.read()
        namespace["__file__"] = entry
    else:
        namespace["__file__"] = "__main__.py"
    exec(compile(code, namespace["__file__"], "exec"), namespace)
    entry_fn = namespace.get(main_name)
    if not callable(entry_fn):
        raise ValueError("the action has no function named '%s'" % main_name)
    return entry_fn


def serialize(result):
    """The result as one JSON line; a value that is not JSON is logged and answered as null."""
    try:
        return json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        print("whirl launcher: the result is not JSON: %s" % err, file=sys.stderr)
        return "null"


class RunEnvironment:
    """Sets a run's `__OW_*` variables, in `os.environ` and in the process's C environment (which
    subprocesses inherit).

    `os.environ[name] = value` calls setenv(), and glibc keeps every value ever set for a name
    (programs may still hold pointers to the old ones): with the activation id, the transaction id
    and the deadline new on every run, a warm container grew by about 270 bytes a run, without
    end. Here the C entry of each variable is a buffer this launcher owns, given to putenv()
    (which keeps the pointer and copies nothing) and rewritten in place on the next run; the
    mapping behind `os.environ` is updated to match. Without ctypes or that mapping (another
    Python), it falls back to `os.environ`.
    """

    def __init__(self):
        self._environ = os.environ
        # name -> (text, encoded key, the encoded value object put in the mapping): while the
        # mapping still holds that very object, the C environment still holds this launcher's
        # buffer for the name (setting or deleting it through os.environ replaces both).
        self._last = {}
        self._buffers = {}
        self._libc = None
        data = getattr(os.environ, "_data", None)
        encodekey = getattr(os.environ, "encodekey", None)
        encodevalue = getattr(os.environ, "encodevalue", None)
        if data is None or encodekey is None or encodevalue is None:
            return
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.putenv.argtypes = [ctypes.c_char_p]
            libc.putenv.restype = ctypes.c_int
        except (ImportError, OSError, AttributeError):
            return
        self._data, self._encodekey, self._encodevalue = data, encodekey, encodevalue
        self._new_buffer = ctypes.create_string_buffer
        self._get_errno = ctypes.get_errno
        self._libc = libc

    def set(self, name, text):
        """Sets `name` to `text` unless it already holds it (a run may have changed it)."""
        if self._libc is None:
            if self._environ.get(name) != text:
                self._environ[name] = text
            return
        last = self._last.get(name)
        ours = last is not None and self._data.get(last[1]) is last[2]
        if ours and last[0] == text:
            return
        key = self._encodekey(name)
        value = self._encodevalue(text)
        entry = key + b"=" + value
        if b"\0" in entry:
            raise ValueError("embedded null byte")
        buffer = self._buffers.get(key)
        if ours and buffer is not None and len(entry) < len(buffer):
            buffer.value = entry
        else:
            buffer = self._new_buffer(entry, 2 * len(entry) + 1)
            if self._libc.putenv(buffer) != 0:
                raise OSError(self._get_errno(), "putenv failed for %s" % name)
            self._buffers[key] = buffer
        self._data[key] = value
        self._last[name] = (text, key, value)


RUN_ENVIRONMENT = RunEnvironment()


def set_run_env(request):
    """Every key of a run request but `value` becomes `__OW_<KEY>`."""
    for key, val in request.items():
        if key == "value":
            continue
        text = val if isinstance(val, str) else json.dumps(val)
        RUN_ENVIRONMENT.set("__OW_" + key.upper(), text)


def run_one(entry_fn, request):
    params = request.get("value", {})
    set_run_env(request)
    try:
        return serialize(entry_fn(params))
    except MemoryError:
        traceback.print_exc()
        print("whirl launcher: the action ran out of memory", file=sys.stderr)
        sys.stderr.flush()
        os._exit(137)
    except Exception as err:  # the action's own failure becomes its error result
        traceback.print_exc()
        return serialize({"error": "%s: %s" % (type(err).__name__, err)})


def serve(stdin=None, out=None):
    """Reads the init line, then one run per line, until stdin closes."""
    stdin = stdin or sys.stdin.buffer
    out = out or os.fdopen(RESULT_FD, "wb", buffering=0, closefd=False)
    try:
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
    except AttributeError:
        pass
    if os.environ.get("__OW_WAIT_FOR_ACK"):
        out.write(ACK_LINE)
    first = stdin.readline()
    if not first:
        return 0
    try:
        init = json.loads(first)
        entry_fn = load_action(init.get("value", init))
    except Exception as err:
        traceback.print_exc()
        answer(out, "init", json.dumps({"error": "%s: %s" % (type(err).__name__, err)}))
        return 1
    answer(out, "init", '{"ok":true}')
    while True:
        line = stdin.readline()
        if not line:
            return 0
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            key = str(request.get("activation_id", ""))
        except (ValueError, AttributeError) as err:
            print("whirl launcher: bad run request: %s" % err, file=sys.stderr)
            answer(out, "", json.dumps({"error": "bad run request: %s" % err}))
            continue
        answer(out, key, run_one(entry_fn, request))


def connect_channel(path):
    """Docker containers: connects to the driver's socket (bind-mounted into the container) and
    makes it fds 0 and 3, so the rest of the launcher runs exactly as under the process driver."""
    import socket

    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(path)
    fd = channel.detach()
    for target in (0, RESULT_FD):
        if fd != target:
            os.dup2(fd, target)
    if fd not in (0, RESULT_FD):
        os.close(fd)


if __name__ == "__main__":
    if os.environ.get("WHIRL_ACTIONLOOP_SOCKET"):
        connect_channel(os.environ["WHIRL_ACTIONLOOP_SOCKET"])
    apply_memory_limit(os.environ.get("WHIRL_MEMORY_MB"))
    sys.exit(serve())
