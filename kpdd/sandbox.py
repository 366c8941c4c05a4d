"""Run a model-written Python program safely and return its `answer`.

Contract (DESIGN.md): ``run_program(source, timeout_s=2.0, memory_mb=256) -> ProgramResult`` with
``ok``, ``answer``, ``stdout``, ``error``, ``error_kind`` (``syntax``, ``forbidden``, ``timeout``,
``memory``, ``runtime``, ``no_answer``; None when ok) and ``duration_s``. It never raises on a bad
program. A program stopped through ``cancel`` gives ``ok=False, error_kind="runtime", error="Stopped."``
(no new kind is added to the contract).

Defence in depth:
1. ``check_source``: an AST allowlist in this process, before anything runs (imports of five modules
   only, no dunder names or attributes, no exec/eval/open/getattr..., no frame attributes, no
   attribute lookups inside ``str.format`` fields, no async).
2. ``_sandbox_worker.py`` in a separate isolated interpreter (``-I -S``, empty environment, fresh
   temporary working directory), with resource limits, an audit hook that refuses files, network,
   processes, imports and frame inspection while user code runs, restricted builtins, and copies of
   the allowed modules per program.
3. A wall-clock deadline here that SIGKILLs the worker, and an output cap.
Workers are pooled (one program at a time each, recycled after MAX_RUNS programs or after any program
that hit a limit) so evaluating thousands of programs is fast.
"""

from __future__ import annotations

import ast
import atexit
import json
import os
import queue
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

WORKER_FLAG = "--kpdd-sandbox-worker"
WORKER_PATH = Path(__file__).with_name("_sandbox_worker.py")
ALLOWED_MODULES = frozenset({"math", "fractions", "decimal", "statistics", "itertools"})
MAX_SOURCE_CHARS = 100_000
MAX_RUNS = 200  # programs per worker before it is replaced
MAX_IDLE = 2  # idle workers kept warm
STARTUP_TIMEOUT_S = 20.0  # a frozen one-file app unpacks itself first
DEADLINE_MARGIN_S = 0.15  # pipe and JSON overhead on top of the program's own time budget
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
    "co_consts co_names format_map mro register modules".split()
)
# Special methods a program may define in its own classes (defining is safe; reading dunders is not).
ALLOWED_DUNDER_METHODS = frozenset(
    "__init__ __repr__ __str__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __bool__ __len__ "
    "__iter__ __next__ __contains__ __getitem__ __call__ __add__ __sub__ __mul__ __truediv__ "
    "__floordiv__ __mod__ __pow__ __radd__ __rsub__ __rmul__ __rtruediv__ __neg__ __pos__ __abs__ "
    "__float__ __int__ __round__".split()
)


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
    allowed_type_calls: set[int] = set()
    allowed_dunder_defs: set[int] = set()
    super_init_attrs: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
            if len(node.args) == 1 and not node.keywords:
                allowed_type_calls.add(id(node.func))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in ALLOWED_DUNDER_METHODS:
                    allowed_dunder_defs.add(id(item))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "__init__"
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "super"
        ):
            super_init_attrs.add(id(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)):
            raise _Forbidden("async code")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_MODULES:
                    raise _Forbidden(f"importing the module '{alias.name}'")
                if alias.asname and _is_dunder_or_private(alias.asname):
                    raise _Forbidden(f"the name '{alias.asname}'")
        elif isinstance(node, ast.ImportFrom):
            if node.level or node.module not in ALLOWED_MODULES:
                raise _Forbidden(f"importing from the module '{'.' * node.level}{node.module or ''}'")
            for alias in node.names:
                if alias.name.startswith("_") or (alias.asname and _is_dunder_or_private(alias.asname)):
                    raise _Forbidden(f"importing the hidden name '{alias.name}'")
        elif isinstance(node, ast.Name):
            if _is_dunder_or_private(node.id):
                raise _Forbidden(f"the special name '{node.id}'")
            if node.id in FORBIDDEN_NAMES:
                raise _Forbidden(f"the built-in '{node.id}'")
            if node.id == "type" and id(node) not in allowed_type_calls:
                raise _Forbidden("'type' other than type(x) with one argument")
        elif isinstance(node, ast.Attribute):
            if _is_dunder_or_private(node.attr) and id(node) not in super_init_attrs:
                raise _Forbidden(f"the special attribute '.{node.attr}'")
            if node.attr in FORBIDDEN_ATTRIBUTES:
                raise _Forbidden(f"the attribute '.{node.attr}'")
            if node.attr == "format":
                receiver = node.value
                if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
                    raise _Forbidden("'.format' on anything but a string written in the program")
                _check_format_literal(receiver.value)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if _is_dunder_or_private(node.name) and id(node) not in allowed_dunder_defs:
                raise _Forbidden(f"defining the special name '{node.name}'")
            if node.name in FORBIDDEN_NAMES:
                raise _Forbidden(f"redefining the built-in '{node.name}'")
        elif isinstance(node, ast.arg):
            if _is_dunder_or_private(node.arg):
                raise _Forbidden(f"the special name '{node.arg}'")
        elif isinstance(node, ast.keyword):
            if node.arg and _is_dunder_or_private(node.arg):
                raise _Forbidden(f"the special keyword '{node.arg}'")
            if node.arg == "metaclass":
                raise _Forbidden("metaclasses")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                if _is_dunder_or_private(name):
                    raise _Forbidden(f"the special name '{name}'")
        elif isinstance(node, ast.ExceptHandler):
            if node.name and _is_dunder_or_private(node.name):
                raise _Forbidden(f"the special name '{node.name}'")
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            if node.name and _is_dunder_or_private(node.name):
                raise _Forbidden(f"the special name '{node.name}'")
        elif isinstance(node, ast.MatchMapping):
            if node.rest and _is_dunder_or_private(node.rest):
                raise _Forbidden(f"the special name '{node.rest}'")
        elif isinstance(node, ast.MatchClass):
            for attr in node.kwd_attrs:
                if _is_dunder_or_private(attr) or attr in FORBIDDEN_ATTRIBUTES:
                    raise _Forbidden(f"the attribute '{attr}' in a match pattern")


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


# --------------------------------------------------------------------------- layer 2: workers


def worker_command() -> list[str]:
    """How to start a worker: a chosen interpreter, the frozen app itself, or this interpreter."""
    python = SANDBOX_PYTHON or os.environ.get("KPDD_SANDBOX_PYTHON")
    if python:
        return [python, "-I", "-S", "-B", str(WORKER_PATH)]
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG]
    return [sys.executable, "-I", "-S", "-B", str(WORKER_PATH)]


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


class _Worker:
    """One persistent worker process and a thread that reads its replies into a queue."""

    def __init__(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="kpdd-sandbox-")
        self.runs = 0
        self.replies: queue.Queue[dict | None] = queue.Queue()
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            kwargs["start_new_session"] = True  # a Ctrl-C in the terminal is the parent's business
        try:
            self.proc = subprocess.Popen(
                worker_command(),
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
        self.reader = threading.Thread(target=self._read_loop, name="kpdd-sandbox-reader", daemon=True)
        self.reader.start()
        try:
            hello = self.replies.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            hello = None
        if not hello or not hello.get("ready"):
            self.kill()
            raise _WorkerDied("the sandbox worker did not start")

    def _read_loop(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                header = stream.read(4)
                if len(header) < 4:
                    break
                body = stream.read(struct.unpack(">I", header)[0])
                self.replies.put(json.loads(body.decode("utf-8")))
        except (OSError, ValueError):
            pass
        try:
            stream.close()
        except OSError:
            pass
        self.replies.put(None)

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

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:  # stdout is closed by the reader thread once it sees EOF
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def close(self) -> None:
        """Ask politely (EOF on its stdin), then kill."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=1)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


class _Pool:
    """Thread-safe pool of idle workers. Each worker runs one program at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.closed = False

    def acquire(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    self.busy.add(worker)
                    return worker
                worker.kill()
        worker = _Worker()  # outside the lock: starting takes tens of milliseconds
        with self.lock:
            self.busy.add(worker)
        return worker

    def release(self, worker: _Worker, retire: bool) -> None:
        with self.lock:
            self.busy.discard(worker)
            keep = not retire and not self.closed and worker.runs < MAX_RUNS and len(self.idle) < MAX_IDLE
            if keep and worker.alive():
                self.idle.append(worker)
                return
        if retire:
            worker.kill()  # it hit a limit or may be poisoned: no need to be polite
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
            worker = _Worker()
            with self.lock:
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


def _seconds(value: float) -> str:
    return f"{value:g}"


def _death_result(worker: _Worker, timeout_s: float, memory_mb: int) -> ProgramResult:
    code = worker.proc.poll()
    if code is None:
        try:
            code = worker.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
    if code == -getattr(signal, "SIGXCPU", 24):
        return ProgramResult(
            ok=False,
            error=f"The program took longer than {_seconds(timeout_s)} s and was stopped.",
            error_kind="timeout",
        )
    if code == -getattr(
        signal, "SIGKILL", 9
    ):  # killed from outside this process: usually the system ran out of memory
        return ProgramResult(
            ok=False,
            error=f"The program needed more than {memory_mb} MB of memory and was stopped.",
            error_kind="memory",
        )
    return ProgramResult(
        ok=False,
        error=f"The program crashed the Python interpreter (exit code {code}).",
        error_kind="runtime",
    )


def _run_checked(source: str, timeout_s: float, memory_mb: int, cancel: CancelLike | None) -> ProgramResult:
    """Run a program that passed (or, in tests, skipped) the AST check in a pooled worker."""
    if cancel is not None and cancel.cancelled:
        return ProgramResult(ok=False, error="Stopped.", error_kind="runtime")
    try:
        worker = _pool.acquire()
    except (OSError, _WorkerDied) as exc:
        return ProgramResult(ok=False, error=f"The sandbox could not start: {exc}", error_kind="runtime")
    retire = True
    try:
        worker.runs += 1
        request = {"source": source, "timeout_s": timeout_s, "memory_mb": memory_mb}
        request["fallback_name"] = _fallback_name(source)
        worker.send(request)
        deadline = time.monotonic() + timeout_s + DEADLINE_MARGIN_S
        while True:
            if cancel is not None and cancel.cancelled:
                worker.kill()
                return ProgramResult(ok=False, error="Stopped.", error_kind="runtime")
            left = deadline - time.monotonic()
            if left <= 0:
                worker.kill()
                return ProgramResult(
                    ok=False,
                    error=f"The program took longer than {_seconds(timeout_s)} s and was stopped.",
                    error_kind="timeout",
                )
            try:
                reply = worker.replies.get(timeout=min(POLL_S, left))
            except queue.Empty:
                continue
            if reply is None:
                return _death_result(worker, timeout_s, memory_mb)
            retire = bool(reply.get("recycle"))
            kind = reply.get("error_kind")
            ok = bool(reply.get("ok"))
            source_of_answer = reply.get("answer_source")
            return ProgramResult(
                ok=ok,
                answer=reply.get("answer"),
                stdout=str(reply.get("stdout") or ""),
                error=str(reply.get("error") or ""),
                error_kind=kind if kind in ERROR_KINDS else None,
                answer_source=(source_of_answer if source_of_answer in ANSWER_SOURCES else "answer")
                if ok
                else None,
            )
    except _WorkerDied:
        return _death_result(worker, timeout_s, memory_mb)
    finally:
        _pool.release(worker, retire)


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
    except (SyntaxError, ValueError):
        return []
    body: list[ast.stmt] = [ast.parse("steps_seen_ = []").body[0]]
    for node in tree.body:
        body.append(node)
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id != "answer" and not _is_number_literal(node.value):
            body.append(ast.parse(f"steps_seen_.append({target.id})").body[0])
    body.append(ast.parse("answer = repr(steps_seen_)").body[0])
    result = run_program(ast.unparse(ast.Module(body=body, type_ignores=[])), timeout_s)
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
