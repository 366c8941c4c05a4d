"""Run a model-written Python program safely and return its `answer`.

Contract: ``run_program(source, timeout_s=2.0, memory_mb=256) -> ProgramResult`` with
``ok``, ``answer``, ``stdout``, ``error``, ``error_kind`` (``syntax``, ``forbidden``, ``timeout``,
``memory``, ``runtime``, ``no_answer``; None when ok), ``duration_s`` and ``answer_source``. It never
raises on a bad program. A program stopped through ``cancel`` gives ``ok=False, error_kind="runtime",
error="Stopped."`` (no new kind is added to the contract).

Layers, each meant to hold alone (tests run the hostile corpus with the first two disabled):
1. ``check_source``: an AST allowlist in this process, before anything runs (imports of five modules
   only; no dunder names or attributes, nor dunder-like names inside string constants; ``type`` only
   as ``type(x)``; no exec/eval/open/getattr..., no frame attributes, no positional ``case C(x)``
   patterns but for built-in types, no async, no class keywords). Attribute names come only from the
   source: ``.format`` only on a string written in the program, with no lookups in its fields, and
   not as a match pattern's keyword (``case str(format=f)``); no ``.obj`` (an AttributeError's: what a
   failed lookup reached).
2. Python layers in the program's process (``_sandbox_worker.py``): an audit hook that refuses files,
   network, processes, imports and frame inspection, added just before the program runs and never
   switched off (the process runs that one program and exits); restricted builtins, a ``type`` that
   never gives a metaclass, copies of the allowed modules; no Python-level signal handlers or threads
   (neither is audited, and a handler is handed a frame); every helper defined in an isolated
   namespace, so nothing handed to user code carries the worker's globals. A filter, not the boundary:
   alone, it does not stop a program that reaches a module through a library function's globals from
   reading what is not audited (the worker's environment, which is empty).
3. The operating system (``_sandbox_os.py``), applied in the program's process before it reads the
   program. Linux (tested): a seccomp-bpf allowlist (pyseccomp over libseccomp: no writing opens, no
   sockets, exec, fork/clone/clone3/vfork, signals, ptrace, executable memory), Landlock (reads only
   under the Python runtime, no writes, no TCP, no signals out of the domain), a network namespace of
   its own (also without seccomp, where user namespaces exist), ``nobody`` instead of root, no
   capabilities, no_new_privs, rlimits (CPU, memory, files, processes). What is missing on a kernel
   is reported by ``os_layer_status()`` and shown in Help > About. Windows (untried): a Job Object
   (kill on close, one process, memory) and a Low-integrity token without privileges; macOS
   (untried): a ``sandbox-exec`` profile denying network and file writes.
   **Fail closed:** programs run only where a feature that blocks file writes, network and exec is in
   force (``PROTECTING_FEATURES``: seccomp on Linux, the profile on macOS, the Job Object with the
   token on Windows). Elsewhere ``run_program`` refuses (``forbidden``, one line naming the setting)
   unless the user turned ``kpdd config unsafe_programs on``; ``protection()`` tells the CLI and the
   app which case holds, so they say it (the app keeps a notice up and offers Steps mode).
4. A fresh process per program, forked from a template worker that never runs user code, so nothing a
   program does reaches the next one; a parent that trusts nothing the worker says: it decides itself
   when to replace a template, reads at most ``REPLY_MAX`` bytes of a reply, and turns anything
   malformed, oversized or nested too deeply into a ``runtime`` result. A wall-clock deadline here
   kills a template that does not answer in time.
Evaluating thousands of programs stays fast: the template forks the next child while the parent
reads the last result (bench/bench_sandbox.py).
"""

from __future__ import annotations

import ast
import atexit
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kpdd import _sandbox_os

WORKER_FLAG = "--kpdd-sandbox-worker"
WORKER_PATH = Path(__file__).with_name("_sandbox_worker.py")
ALLOWED_MODULES = frozenset({"math", "fractions", "decimal", "statistics", "itertools"})
MAX_SOURCE_CHARS = 100_000
MAX_RUNS = 10_000  # programs per template before it is replaced (it runs none itself: a bound only)
MAX_IDLE = 2  # idle workers kept warm
STARTUP_TIMEOUT_S = 20.0  # a frozen one-file app unpacks itself first
DEADLINE_MARGIN_S = 0.15  # pipe and JSON overhead on top of the program's own time budget
TEMPLATE_GRACE_S = 1.0  # the template kills a late program itself; this long more and it is killed too
CANCEL_WAIT_S = 1.0  # how long a cancelled run waits for the template's report before killing it
HEADER_MAX = 64 * 1024  # bytes of a template's own message header
REPLY_MAX = 1024 * 1024  # bytes of a program's reply read at most (_sandbox_worker.REPLY_MAX)
TEST_LAYERS = frozenset({"python", "seccomp", "landlock", "network_namespace", "unprivileged_user"})
POLL_S = 0.05  # how often a waiting run looks at its cancel token

# Set this (or the environment variable KPDD_SANDBOX_PYTHON) to run workers with another interpreter.
SANDBOX_PYTHON: str | None = None

ERROR_KINDS = ("syntax", "forbidden", "timeout", "memory", "runtime", "no_answer")

FORBIDDEN_NAMES = frozenset(
    "exec eval compile open getattr setattr delattr hasattr globals locals vars dir __import__ input "
    "breakpoint help memoryview object exit quit copyright credits license".split()
)
# Attributes that reach frames, code objects or interpreter internals without a leading underscore.
FORBIDDEN_ATTRIBUTES = frozenset(
    "gi_frame gi_code gi_yieldfrom gi_running cr_frame cr_code cr_await cr_origin ag_frame ag_code ag_await "
    "f_back f_globals f_locals f_builtins f_code f_trace f_lasti tb_frame tb_next tb_lasti co_code "
    "co_consts co_names format_map mro register modules obj".split()
)
# `obj` is AttributeError's: the object an attribute lookup failed on, which may be one the program
# was never handed (the end of a walk through format fields).
# Special methods a program may define in its own classes (defining is safe; reading dunders is not).
ALLOWED_DUNDER_METHODS = frozenset(
    "__init__ __repr__ __str__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __bool__ __len__ "
    "__iter__ __next__ __contains__ __getitem__ __call__ __add__ __sub__ __mul__ __truediv__ "
    "__floordiv__ __mod__ __pow__ __radd__ __rsub__ __rmul__ __rtruediv__ __neg__ __pos__ __abs__ "
    "__float__ __int__ __round__".split()
)


# A double underscore touching a letter, as in "__globals__" or "__x": the name of something hidden. No
# word-problem program needs one in a string, and strings are how a program names an attribute to
# reach it indirectly (a class's __match_args__, a dict given to type()).
DUNDER_TEXT = re.compile(r"__[A-Za-z]|[A-Za-z0-9]__")
# Classes that match one positional sub-pattern against the subject itself (`case int(x)`). Any other
# class reads its positional sub-patterns through __match_args__, a list of attribute names.
SELF_MATCHING_CLASSES = frozenset("bool bytearray bytes dict float frozenset int list set str tuple".split())


class CancelLike(Protocol):
    @property
    def cancelled(self) -> bool: ...


@dataclass
class ProgramResult:
    """What running one program gave. ``answer`` is JSON-safe (int, float, bool or str)."""

    ok: bool
    answer: Any = None
    stdout: str = ""
    error: str = ""
    error_kind: str | None = None
    duration_s: float = 0.0
    # Where the answer came from: "answer" (the variable), "solution" (its return value), or
    # "last_assignment" (a program that set neither: its last top-level assignment, marked as such).
    answer_source: str | None = None


ANSWER_SOURCES = ("answer", "solution", "last_assignment")


def last_assignment_name(tree: ast.Module) -> str | None:
    """The name the program's last top-level assignment binds (`x = ...`, `x: int = ...`, `x += ...`).

    A program that never sets `answer` nor defines `solution()` is read by this name: small models
    often compute the result and forget the final `answer =` line (PAL-style programs print it).
    """
    for node in reversed(tree.body):
        if isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Name)]
            if targets:
                return targets[0].id
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            if not isinstance(node, ast.AnnAssign) or node.value is not None:
                return node.target.id
    return None


def _fallback_name(source: str) -> str | None:
    try:
        return last_assignment_name(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --------------------------------------------------------------------------- layer 1: the AST check


class _Forbidden(Exception):
    pass


def _is_dunder_or_private(name: str) -> bool:
    return name.startswith("__")


def _check_format_literal(text: str) -> None:
    """Reject ``"{0.__class__}".format(x)``-style field names (attribute or index lookups)."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # .format will fail at run time anyway
    for _, field, spec, _ in fields:
        if field and ("." in field or "[" in field):
            raise _Forbidden("a format string that looks up attributes or items (like '{0.x}' or '{0[x]}')")
        if spec and "{" in spec:
            _check_format_literal(spec)


def _check_tree(tree: ast.AST) -> None:
    allowed = _allowed_nodes(tree)
    for node in ast.walk(tree):
        _check_node(node, allowed)


def _allowed_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes the name rules let through: the `type` of a one-argument `type(x)` call, a
    class's allowed dunder methods (`__init__`...), and the `.__init__` of `super().__init__`."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
            if len(node.args) == 1 and not node.keywords:
                allowed.add(id(node.func))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in ALLOWED_DUNDER_METHODS:
                    allowed.add(id(item))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "__init__"
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            allowed.add(id(node))
    return allowed


def _check_node(node: ast.AST, allowed: set[int]) -> None:
    if isinstance(node, (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)):
        raise _Forbidden("async code")
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if DUNDER_TEXT.search(text):
            raise _Forbidden("a special name written inside a string (a double underscore and a letter)")
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        _check_import(node)
    elif isinstance(node, ast.Name):
        if _is_dunder_or_private(node.id):
            raise _Forbidden(f"the special name '{node.id}'")
        if node.id in FORBIDDEN_NAMES:
            raise _Forbidden(f"the built-in '{node.id}'")
        if node.id == "type" and id(node) not in allowed:
            raise _Forbidden("'type' other than type(x) with one argument")
    elif isinstance(node, ast.Attribute):
        _check_attribute(node, allowed)
    elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        if isinstance(node, ast.ClassDef) and node.keywords:
            # `class A(metaclass=f)`, or the same spelt `class A(**{"meta" + "class": f})`.
            raise _Forbidden("keywords in a class definition (a metaclass)")
        if _is_dunder_or_private(node.name) and id(node) not in allowed:
            raise _Forbidden(f"defining the special name '{node.name}'")
        if node.name in FORBIDDEN_NAMES:
            raise _Forbidden(f"redefining the built-in '{node.name}'")
    elif isinstance(node, ast.keyword):
        if node.arg and _is_dunder_or_private(node.arg):
            raise _Forbidden(f"the special keyword '{node.arg}'")
        if node.arg == "metaclass":
            raise _Forbidden("metaclasses")
    elif isinstance(node, ast.MatchClass):
        if node.patterns and not (isinstance(node.cls, ast.Name) and node.cls.id in SELF_MATCHING_CLASSES):
            raise _Forbidden("a positional 'case C(x)' pattern on a class that is not a built-in type")
        for attr in node.kwd_attrs:
            # `case str(format=f)` reads an attribute just as `s.format` does, with none of its checks.
            if _is_dunder_or_private(attr) or attr in FORBIDDEN_ATTRIBUTES or attr == "format":
                raise _Forbidden(f"the attribute '{attr}' in a match pattern")
    else:
        for name in _bound_names(node):
            if _is_dunder_or_private(name):
                raise _Forbidden(f"the special name '{name}'")


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                raise _Forbidden(f"importing the module '{alias.name}'")
            if alias.asname and _is_dunder_or_private(alias.asname):
                raise _Forbidden(f"the name '{alias.asname}'")
        return
    if node.level or node.module not in ALLOWED_MODULES:
        raise _Forbidden(f"importing from the module '{'.' * node.level}{node.module or ''}'")
    for alias in node.names:
        if alias.name.startswith("_") or (alias.asname and _is_dunder_or_private(alias.asname)):
            raise _Forbidden(f"importing the hidden name '{alias.name}'")


def _check_attribute(node: ast.Attribute, allowed: set[int]) -> None:
    if _is_dunder_or_private(node.attr) and id(node) not in allowed:
        raise _Forbidden(f"the special attribute '.{node.attr}'")
    if node.attr in FORBIDDEN_ATTRIBUTES:
        raise _Forbidden(f"the attribute '.{node.attr}'")
    if node.attr == "format":
        receiver = node.value
        if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
            raise _Forbidden("'.format' on anything but a string written in the program")
        _check_format_literal(receiver.value)


def _bound_names(node: ast.AST) -> list[str]:
    """Names a node binds besides assignments (which are ast.Name): arguments, global and nonlocal
    declarations, exception and match-pattern captures."""
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return []


def check_source(source: str) -> ProgramResult | None:
    """The AST allowlist. Returns a failed ProgramResult (syntax or forbidden), or None if it may run.

    Identifiers are NFKC-normalised by the parser, so 'ｅval' is checked as 'eval'.
    """
    if not isinstance(source, str):
        return ProgramResult(ok=False, error="The program is not text.", error_kind="syntax")
    if len(source) > MAX_SOURCE_CHARS:
        return ProgramResult(
            ok=False,
            error=f"The program is longer than {MAX_SOURCE_CHARS} characters.",
            error_kind="forbidden",
        )
    try:
        tree = ast.parse(source, filename="<program>", mode="exec")
    except SyntaxError as exc:
        return ProgramResult(
            ok=False, error=f"Line {exc.lineno}: {exc.msg} (this is not valid Python).", error_kind="syntax"
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return ProgramResult(
            ok=False, error=f"The program could not be read as Python: {exc}.", error_kind="syntax"
        )
    try:
        _check_tree(tree)
    except _Forbidden as exc:
        return ProgramResult(
            ok=False,
            error=f"The program uses {exc}, which is not allowed in the sandbox.",
            error_kind="forbidden",
        )
    except RecursionError:
        return ProgramResult(ok=False, error="The program is nested too deeply.", error_kind="forbidden")
    return None


# --------------------------------------------------------------------------- layers 2-4: workers


@dataclass(frozen=True)
class OSFeature:
    """One protection of the operating-system layer and whether it is in force on this machine.

    ``reason`` is a short code ("active", "no_libseccomp", "kernel", "no_namespace", "not_linux",
    "untried" ...) that the app turns into a sentence (desktop/about.py); ``detail`` is technical
    (an ABI version, an errno) and shown as it is.
    """

    name: str
    active: bool
    reason: str
    detail: str = ""


def _lib_paths() -> list[str]:
    """Folders holding pyseccomp and landlock, which an isolated (-I -S) worker cannot see itself."""
    paths: list[str] = []
    for name in ("pyseccomp", "landlock"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin)
        folder = origin.parent.parent if origin.name == "__init__.py" else origin.parent
        if str(folder) not in paths:
            paths.append(str(folder))
    return paths


def worker_command(disable: frozenset[str] = frozenset()) -> list[str]:
    """How to start a worker: a chosen interpreter, the frozen app itself, or this interpreter.

    ``disable`` (tests only, through ``_unguarded_pool``) names layers the worker leaves out; a frozen
    app's worker never reads it.
    """
    python = SANDBOX_PYTHON or os.environ.get("KPDD_SANDBOX_PYTHON")
    if getattr(sys, "frozen", False) and not python:
        command = [sys.executable, WORKER_FLAG]
    else:
        command = [python or sys.executable, "-I", "-S", "-B", str(WORKER_PATH)]
        command += [f"--lib-path={path}" for path in _lib_paths()]
        if disable:
            command.append(f"--test-disable={','.join(sorted(disable))}")
    if sys.platform == "darwin":
        command = _sandbox_os.macos_command(command)
    return command


def _worker_env() -> dict[str, str]:
    """The worker's environment: empty, except what the platform or a frozen app needs to start."""
    keep = ("SYSTEMROOT",) if os.name == "nt" else ()  # Windows cannot start Python without it
    env = {k: os.environ[k] for k in keep if k in os.environ}
    if getattr(sys, "frozen", False) and not (SANDBOX_PYTHON or os.environ.get("KPDD_SANDBOX_PYTHON")):
        # PyInstaller's bootloader variables (paths of the app itself) let a one-file app's worker
        # reuse the already unpacked bundle instead of unpacking it again for every worker.
        env.update({k: v for k, v in os.environ.items() if k.startswith(("_PYI", "_MEIPASS"))})
    return env


class _WorkerDied(Exception):
    pass


@dataclass
class _Frame:
    """One message from a template: its JSON header and the raw body (a child's untrusted reply)."""

    header: dict
    body: bytes = b""


class _Worker:
    """One template process (a fork server) and a thread that reads its frames into a queue.

    Everything the template sends is checked for size before it is read, and anything out of shape
    ends the reading: the run that waits on it sees a protocol error, and the worker is retired.
    """

    def __init__(self, disable: frozenset[str] = frozenset()) -> None:
        self.workdir = tempfile.mkdtemp(prefix="kpdd-sandbox-")
        self.runs = 0
        self.single_use = os.name == "nt"  # no fork on Windows: one process per program
        self.frames: queue.Queue[_Frame | None] = queue.Queue()
        self.protocol_error = ""
        self.job = None
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            kwargs["start_new_session"] = True  # its own process group: killed as one
        try:
            self.proc = subprocess.Popen(
                worker_command(disable),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_worker_env(),
                cwd=self.workdir,
                close_fds=True,
                **kwargs,
            )
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        if os.name == "nt":
            self.job = _sandbox_os.WindowsJob.for_process(self.proc)
        self.reader = threading.Thread(target=self._read_loop, name="kpdd-sandbox-reader", daemon=True)
        self.reader.start()
        try:
            hello = self.frames.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            hello = None
        if hello is None or not hello.header.get("ready"):
            why = hello.header.get("fatal") if hello is not None else self.protocol_error
            self.kill()
            raise _WorkerDied(str(why or "the sandbox worker did not start"))
        self.pid = hello.header.get("pid")
        self.features = _features_from(hello.header.get("features"))
        self.features += _features_from(_sandbox_os.parent_features(self.job))

    def _read_loop(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                sizes = stream.read(8)
                if len(sizes) < 8:
                    break
                head_len, body_len = struct.unpack(">II", sizes)
                if head_len > HEADER_MAX or body_len > REPLY_MAX:
                    self.protocol_error = f"a message of {head_len} + {body_len} bytes"
                    break
                head = stream.read(head_len)
                body = stream.read(body_len) if body_len else b""
                if len(head) < head_len or len(body) < body_len:
                    break
                try:
                    header = json.loads(head.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    header = None
                if not isinstance(header, dict):
                    self.protocol_error = "a message that is not a JSON object"
                    break
                self.frames.put(_Frame(header, body))
        except (OSError, ValueError):
            pass
        try:
            stream.close()
        except OSError:
            pass
        self.frames.put(None)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, request: dict) -> None:
        data = json.dumps(request).encode("utf-8")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise _WorkerDied(str(exc)) from exc

    def cancel_program(self) -> bool:
        """Stop the running program but keep the template: SIGUSR1 makes it kill the program's process
        and report as usual. False when that cannot be done (Windows, no report in time): retire it."""
        if self.single_use or os.name == "nt":
            return False
        try:
            os.kill(self.proc.pid, signal.SIGUSR1)
            frame = self.frames.get(timeout=CANCEL_WAIT_S)
        except (OSError, queue.Empty):
            return False
        return frame is not None and frame.header.get("result") is True

    def kill(self) -> None:
        """Kill the template and whatever program process it has (one process group)."""
        try:
            if os.name == "nt":
                self.proc.kill()
            else:
                os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.job is not None:
            self.job.close()
        try:  # stdout is closed by the reader thread once it sees EOF
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def close(self) -> None:
        """Ask politely (EOF on its stdin: the armed child and then the template exit), then kill."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=1)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _features_from(raw: object) -> list[OSFeature]:
    features = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            features.append(
                OSFeature(
                    str(item["name"]),
                    item.get("active") is True,
                    str(item.get("reason") or ""),
                    str(item.get("detail") or ""),
                )
            )
    return features


class _Pool:
    """Thread-safe pool of idle templates. Each one runs one program at a time."""

    def __init__(self, disable: frozenset[str] = frozenset(), require_os_layer: bool = True) -> None:
        self.disable = disable
        # Fail closed: a worker without an OS layer runs nothing unless the user allowed that. Only
        # the tests' pools, which leave layers out on purpose to prove the others, do not ask.
        self.require_os_layer = require_os_layer
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.closed = False
        self.features: list[OSFeature] | None = None

    def acquire(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    self.busy.add(worker)
                    return worker
                worker.kill()
        worker = _Worker(self.disable)  # outside the lock: starting takes tens of milliseconds
        with self.lock:
            self.features = worker.features
            self.busy.add(worker)
        return worker

    def release(self, worker: _Worker, retire: bool) -> None:
        with self.lock:
            self.busy.discard(worker)
            keep = (
                not retire
                and not worker.single_use
                and not self.closed
                and worker.runs < MAX_RUNS
                and len(self.idle) < MAX_IDLE
            )
            if keep and worker.alive():
                self.idle.append(worker)
                return
        if retire:
            worker.kill()  # it broke the protocol, ran out of time or was cancelled
        else:
            worker.close()

    def shutdown(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
            busy = list(self.busy)
        for worker in idle:
            worker.close()
        for worker in busy:  # their run_program calls see the worker die and return an error
            worker.kill()

    def prestart(self, count: int = 1) -> None:
        for _ in range(count):
            worker = _Worker(self.disable)
            with self.lock:
                self.features = worker.features
                if len(self.idle) < MAX_IDLE and not self.closed:
                    self.idle.append(worker)
                    continue
            worker.close()


_pool = _Pool()


def prestart(count: int = 1) -> None:
    """Start idle workers now so the first program does not pay the start-up cost."""
    _pool.prestart(count)


def shutdown() -> None:
    """Stop all pooled workers (also runs at exit). Later calls start new ones."""
    _pool.shutdown()


atexit.register(shutdown)


def os_layer_status() -> list[OSFeature]:
    """What the operating-system layer enforces here, feature by feature, and why not where it does not.

    Read from a real worker (started if none runs yet), so it says what is applied, not what should be.
    """
    if _pool.features is None:
        try:
            worker = _pool.acquire()
        except (OSError, _WorkerDied) as exc:
            return [OSFeature("worker", False, "no_worker", str(exc))]
        _pool.release(worker, retire=False)
    return list(_pool.features or [])


# The feature (or features together) of the operating-system layer that blocks file writes, network
# and exec on each platform. Without one, programs run only when the user turns that on knowingly.
PROTECTING_FEATURES = (("seccomp",), ("sandbox_exec",), ("job_object", "restricted_token"))
UNPROTECTED_SETTING = "unsafe_programs"


@dataclass(frozen=True)
class Protection:
    """Whether programs run behind an operating-system layer here, and if not, whether they may run."""

    protected: bool
    allowed: bool  # protected, or the user turned `unsafe_programs` on
    features: tuple[OSFeature, ...] = ()

    @property
    def refusal(self) -> str:
        """The one line that says why a program did not run (empty when programs run)."""
        if self.allowed:
            return ""
        return (
            "Programs do not run on this computer: it offers no operating-system sandbox for them "
            "(seccomp on Linux), so a program could read or change your files. Steps mode still works; "
            f"to run programs unprotected anyway: `kpdd config {UNPROTECTED_SETTING} on` "
            "(or Settings > Programs)."
        )

    @property
    def warning(self) -> str:
        """The one line that says programs run unprotected (empty when they are protected or refused)."""
        if self.protected or not self.allowed:
            return ""
        return (
            "Programs run unprotected on this computer (no operating-system sandbox; you turned "
            f"`{UNPROTECTED_SETTING}` on): only the sandbox's Python checks stand between a program and your files."
        )


def protects(features: list[OSFeature] | tuple[OSFeature, ...]) -> bool:
    """Whether these features include an OS layer that blocks file writes, network and exec."""
    active = {f.name for f in features if f.active}
    return any(all(name in active for name in group) for group in PROTECTING_FEATURES)


def unprotected_allowed() -> bool:
    """The user's `unsafe_programs` setting (off unless turned on)."""
    from kpdd import paths

    value = paths.load_config().get(UNPROTECTED_SETTING)
    return value is True or str(value).strip().lower() in ("on", "true", "yes", "1")


def protection() -> Protection:
    """Whether programs are protected here (read from a real worker) and may run."""
    features = tuple(os_layer_status())
    protected = protects(features)
    return Protection(protected, protected or unprotected_allowed(), features)


def _unguarded_pool(*disable: str) -> _Pool:
    """Tests only: a pool whose workers leave out the named layers ("python": the audit hook and the
    restricted builtins; "seccomp", "landlock", "network_namespace", "unprivileged_user"), to prove
    that the others hold alone. Nothing in the app or the CLI calls it, a frozen app refuses it, and
    its callers skip the AST check themselves (``_run_checked``)."""
    if getattr(sys, "frozen", False):
        raise RuntimeError("layers cannot be disabled in an installed app")
    unknown = set(disable) - TEST_LAYERS
    if unknown or not disable:
        raise ValueError(f"name layers among {sorted(TEST_LAYERS)}, not {sorted(unknown)}")
    return _Pool(frozenset(disable), require_os_layer=False)


def _seconds(value: float) -> str:
    return f"{value:g}"


def _timeout_result(timeout_s: float) -> ProgramResult:
    return ProgramResult(
        ok=False,
        error=f"The program took longer than {_seconds(timeout_s)} s and was stopped.",
        error_kind="timeout",
    )


def _runtime(error: str) -> ProgramResult:
    return ProgramResult(ok=False, error=error, error_kind="runtime")


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with every lone surrogate (``print(chr(0xD800))``, which JSON carries as ``\\ud800``)
    replaced by U+FFFD, so that UTF-8 (SQLite, files, the terminal) can hold whatever a program said."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _reply_from(body: bytes) -> ProgramResult | None:
    """A child's reply, if it has the shape of one. It was written after user code ran: trust nothing."""
    try:
        reply = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        return None  # not UTF-8, not JSON, nested past the recursion limit, an integer too long ...
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return None
    answer, kind, source = reply.get("answer"), reply.get("error_kind"), reply.get("answer_source")
    stdout, error = reply.get("stdout", ""), reply.get("error", "")
    if not isinstance(stdout, str) or not isinstance(error, str):
        return None
    if answer is not None and type(answer) not in (bool, int, float, str):
        return None
    stdout, error = storable_text(stdout), storable_text(error)
    if isinstance(answer, str):
        answer = storable_text(answer)
    if reply["ok"]:
        if answer is None or kind is not None or source not in ANSWER_SOURCES:
            return None
        return ProgramResult(ok=True, answer=answer, stdout=stdout, answer_source=source)
    if kind not in ERROR_KINDS or not error:
        return None
    return ProgramResult(ok=False, stdout=stdout, error=error, error_kind=kind)


def _result_from(frame: _Frame, timeout_s: float, memory_mb: int) -> ProgramResult:
    """What the template saw of the program's process, and what that process said (if it may be believed)."""
    header = frame.header
    if header.get("timed_out"):
        return _timeout_result(timeout_s)
    if header.get("oversized"):
        return _runtime(f"The program's result was larger than {REPLY_MAX // 1024} KB and was discarded.")
    sig = header.get("signal")
    if header.get("status") == "signaled":
        if sig == getattr(signal, "SIGXCPU", 24):
            return _timeout_result(timeout_s)
        if sig == getattr(signal, "SIGKILL", 9):  # killed from outside: the system ran out of memory
            return ProgramResult(
                ok=False,
                error=f"The program needed more than {memory_mb} MB of memory and was stopped.",
                error_kind="memory",
            )
        if sig == getattr(signal, "SIGSYS", 31):
            return ProgramResult(
                ok=False,
                error="The program made a system call the sandbox does not allow.",
                error_kind="forbidden",
            )
        return _runtime(f"The program crashed the Python interpreter (signal {sig}).")
    result = _reply_from(frame.body)
    if result is not None:
        return result
    if frame.body:
        return _runtime("The program's result could not be read (it was not in the sandbox's format).")
    return _runtime(f"The program ended without a result (exit code {header.get('code')}).")


def _run_checked(
    source: str, timeout_s: float, memory_mb: int, cancel: CancelLike | None, pool: _Pool | None = None
) -> ProgramResult:
    """Run a program that passed (or, in tests, skipped) the AST check in a pooled worker."""
    pool = pool or _pool
    if cancel is not None and cancel.cancelled:
        return ProgramResult(ok=False, error="Stopped.", error_kind="runtime")
    try:
        worker = pool.acquire()
    except (OSError, _WorkerDied) as exc:
        return _runtime(f"The sandbox could not start: {exc}")
    # Only this process decides whether a template is kept: after a run it reported in shape, yes;
    # after anything else (a cancel, a missed deadline, a broken or fatal message), never.
    retire = True
    try:
        if pool.require_os_layer and not protects(worker.features) and not unprotected_allowed():
            retire = False
            return ProgramResult(ok=False, error=Protection(False, False).refusal, error_kind="forbidden")
        worker.runs += 1
        request = {"source": source, "timeout_s": timeout_s, "memory_mb": memory_mb}
        request["fallback_name"] = _fallback_name(source)
        if worker.job is not None:
            worker.job.limit_memory(memory_mb)
        worker.send(request)
        # The template stops the program at its own deadline; this one catches a template that fails.
        grace = DEADLINE_MARGIN_S if worker.single_use else DEADLINE_MARGIN_S + TEMPLATE_GRACE_S
        deadline = time.monotonic() + timeout_s + grace
        while True:
            if cancel is not None and cancel.cancelled:
                retire = not worker.cancel_program()
                return ProgramResult(ok=False, error="Stopped.", error_kind="runtime")
            left = deadline - time.monotonic()
            if left <= 0:
                return _timeout_result(timeout_s)
            try:
                frame = worker.frames.get(timeout=min(POLL_S, left))
            except queue.Empty:
                continue
            if frame is None:
                if worker.protocol_error:
                    return _runtime(f"The sandbox broke off: it sent {worker.protocol_error}.")
                return _runtime("The sandbox stopped unexpectedly.")
            if frame.header.get("fatal"):
                return _runtime(f"The sandbox could not run the program: {frame.header['fatal']}")
            if frame.header.get("result") is not True:
                return _runtime("The sandbox sent something other than a result.")
            retire = False
            return _result_from(frame, timeout_s, memory_mb)
    except _WorkerDied:
        return _runtime("The sandbox stopped unexpectedly.")
    finally:
        pool.release(worker, retire)


def run_program(
    source: str, timeout_s: float = 2.0, memory_mb: int = 256, cancel: CancelLike | None = None
) -> ProgramResult:
    """Run an untrusted program and return its `answer` (or solution()'s return, or else the value of
    its last top-level assignment, with ``answer_source="last_assignment"``). Never raises.

    ``cancel`` is any object with a ``cancelled`` property (kpdd.backend.CancelToken); when it turns
    true the program is killed within about 50 ms and the result is ``error="Stopped."``,
    ``error_kind="runtime"``.
    """
    started = time.perf_counter()
    try:
        result = check_source(source)
        if result is None:
            result = _run_checked(source, float(timeout_s), int(memory_mb), cancel)
    except Exception as exc:  # a bug here must not take the caller down
        result = ProgramResult(ok=False, error=f"The sandbox failed: {exc}", error_kind="runtime")
    result.duration_s = time.perf_counter() - started
    return result


def _is_number_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float))


def computed_values(program: str, timeout_s: float = 2.0) -> list[float]:
    """The values a program computes on the way to its answer, in order; run in the sandbox.

    Each top-level assignment of an expression (not a bare number copied from the problem) to a name
    other than `answer` is recorded right after it runs. A program that does not parse or run gives [].
    """
    try:
        tree = ast.parse(program)
        body: list[ast.stmt] = [ast.parse("steps_seen_ = []").body[0]]
        for node in tree.body:
            body.append(node)
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(target, ast.Name) and target.id != "answer" and not _is_number_literal(node.value):
                body.append(ast.parse(f"steps_seen_.append({target.id})").body[0])
        body.append(ast.parse("answer = repr(steps_seen_)").body[0])
        instrumented = ast.unparse(ast.Module(body=body, type_ignores=[]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not Python, or nested too deeply
        return []
    result = run_program(instrumented, timeout_s)
    if not result.ok or not isinstance(result.answer, str):
        return []
    try:
        values = ast.literal_eval(result.answer)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []  # e.g. inf or nan, which repr writes as bare names
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


# --------------------------------------------------------------------------- frozen apps


def worker_main() -> None:
    """The worker loop, for a frozen app started as ``app --kpdd-sandbox-worker``."""
    from kpdd import _sandbox_worker  # a static import, so PyInstaller collects the module

    _sandbox_worker.main()


def maybe_run_worker(argv: list[str] | None = None, exit: bool = True) -> bool:
    """Call first in every app entry point: if started as a sandbox worker, run the loop.

    Returns False when this process is not a worker. A worker exits when its loop ends (or returns
    True with ``exit=False``).
    """
    argv = sys.argv if argv is None else argv
    if len(argv) > 1 and argv[1] == WORKER_FLAG:
        worker_main()
        if exit:
            raise SystemExit(0)
        return True
    return False
