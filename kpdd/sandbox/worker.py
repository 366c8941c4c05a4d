"""Sandbox worker: a fork server that runs each untrusted program in a fresh process, for kpdd.sandbox.

This file is a standalone script (stdlib only, nothing from kpdd; ``os_layer.py`` and ``runner.py`` beside it and
the optional ``pyseccomp``/``landlock`` packages are loaded during setup) so the parent can start it with
``python -I -S worker.py``: no site-packages, no PYTHON* environment variables, no user dir.
Frozen apps run the same ``main()`` through ``kpdd.sandbox.worker_main``.

The template (this process) never runs user code. It imports what programs may use, prepares the
operating-system layer (``os_layer``: network namespace, nobody, seccomp filter, Landlock ruleset),
then forks one child per program, ahead of time. The child closes every descriptor it does not need,
enters the OS layer, reads the program straight from the parent's pipe (so the template never holds
a program or, after zeroing its buffer, a reply), runs it under resource limits and the Python
layers, writes its reply to a pipe of its own and exits. Nothing a program does survives it.

Protocol. Parent -> child: a 4-byte big-endian length and UTF-8 JSON
``{"source", "timeout_s", "memory_mb", "fallback_name"}``. Template -> parent: frames of
``>II`` (header length, body length), a JSON header and a body:
  {"ready": true, "pid", "features": [...], "python_layers"}     once, with an empty body
  {"result": true, "status", "code", "signal", "timed_out", "oversized", "seconds"} + the child's reply
  {"fatal": message}                                             then the template exits
The child's reply (untrusted: it is written after user code ran) is JSON
``{"ok", "answer", "stdout", "error", "error_kind", "answer_source"}``; the parent validates it.
Child -> template, on its own pipe: ``A`` once armed (or ``E`` and a message), ``S`` and the time
budget as a >d once it has the program, then the reply. The template kills a program at its time
budget itself, and at once on SIGUSR1 (the parent's cancel); either way it reports as usual.

Python layers inside the child (the parent adds the AST allowlist before this): ``runner.py``.

Windows (untried): no fork; each worker runs one program in-process and exits (``serve_once``).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import struct
import sys
import time
import types

try:  # POSIX only; on Windows the parent's Job Object limits memory and the parent's clock time.
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

REPLY_MAX = 1024 * 1024  # bytes of a child's reply; kpdd.sandbox.REPLY_MAX is the same
REQUEST_MAX = 4 * 1024 * 1024
START_SLACK_S = 0.05  # between the child's "S" and the start of the program
FIXED_LIMITS = (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 0), ("RLIMIT_NPROC", 0), ("RLIMIT_NOFILE", 16))
MIB = 1024 * 1024
TEST_FLAG = "--test-disable"
LIB_FLAG = "--lib-path"


# --------------------------------------------------------------------------- pipes


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def send_frame(fd: int, header: dict, body=b"") -> None:
    head = json.dumps(header).encode("utf-8")
    _write_all(fd, struct.pack(">II", len(head), len(body)) + head)
    if len(body):
        _write_all(fd, body)


def _read_request(fd: int) -> dict | None:
    header = _read_exact(fd, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
    if length > REQUEST_MAX:
        raise ValueError("request too long")
    body = _read_exact(fd, length)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def _encode_reply(reply: dict) -> bytes:
    try:
        return json.dumps(reply).encode("utf-8")
    except (ValueError, TypeError, OverflowError, MemoryError):  # never expected: answers are made safe
        return b'{"ok": false, "error_kind": "runtime", "error": "The result could not be encoded."}'


def _set_limit(kind: str, soft: int, hard: int | None = None) -> None:
    which = getattr(resource, kind, None) if resource is not None else None
    if which is None:
        return
    try:
        resource.setrlimit(which, (soft, soft if hard is None else hard))
    except (ValueError, OSError):
        pass


def _vm_bytes() -> int:
    """Current address-space size (Linux); 0 where unknown."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# --------------------------------------------------------------------------- a program's process


def _child(
    layer, helpers: dict, python_layers: bool, in_fd: int, reply_fd: int, template_pid: int, vm: int
) -> None:
    """After fork: seal this process, then read one program from the parent's pipe and run it."""
    try:
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # the template's cancel handler is not for this process
        keep = {0, 1, 2, in_fd, reply_fd} | (layer.keep_fds() if layer is not None else set())
        for fd in range(3, max(keep) + 1):
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.closerange(max(keep) + 1, 1 << 16)  # the template's pipe to the parent among them
        for kind, value in FIXED_LIMITS:
            _set_limit(kind, value)
        if layer is not None:
            layer.apply(template_pid)
        if python_layers:
            _runner.seal_signals(helpers)
    except BaseException as exc:
        _write_all(reply_fd, b"E" + f"{type(exc).__name__}: {exc}"[:1000].encode("utf-8", "replace"))
        os._exit(1)
    _write_all(reply_fd, b"A")
    try:
        request = _read_request(in_fd)
    except (OSError, ValueError):
        request = None
    os.close(in_fd)
    if request is None:  # the parent closed the pipe: the template is shutting down
        os._exit(0)
    timeout_s = float(request.get("timeout_s", 2.0))
    memory_mb = int(request.get("memory_mb", 256))
    if vm:
        _set_limit("RLIMIT_AS", vm + memory_mb * MIB)
    _set_limit("RLIMIT_CPU", int(timeout_s) + 1, int(timeout_s) + 2)  # SIGXCPU, then SIGKILL
    _write_all(reply_fd, b"S" + struct.pack(">d", timeout_s))
    try:
        data = _encode_reply(_runner.run_here(request, helpers, python_layers))
    except MemoryError:
        data = b'{"ok": false, "error_kind": "memory", "error": "The program used too much memory."}'
    _write_all(reply_fd, data)
    os._exit(0)


# --------------------------------------------------------------------------- the template


# The Python layers (runner.py), loaded by `main` before the OS layer is prepared.
_runner: types.ModuleType | None = None


class _Fatal(Exception):
    pass


# The program's process while it runs (between its "S" and its reaping), for the parent's cancel
# (SIGUSR1 to the template): [pidfd or None, pid]. Cleared before the process is reaped, so the
# signal can never reach a later process that got the same pid.
_RUNNING: list = [None, 0]


def _on_cancel(signum, frame) -> None:
    pidfd, pid = _RUNNING
    try:
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        elif pid:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _wait_marker(fd: int) -> bytes:
    data = os.read(fd, 1)
    if data == b"E":
        message = b""
        while len(message) < 1000 and (chunk := os.read(fd, 1000)):
            message += chunk
        raise _Fatal("a program's process could not enter the sandbox: " + message.decode("utf-8", "replace"))
    return data


def _collect(pid: int, fd: int, buf: bytearray, timeout_s: float) -> dict:
    """Read a started child's reply into buf until it exits, runs out of time or says too much."""
    started = time.monotonic()
    deadline = started + timeout_s + START_SLACK_S
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
            poller.register(pidfd, select.POLLIN)
        except OSError:
            pidfd = None
    size, eof, status = 0, False, None
    timed_out = oversized = False
    view = memoryview(buf)
    _RUNNING[:] = [pidfd, pid]
    try:
        while not (eof and status is not None):
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if eof and pidfd is None:  # no pidfd (macOS): look at the child again shortly
                time.sleep(min(left, 0.001))
                events = []
            else:
                events = poller.poll(max(1, int(left * 1000)))
            for ready_fd, _ in events:
                if ready_fd == fd and not eof:
                    got = os.readv(fd, [view[size:]])
                    if got == 0:
                        eof = True
                        poller.unregister(fd)
                    size += got
                    oversized = size > REPLY_MAX
            if oversized:
                break
            if status is None and (pidfd is None or any(f == pidfd for f, _ in events)):
                if pidfd is None:
                    _RUNNING[:] = [None, 0]  # the next call may reap it
                done, raw = os.waitpid(pid, os.WNOHANG)
                if not done and pidfd is None:
                    _RUNNING[:] = [None, pid]
                if done:
                    status = raw
                    if pidfd is not None:
                        poller.unregister(pidfd)
    finally:
        _RUNNING[:] = [None, 0]
        if pidfd is not None:
            os.close(pidfd)
    if timed_out or oversized:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if status is None:
        _, status = os.waitpid(pid, 0)
    return {
        "result": True,
        "status": "signaled" if os.WIFSIGNALED(status) else "exited",
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out,
        "oversized": oversized,
        "seconds": round(time.monotonic() - started, 6),
        "size": 0 if oversized else size,
    }


def serve_forks(
    layer, helpers: dict, python_layers: bool, in_fd: int, out_fd: int, features: list[dict]
) -> None:
    """Keep a sealed child armed for the next program; report each child's end; exit when the parent
    goes. The next child is forked as soon as the current one has taken its program from the pipe, so
    it gets ready while that program runs (on another core) and the next request does not wait."""
    template_pid = os.getpid()
    buf = bytearray(REPLY_MAX + 1)  # one byte more, to tell "exactly full" from "too much"
    signal.signal(signal.SIGUSR1, _on_cancel)

    def fork_child() -> tuple[int, int]:
        vm = _vm_bytes()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(layer, helpers, python_layers, in_fd, write_fd, template_pid, vm)
            os._exit(1)  # not reached
        os.close(write_fd)
        return pid, read_fd

    armed = fork_child()
    try:
        if _wait_marker(armed[1]) != b"A":
            raise _Fatal("a program's process died while entering the sandbox")
    except _Fatal as exc:
        _kill_quietly(armed[0])
        send_frame(out_fd, {"fatal": str(exc)})
        return
    send_frame(
        out_fd, {"ready": True, "pid": template_pid, "features": features, "python_layers": python_layers}
    )
    while True:
        pid, read_fd = armed
        next_child = None
        try:
            start = _read_exact(read_fd, 9)
            if start is None:  # the parent closed its pipe and the armed child left: done
                os.waitpid(pid, 0)
                return
            if start[:1] != b"S":
                raise _Fatal("a program's process broke the protocol before the program ran")
            (timeout_s,) = struct.unpack(">d", start[1:])
            next_child = fork_child()  # buf is all zeros here: nothing of any program goes with it
            header = _collect(pid, read_fd, buf, timeout_s)
            size = header["size"]
            send_frame(out_fd, header, memoryview(buf)[:size])
            buf[:size] = bytes(size)
            if _wait_marker(next_child[1]) != b"A":
                raise _Fatal("a program's process died while entering the sandbox")
        except _Fatal as exc:
            for child in (pid, next_child[0] if next_child else 0):
                if child:
                    _kill_quietly(child)
            send_frame(out_fd, {"fatal": str(exc)})
            return
        finally:
            os.close(read_fd)
        armed = next_child


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def serve_once(helpers: dict, python_layers: bool, in_fd: int, out_fd: int, features: list[dict]) -> None:
    """Windows (untried): run one program in this process; the parent starts a new one for the next."""
    send_frame(
        out_fd, {"ready": True, "pid": os.getpid(), "features": features, "python_layers": python_layers}
    )
    request = _read_request(in_fd)
    if request is None:
        return
    if python_layers:
        _runner.seal_signals(helpers)
    started = time.monotonic()
    try:
        data = _encode_reply(_runner.run_here(request, helpers, python_layers))
    except MemoryError:
        data = b'{"ok": false, "error_kind": "memory", "error": "The program used too much memory."}'
    data = data[: REPLY_MAX + 1]
    header = {"result": True, "status": "exited", "code": 0, "signal": None, "timed_out": False,
              "oversized": len(data) > REPLY_MAX, "seconds": time.monotonic() - started}  # fmt: skip
    send_frame(out_fd, header, b"" if header["oversized"] else data)


def _sibling(name: str):
    """A module of this package: imported where the worker is one (a frozen app, an import), else
    loaded from the file beside this one (a script run with -I, which sees no package)."""
    if __package__:
        import importlib

        return importlib.import_module(f"{__package__}.{name}")
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"kpdd_sandbox_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _parse(argv: list[str], allow_test_flags: bool) -> tuple[frozenset[str], list[str]]:
    disabled: set[str] = set()
    lib_paths: list[str] = []
    for arg in argv:
        if arg.startswith(LIB_FLAG + "="):
            lib_paths.append(arg.split("=", 1)[1])
        elif arg.startswith(TEST_FLAG + "=") and allow_test_flags:
            disabled.update(part for part in arg.split("=", 1)[1].split(",") if part)
    return frozenset(disabled), lib_paths


def main(argv: list[str] | None = None, allow_test_flags: bool = False) -> None:
    """Set up the template, then serve programs until the parent closes the pipe."""
    disabled, lib_paths = _parse(sys.argv[1:] if argv is None else argv, allow_test_flags)
    # Private copies of the pipes; fds 0, 1, 2 become /dev/null so stray C-level writes go nowhere.
    in_fd, out_fd = os.dup(0), os.dup(1)
    null_fd = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null_fd, fd)
    os.close(null_fd)
    sys.stdin = None  # type: ignore[assignment]
    sys.path[:0] = lib_paths  # pyseccomp and landlock, for this setup only
    global _runner
    try:
        os_layer = _sibling("os_layer")
        _runner = _sibling("runner")  # imports what programs may use, before the OS layer locks reads
        _runner.preload()
        helpers = _runner.make_helpers()
        python_layers = "python" not in disabled
        if os.name == "nt":
            features = [os_layer.windows_restrict_self()]
            del sys.path[: len(lib_paths)]
            serve_once(helpers, python_layers, in_fd, out_fd, features)
            return
        layer = None
        if sys.platform.startswith("linux"):
            layer = os_layer.LinuxLayer(disabled)
            layer.prepare()
            features = layer.feature_list()
        else:
            features = os_layer.not_linux_features()
        features.append(
            {"name": "fresh_process", "active": True, "reason": "active", "detail": "fork server"}
        )
    except Exception as exc:  # fail closed: the parent turns this into a result, never runs unguarded
        send_frame(out_fd, {"fatal": f"the sandbox could not be prepared: {type(exc).__name__}: {exc}"})
        return
    del sys.path[: len(lib_paths)]
    if python_layers:
        _runner.seal_unaudited(helpers)  # after the setup, whose find_library("seccomp") runs ldconfig
    gc.collect()
    gc.freeze()  # the template's objects are never scanned in a child: fewer pages copied per fork
    serve_forks(layer, helpers, python_layers, in_fd, out_fd, features)


if __name__ == "__main__":
    main(allow_test_flags=True)
