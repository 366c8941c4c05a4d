"""Sandbox worker: runs untrusted word-problem programs, one at a time, for kpdd.sandbox.

This file is a standalone script (stdlib only, nothing from kpdd) so the parent can start it with
``python -I -S _sandbox_worker.py``: no site-packages, no PYTHON* environment variables, no user dir.
Frozen apps run the same ``main()`` through ``kpdd.sandbox.worker_main``.

Protocol (over private copies of fd 0 and fd 1; the real fds 0/1/2 point at /dev/null):
every message is a 4-byte big-endian length followed by UTF-8 JSON.
  worker -> parent  {"ready": true}                     once, after setup
  parent -> worker  {"source": str, "timeout_s": float, "memory_mb": int}
  worker -> parent  {"ok", "answer", "stdout", "error", "error_kind", "recycle"}

Layers inside this process (the parent adds an AST allowlist and a wall-clock kill before this):
- resource limits (CPU, address space, no new files, no core dumps, no new processes);
- an audit hook that, while user code runs, refuses every audited action except a short allowlist
  (so open, socket, subprocess, os.*, ctypes, import, sys._getframe, frame attribute reads ... fail);
- a restricted builtins dict and an ``__import__`` that hands out fresh copies of the public,
  non-module attributes of five modules, so a program cannot poison the next program's ``math``.
"""

from __future__ import annotations

import builtins
import decimal
import fractions
import gc
import itertools
import json
import math
import os
import statistics
import struct
import sys
import time
import types

try:  # POSIX only; on Windows the parent's wall-clock kill and the other layers remain.
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

ALLOWED_MODULES = {"math": math, "fractions": fractions, "decimal": decimal, "statistics": statistics}
ALLOWED_MODULES["itertools"] = itertools
USER_MODULE = "program"  # __name__ of the user's namespace, so user classes have __module__ "program"
FILENAME = "<program>"
STDOUT_KEEP = 64 * 1024  # characters of output returned to the parent
STDOUT_HARD = 4 * 1024 * 1024  # more than this and the program is stopped
ANSWER_TEXT_MAX = 10_000
MIB = 1024 * 1024

SAFE_BUILTINS = (
    "abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate filter "
    "float format frozenset hash hex id int isinstance issubclass iter len list map max min next "
    "oct ord pow print property range repr reversed round set slice sorted staticmethod classmethod "
    "str sum super tuple type zip True False None NotImplemented Ellipsis"
).split()
SAFE_BUILTINS += [
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")
]

# Audit events a running program may trigger. Everything else is refused while user code runs.
ALLOWED_EVENTS = {"exec", "builtins.id"}
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

# --- state shared by the hook and the run loop; user code cannot reach this module's globals ---
_state = {"active": False, "violation": None}


def _words_for(event: str) -> str:
    if event in EVENT_WORDS:
        return EVENT_WORDS[event]
    prefix = event.split(".", 1)[0]
    return {
        "socket": "use the network",
        "ctypes": "call native code",
        "os": "use the operating system",
        "shutil": "change files",
        "signal": "use signals",
        "sys": "change the interpreter",
        "resource": "change the sandbox limits",
    }.get(prefix, f"use a blocked feature ({event})")


def _audit_hook(event: str, args: tuple) -> None:
    if not _state["active"] or event in ALLOWED_EVENTS:
        return
    if event in ("object.__setattr__", "object.__delattr__"):
        # Class attributes of the program's own classes may change (a counter on a class, say);
        # library classes (Fraction, Decimal ...) may not, or the next program would see it.
        target = args[0] if args else None
        if isinstance(target, type) and type.__dict__["__module__"].__get__(target) == USER_MODULE:
            return
    if _state["violation"] is None:
        _state["violation"] = _words_for(event)
    raise PermissionError(f"The sandbox does not allow this program to {_words_for(event)}.")


class _OutputFlood(BaseException):
    """Raised from print() once a program has written more than STDOUT_HARD characters."""


class _CappedOutput:
    """sys.stdout/sys.stderr stand-in: keeps the first STDOUT_KEEP characters, counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0
        self.flooded = False

    def write(self, text: str) -> int:
        text = str(text)
        self.total += len(text)
        if self.kept < STDOUT_KEEP:
            piece = text[: STDOUT_KEEP - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)
        if self.total > STDOUT_HARD:
            self.flooded = True
            raise _OutputFlood()
        return len(text)

    def flush(self) -> None:
        return None

    def getvalue(self) -> str:
        text = "".join(self.parts)
        if self.total > self.kept:
            text += f"\n[output truncated: {self.total - self.kept} more characters not shown]"
        return text


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


PUBLIC = {name: _public_copy(mod) for name, mod in ALLOWED_MODULES.items()}


def _make_import():
    cache: dict[str, types.ModuleType] = {}

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in PUBLIC:
            if _state["violation"] is None:
                _state["violation"] = f"import the module {name!r} (only {', '.join(PUBLIC)} are allowed)"
            raise ImportError(f"The sandbox does not allow importing {name!r}.")
        module = cache.get(name)
        if module is None:
            module = types.ModuleType(name)
            module.__dict__.update(PUBLIC[name])
            cache[name] = module
        return module

    return _import


_BUILTINS_BASE = {name: getattr(builtins, name) for name in SAFE_BUILTINS if hasattr(builtins, name)}
_BUILTINS_BASE["__build_class__"] = builtins.__build_class__

_DECIMAL_CONTEXTS = ("DefaultContext", "BasicContext", "ExtendedContext")


def _context_fields(ctx: decimal.Context) -> tuple:
    return (ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax, ctx.capitals, ctx.clamp, dict(ctx.traps))


_DECIMAL_SAVED = {name: _context_fields(getattr(decimal, name)) for name in _DECIMAL_CONTEXTS}


def _reset_decimal() -> None:
    """Undo getcontext().prec = ... and changes to decimal.DefaultContext from the last program."""
    for name, (prec, rounding, emin, emax, capitals, clamp, traps) in _DECIMAL_SAVED.items():
        ctx = getattr(decimal, name)
        ctx.prec, ctx.rounding, ctx.Emin, ctx.Emax = prec, rounding, emin, emax
        ctx.capitals, ctx.clamp = capitals, clamp
        for signal, on in traps.items():
            ctx.traps[signal] = on
        ctx.clear_flags()
    decimal.setcontext(decimal.Context())


def _mutable_classes() -> list[type]:
    """Python-level classes a program can reach (Fraction, NormalDist, Rational ...). Their attributes
    can be reassigned (``Fraction.limit_denominator = ...``); a worker where that happened is retired."""
    found: dict[int, type] = {}
    for public in PUBLIC.values():
        for value in public.values():
            if isinstance(value, type):
                for cls in value.__mro__:
                    if not cls.__flags__ & IMMUTABLE_TYPE_FLAG:
                        found[id(cls)] = cls
    return list(found.values())


IMMUTABLE_TYPE_FLAG = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE
_CLASS_SNAPSHOT = [(cls, dict(vars(cls))) for cls in _mutable_classes()]


def _classes_changed() -> bool:
    for cls, saved in _CLASS_SNAPSHOT:
        now = vars(cls)
        if len(now) != len(saved) or any(now.get(k, saved) is not v for k, v in saved.items()):
            return True
    return False


def _vm_bytes() -> int:
    """Current address-space size (Linux); 0 where unknown."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _set_limit(kind: str, soft: int) -> None:
    if resource is None:
        return
    which = getattr(resource, kind, None)
    if which is None:
        return
    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and (soft == resource.RLIM_INFINITY or soft > hard):
            soft = hard
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _fixed_limits() -> None:
    """Limits that hold for the worker's whole life."""
    if resource is None:
        return
    for kind, value in (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 0), ("RLIMIT_NPROC", 0), ("RLIMIT_NOFILE", 16)):
        which = getattr(resource, kind, None)
        if which is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _json_safe(value):
    """The answer as a JSON-safe number or string (bool stays bool)."""
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
            return str(value)[:ANSWER_TEXT_MAX]
    if isinstance(value, float):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return value
    if isinstance(value, str):
        return str(value)[:ANSWER_TEXT_MAX]
    return repr(value)[:ANSWER_TEXT_MAX]


def _program_line(tb) -> int | None:
    """Line number of the innermost frame of the user's program in a traceback."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _seconds(value: float) -> str:
    return f"{value:g}"


def run_one(request: dict) -> dict:
    """Run one program in a fresh namespace and describe what happened."""
    source = request["source"]
    timeout_s = float(request.get("timeout_s", 2.0))
    memory_mb = int(request.get("memory_mb", 256))
    fallback_name = request.get("fallback_name")
    reply = {"ok": False, "answer": None, "stdout": "", "error": "", "error_kind": None, "recycle": False}
    try:
        code = compile(source, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        reply.update(error_kind="syntax", error=f"Line {exc.lineno}: {exc.msg} (this is not valid Python).")
        return reply
    except (ValueError, MemoryError, RecursionError) as exc:
        reply.update(error_kind="syntax", error=f"The program could not be read as Python: {exc}.")
        return reply

    _reset_decimal()
    builtins_dict = dict(_BUILTINS_BASE)
    builtins_dict["__import__"] = _make_import()
    namespace = {"__builtins__": builtins_dict, "__name__": USER_MODULE}
    output = _CappedOutput()
    saved_streams = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = output
    _state["violation"] = None

    if resource is not None:
        vm = _vm_bytes()
        if vm:
            _set_limit("RLIMIT_AS", vm + memory_mb * MIB)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _set_limit("RLIMIT_CPU", int(usage.ru_utime + usage.ru_stime + timeout_s) + 2)

    outcome = "ok"
    message = ""
    answer = None
    answer_source = "answer"
    error = None
    _state["active"] = True
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
                answer = _json_safe(answer)
        except MemoryError:
            outcome = "memory"
        except RecursionError as exc:
            outcome, error = "recursion", exc
        except _OutputFlood:
            outcome = "flood"
        except BaseException as exc:  # SystemExit, KeyboardInterrupt and every user error
            outcome, error = "error", exc
            try:
                message = f"{type(exc).__name__}: {exc}"
            except BaseException:
                message = type(exc).__name__
        finally:
            namespace.clear()  # finalizers of the program's objects run here, still under the hook
    except BaseException as exc:  # a finalizer or str(exc) misbehaved
        outcome, error, message = "error", exc, type(exc).__name__
    finally:
        _state["active"] = False
        sys.stdout, sys.stderr = saved_streams
        _set_limit("RLIMIT_AS", resource.RLIM_INFINITY if resource else 0)
        _set_limit("RLIMIT_CPU", resource.RLIM_INFINITY if resource else 0)

    line = _program_line(error.__traceback__) if error is not None else None
    error = None
    gc.collect()
    reply["stdout"] = output.getvalue()
    where = f" on line {line}" if line else ""
    violation = _state["violation"]
    if violation is not None:
        reply.update(
            error_kind="forbidden",
            error=f"The program tried to {violation}, which the sandbox does not allow.",
            recycle=True,
        )
    elif output.flooded:
        reply.update(
            error_kind="runtime",
            error=f"The program printed more than {STDOUT_HARD // MIB} MB of output and was stopped.",
            recycle=True,
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
            recycle=True,
        )
    elif outcome == "recursion":
        reply.update(
            error_kind="runtime",
            error=(
                f"The program went too deep{where}: a function called itself too many times "
                "or data was nested too deeply (recursion limit)."
            ),
            recycle=True,
        )
    else:
        reply.update(error_kind="runtime", error=f"The program stopped with an error{where}: {message}")
    if _decimal_changed() or _classes_changed():
        reply["recycle"] = True
    return reply


def _decimal_changed() -> bool:
    return any(_context_fields(getattr(decimal, n)) != saved for n, saved in _DECIMAL_SAVED.items())


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    data = struct.pack(">I", len(data)) + data
    while data:
        written = os.write(fd, data)
        data = data[written:]


def main() -> None:
    """Set up the process, then serve requests until the parent closes the pipe."""
    # Keep private copies of the pipes; fds 0, 1, 2 become /dev/null so stray C-level writes go nowhere.
    in_fd, out_fd = os.dup(0), os.dup(1)
    null_fd = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null_fd, fd)
    os.close(null_fd)
    sys.stdin = None  # type: ignore[assignment]
    _fixed_limits()
    gc.collect()
    gc.freeze()  # the worker's own objects are never scanned again: gc.collect() per run stays cheap
    sys.addaudithook(_audit_hook)
    _send(out_fd, {"ready": True, "pid": os.getpid()})
    while True:
        header = _read_exact(in_fd, 4)
        if header is None:
            return
        body = _read_exact(in_fd, struct.unpack(">I", header)[0])
        if body is None:
            return
        started = time.perf_counter()
        try:
            reply = run_one(json.loads(body.decode("utf-8")))
        except MemoryError:
            reply = {"ok": False, "error_kind": "memory", "error": "The program used too much memory."}
            reply["recycle"] = True
        reply["worker_s"] = time.perf_counter() - started
        try:
            _send(out_fd, reply)
        except (ValueError, TypeError, OverflowError) as exc:  # unserialisable answer: never expected
            _send(out_fd, {"ok": False, "error_kind": "runtime", "error": str(exc), "recycle": True})


if __name__ == "__main__":
    main()
