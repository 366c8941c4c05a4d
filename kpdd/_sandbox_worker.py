"""Sandbox worker: a fork server that runs each untrusted program in a fresh process, for kpdd.sandbox.

This file is a standalone script (stdlib only, nothing from kpdd; ``_sandbox_os.py`` beside it and the
optional ``pyseccomp``/``landlock`` packages are loaded during setup) so the parent can start it with
``python -I -S _sandbox_worker.py``: no site-packages, no PYTHON* environment variables, no user dir.
Frozen apps run the same ``main()`` through ``kpdd.sandbox.worker_main``.

The template (this process) never runs user code. It imports what programs may use, prepares the
operating-system layer (``_sandbox_os``: network namespace, nobody, seccomp filter, Landlock ruleset),
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

Python layers inside the child (the parent adds the AST allowlist before this):
- an audit hook that refuses every audited action except a short allowlist while user code runs;
- restricted builtins, ``type`` that will not return a metaclass, and an ``__import__`` that hands out
  copies of the public, non-module attributes of five modules;
- every helper handed to user code is defined in an isolated namespace, so none carries this
  module's ``__globals__``, and the hook's switch lives in a closure no program can reach.
These are a filter, not the boundary: the OS layer holds when they are gone (tests run the hostile
corpus with them disabled, ``--test-disable python``, honoured only when run as a script).

Windows (untried): no fork; each worker runs one program in-process and exits (``serve_once``).
"""

from __future__ import annotations

import ast
import builtins
import decimal
import fractions
import gc
import itertools
import json
import math
import os
import select
import signal
import statistics
import struct
import sys
import time
import types

try:  # POSIX only; on Windows the parent's Job Object limits memory and the parent's clock time.
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

ALLOWED_MODULES = {"math": math, "fractions": fractions, "decimal": decimal, "statistics": statistics}
ALLOWED_MODULES["itertools"] = itertools
USER_MODULE = "program"  # __name__ of the user's namespace, so user classes have __module__ "program"
FILENAME = "<program>"
# The program's lines are numbered from here, so a traceback tells its lines from a library's by the
# number alone: reading a traceback's frames is an audited action, and the hook never lets one through.
LINE_OFFSET = 1_000_000_000
STDOUT_KEEP = 64 * 1024  # characters of output returned to the parent
STDOUT_HARD = 4 * 1024 * 1024  # more than this and the program is stopped
ANSWER_TEXT_MAX = 10_000
MESSAGE_MAX = 2_000  # characters of an error message
REPLY_MAX = 1024 * 1024  # bytes of a child's reply; kpdd.sandbox.REPLY_MAX is the same
REQUEST_MAX = 4 * 1024 * 1024
START_SLACK_S = 0.05  # between the child's "S" and the start of the program
FIXED_LIMITS = (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 0), ("RLIMIT_NPROC", 0), ("RLIMIT_NOFILE", 16))
MIB = 1024 * 1024
TEST_FLAG = "--test-disable"
LIB_FLAG = "--lib-path"

SAFE_BUILTINS = (
    "abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate filter "
    "float format frozenset hash hex id int isinstance issubclass iter len list map max min next "
    "oct ord pow print property range repr reversed round set slice sorted staticmethod classmethod "
    "str sum super tuple zip True False None NotImplemented Ellipsis"
).split()
SAFE_BUILTINS += [
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")
]

# Audit events a running program may trigger. Everything else is refused while user code runs.
ALLOWED_EVENTS = frozenset({"exec", "builtins.id"})
EVENT_WORDS = {
    "open": "open a file",
    "import": "import a module that is not allowed",
    "subprocess.Popen": "start another program",
    "os.system": "start another program",
    "os.fork": "start another process",
    "os.forkpty": "start another process",
    "os.posix_spawn": "start another program",
    "os.exec": "start another program",
    "os.spawn": "start another program",
    "os.kill": "send a signal to a process",
    "os.killpg": "send a signal to a process",
    "os.remove": "delete a file",
    "os.rmdir": "delete a folder",
    "os.rename": "rename a file",
    "os.mkdir": "create a folder",
    "os.listdir": "list a folder",
    "os.scandir": "list a folder",
    "os.chdir": "change the working folder",
    "os.putenv": "change the environment",
    "os.unsetenv": "change the environment",
    "sys._getframe": "inspect the interpreter's frames",
    "object.__getattr__": "inspect the interpreter's internals",
    "object.__setattr__": "change a library class",
    "object.__delattr__": "change a library class",
    "compile": "compile code at run time",
    "code.__new__": "build code objects",
    "function.__new__": "build functions from code objects",
}
PREFIX_WORDS = {
    "socket": "use the network",
    "ctypes": "call native code",
    "os": "use the operating system",
    "shutil": "change files",
    "signal": "use signals",
    "sys": "change the interpreter",
    "resource": "change the sandbox limits",
    "gc": "inspect the interpreter's objects",
}

# Everything handed to user code is made here, in a namespace of its own: a program that reaches a
# helper's __globals__ or __closure__ finds these few names, never this module, os or sys.
HELPERS_SOURCE = '''
def make(real_type, public, module_type, violations, allowed_events, event_words, prefix_words,
         user_module, output_keep, output_hard):
    cache = {}
    class_module = real_type.__dict__["__module__"].__get__

    def note(words):
        if not violations:
            violations.append(words)

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in public:
            note("import the module " + repr(name) + " (only " + ", ".join(public) + " are allowed)")
            raise ImportError("The sandbox does not allow importing " + repr(name) + ".")
        module = cache.get(name)
        if module is None:
            module = module_type(name)
            module.__dict__.update(public[name])
            cache[name] = module
        return module

    def type(obj, *more):
        if more:
            note("build a class with type()")
            raise PermissionError("The sandbox does not allow building classes with type().")
        cls = real_type(obj)
        if issubclass(cls, real_type):
            note("take the type of a class (a metaclass)")
            raise PermissionError("The sandbox does not allow taking the type of a class.")
        return cls

    def hook(event, args):
        # No switch: the hook is added once, just before the program runs, in a process that runs
        # nothing else, and nothing after the program needs an audited action.
        if event in allowed_events:
            return
        if event in ("object.__setattr__", "object.__delattr__"):
            # The program's own classes may change (a counter on a class); library classes may not.
            target = args[0] if args else None
            if isinstance(target, real_type) and class_module(target) == user_module:
                return
        words = event_words.get(event) or prefix_words.get(event.split(".")[0]) or (
            "use a blocked feature (" + event + ")")
        note(words)
        raise PermissionError("The sandbox does not allow this program to " + words + ".")

    def refuser(words):
        def refuse(*args, **kwargs):
            note(words)
            raise PermissionError("The sandbox does not allow this program to " + words + ".")
        return refuse

    class OutputFlood(BaseException):
        """Raised from print() once a program has written more than output_hard characters."""

    class CappedOutput:
        """sys.stdout/sys.stderr stand-in: keeps the first output_keep characters, counts the rest."""

        def __init__(self):
            self.parts = []
            self.kept = 0
            self.total = 0
            self.flooded = False

        def write(self, text):
            text = str(text)
            self.total += len(text)
            if self.kept < output_keep:
                piece = text[: output_keep - self.kept]
                self.parts.append(piece)
                self.kept += len(piece)
            if self.total > output_hard:
                self.flooded = True
                raise OutputFlood()
            return len(text)

        def flush(self):
            return None

        def getvalue(self):
            text = "".join(self.parts)
            if self.total > self.kept:
                text += "\\n[output truncated: " + str(self.total - self.kept) + " more characters not shown]"
            return text

    return {"import": __import__, "type": type, "hook": hook, "flood": OutputFlood,
            "output": CappedOutput, "violations": violations, "refuse": refuser("start another program"),
            "refuse_signals": refuser("use signals"), "refuse_threads": refuser("start a thread")}
'''
HELPER_BUILTINS = (
    "repr str len isinstance issubclass BaseException ImportError PermissionError __build_class__".split()
)


def _public_copy(module: types.ModuleType) -> dict:
    """Public attributes of a module, without submodules (statistics.sys, statistics.random ...) and
    without what it imported from modules outside the allowlist (statistics.namedtuple, .Counter ...)."""
    public = {}
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", None) if callable(value) else None
        if origin is not None and origin.lstrip("_") not in ALLOWED_MODULES:
            continue
        public[name] = value
    return public


def make_helpers() -> dict:
    """The helpers, fresh and empty; built in the template, so each child starts from a clean copy."""
    namespace = {
        "__builtins__": {name: getattr(builtins, name) for name in HELPER_BUILTINS},
        "__name__": "sandbox",
    }
    exec(compile(HELPERS_SOURCE, "<sandbox helpers>", "exec"), namespace)
    public = {name: _public_copy(mod) for name, mod in ALLOWED_MODULES.items()}
    return namespace["make"](
        type, public, types.ModuleType, [], ALLOWED_EVENTS, dict(EVENT_WORDS), dict(PREFIX_WORDS),
        USER_MODULE, STDOUT_KEEP, STDOUT_HARD,
    )  # fmt: skip


BUILTINS_BASE = {name: getattr(builtins, name) for name in SAFE_BUILTINS if hasattr(builtins, name)}
BUILTINS_BASE["__build_class__"] = builtins.__build_class__


def _json_safe(value):
    """The answer as a JSON-safe number or string of an exact built-in type (bool stays bool)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        value = int(value)
        if value.bit_length() > 14_000:  # str() refuses more than 4300 digits
            return f"an integer with about {int(value.bit_length() * 0.30103) + 1} digits"
        return value
    if isinstance(value, (fractions.Fraction, decimal.Decimal)):
        try:
            value = float(value)
        except (OverflowError, ValueError):
            return str(str(value)[:ANSWER_TEXT_MAX])
    if isinstance(value, float):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return value
    if isinstance(value, str):
        return str(value[:ANSWER_TEXT_MAX])
    return str(repr(value)[:ANSWER_TEXT_MAX])


def _program_line(tb) -> int | None:
    """Line number of the innermost frame of the user's program in a traceback (see LINE_OFFSET)."""
    line = None
    while tb is not None:
        if tb.tb_lineno >= LINE_OFFSET:
            line = tb.tb_lineno - LINE_OFFSET
        tb = tb.tb_next
    return line


def _compile(source: str):
    """The program's code, its lines numbered from LINE_OFFSET + 1."""
    tree = ast.parse(source, FILENAME, "exec")
    ast.increment_lineno(tree, LINE_OFFSET)
    return compile(tree, FILENAME, "exec", dont_inherit=True)


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # a __str__ that raises
        text = type(exc).__name__
    return str(text[:MESSAGE_MAX])


def _describe_outcome(
    reply: dict, outcome: str, violations: list, answer, answer_source: str, memory_mb: int,
    line: int | None, message: str,
) -> None:  # fmt: skip
    """Fill `reply` in with what happened, in words a student reads."""
    where = f" on line {line}" if line else ""
    if violations:
        reply.update(
            error_kind="forbidden",
            error=f"The program tried to {violations[0]}, which the sandbox does not allow.",
        )
    elif outcome == "flood":
        reply.update(
            error_kind="runtime",
            error=f"The program printed more than {STDOUT_HARD // MIB} MB of output and was stopped.",
        )
    elif outcome == "ok":
        reply.update(ok=True, answer=answer, answer_source=answer_source)
    elif outcome == "no_answer":
        reply.update(
            error_kind="no_answer",
            error="The program ran but did not set a variable named `answer` (or return one from solution()), "
            "and assigned no value at its top level to read instead.",
        )
    elif outcome == "memory":
        reply.update(
            error_kind="memory",
            error=f"The program needed more than {memory_mb} MB of memory and was stopped.",
        )
    elif outcome == "recursion":
        reply.update(
            error_kind="runtime",
            error=(
                f"The program went too deep{where}: a function called itself too many times "
                "or data was nested too deeply (recursion limit)."
            ),
        )
    else:
        reply.update(error_kind="runtime", error=f"The program stopped with an error{where}: {message}")


def run_here(request: dict, helpers: dict, python_layers: bool = True) -> dict:
    """Run one program in this process and describe what happened (``python_layers`` False: real
    builtins and no audit hook, tests only). Called once per process: what the program leaves behind
    dies with it."""
    source = request["source"]
    memory_mb = int(request.get("memory_mb", 256))
    fallback_name = request.get("fallback_name")
    reply = {"ok": False, "answer": None, "stdout": "", "error": "", "error_kind": None}
    try:
        code = _compile(source)
    except SyntaxError as exc:
        reply.update(error_kind="syntax", error=f"Line {exc.lineno}: {exc.msg} (this is not valid Python).")
        return reply
    except (ValueError, MemoryError, RecursionError) as exc:
        reply.update(error_kind="syntax", error=f"The program could not be read as Python: {exc}.")
        return reply

    if python_layers:
        builtins_dict = dict(BUILTINS_BASE)
        builtins_dict["__import__"] = helpers["import"]
        builtins_dict["type"] = helpers["type"]
        namespace = {"__builtins__": builtins_dict, "__name__": USER_MODULE}
    else:
        namespace = {"__builtins__": builtins, "__name__": USER_MODULE}
    output, flood = helpers["output"](), helpers["flood"]
    sys.stdout = sys.stderr = output

    outcome = "ok"
    message = ""
    answer = None
    answer_source = "answer"
    error = None
    if python_layers:
        sys.addaudithook(helpers["hook"])  # for good: this process ends after its one program
    try:
        try:
            exec(code, namespace)
            if "answer" in namespace:
                answer = namespace["answer"]
            elif callable(namespace.get("solution")):
                answer, answer_source = namespace["solution"](), "solution"
            elif isinstance(fallback_name, str) and not callable(namespace.get(fallback_name)):
                answer, answer_source = namespace.get(fallback_name), "last_assignment"
            if answer is None:
                outcome = "no_answer"
            else:
                answer = _json_safe(answer)  # may call the program's __float__/__repr__: still guarded
        except MemoryError:
            outcome = "memory"
        except RecursionError as exc:
            outcome, error = "recursion", exc
        except flood:
            outcome = "flood"
        except BaseException as exc:  # SystemExit, KeyboardInterrupt and every user error
            outcome, error, message = "error", exc, _describe(exc)
        stdout = str(output.getvalue())
    except BaseException as exc:  # a __str__, __float__ ... misbehaved after the program
        outcome, error, message, stdout = "error", exc, type(exc).__name__, ""
    # No finalizer of the program's may run unguarded from here: nothing it made is released (the
    # process exits right after the reply) and the cyclic collector is off.
    gc.disable()
    line = _program_line(error.__traceback__) if error is not None else None
    reply["stdout"] = stdout
    _describe_outcome(reply, outcome, helpers["violations"], answer, answer_source, memory_mb, line, message)
    return reply


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
            seal_signals(helpers)
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
        data = _encode_reply(run_here(request, helpers, python_layers))
    except MemoryError:
        data = b'{"ok": false, "error_kind": "memory", "error": "The program used too much memory."}'
    _write_all(reply_fd, data)
    os._exit(0)


# --------------------------------------------------------------------------- the template


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
        seal_signals(helpers)
    started = time.monotonic()
    try:
        data = _encode_reply(run_here(request, helpers, python_layers))
    except MemoryError:
        data = b'{"ok": false, "error_kind": "memory", "error": "The program used too much memory."}'
    data = data[: REPLY_MAX + 1]
    header = {"result": True, "status": "exited", "code": 0, "signal": None, "timed_out": False,
              "oversized": len(data) > REPLY_MAX, "seconds": time.monotonic() - started}  # fmt: skip
    send_frame(out_fd, header, b"" if header["oversized"] else data)


def _load_os_layer():
    if __package__:  # kpdd._sandbox_worker in a frozen app or an import
        from kpdd import _sandbox_os

        return _sandbox_os
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox_os.py")
    spec = importlib.util.spec_from_file_location("_sandbox_os", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_sandbox_os"] = module
    spec.loader.exec_module(module)
    return module


def _preload() -> None:
    """Modules the interpreter or an allowed module may load lazily while a program runs (a parser's
    NFKC, a text encoding, `statistics.mode`'s `Counter.most_common` importing heapq): imported now.
    A program's process may not be able to read them (as `nobody`, with a Python under /root), and
    its audit hook refuses any import of a module not loaded yet, so every lazy path is loaded here."""
    import copy  # noqa: F401
    import encodings.ascii  # noqa: F401
    import encodings.latin_1  # noqa: F401
    import encodings.utf_16  # noqa: F401
    import encodings.utf_32  # noqa: F401
    import heapq  # noqa: F401
    import unicodedata  # noqa: F401


def seal_unaudited(helpers: dict) -> None:
    """``_posixsubprocess.fork_exec`` starts a process without any audit event (subprocess raises its
    own, in Python), and pyseccomp's ctypes.util imported it; the template needs it no more. A program
    that reaches it through a module's globals meets the refusal instead."""
    posixsubprocess = sys.modules.get("_posixsubprocess")
    if posixsubprocess is not None:
        posixsubprocess.fork_exec = helpers["refuse"]
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None:
        subprocess._fork_exec = helpers["refuse"]


SIGNAL_FUNCTIONS = (
    "signal set_wakeup_fd setitimer alarm raise_signal pthread_kill pthread_sigmask siginterrupt "
    "sigwait sigwaitinfo sigtimedwait"
).split()
THREAD_FUNCTIONS = "interrupt_main start_new_thread start_new start_joinable_thread".split()


def seal_signals(helpers: dict) -> None:
    """In a program's process: no Python-level signal handling and no threads. Neither is audited,
    and a signal handler is handed the frame it interrupts (`signal.signal` with
    `_thread.interrupt_main` reached the worker's own frames once)."""
    for module_name, names, refusal in (
        ("_signal", SIGNAL_FUNCTIONS, "refuse_signals"),
        ("signal", SIGNAL_FUNCTIONS, "refuse_signals"),
        ("_thread", THREAD_FUNCTIONS, "refuse_threads"),
        ("threading", ("_start_new_thread", "_interrupt_main"), "refuse_threads"),
    ):
        module = sys.modules.get(module_name)
        for name in names if module is not None else ():
            if hasattr(module, name):
                setattr(module, name, helpers[refusal])


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
    try:
        os_layer = _load_os_layer()
        _preload()
        helpers = make_helpers()
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
        seal_unaudited(helpers)  # after the setup, whose find_library("seccomp") runs ldconfig
    gc.collect()
    gc.freeze()  # the template's objects are never scanned in a child: fewer pages copied per fork
    serve_forks(layer, helpers, python_layers, in_fd, out_fd, features)


if __name__ == "__main__":
    main(allow_test_flags=True)
