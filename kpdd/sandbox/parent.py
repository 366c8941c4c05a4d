"""Layers 2 to 4 of the sandbox, from the parent's side: starting template workers (fork servers that
never run user code), a pool of them, sending a program, reading a reply that trusts nothing the
worker says, deadlines, cancel, and refusing to run where no OS layer holds programs (fail closed)."""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kpdd.sandbox.os_layer as os_layer
from kpdd.sandbox.ast_check import check_source
from kpdd.sandbox.program_result import ANSWER_SOURCES, ERROR_KINDS, CancelLike, ProgramResult, _fallback_name
from kpdd.sandbox.protection import OSFeature, Protection, protects, unprotected_allowed

WORKER_FLAG = "--kpdd-sandbox-worker"
WORKER_PATH = Path(__file__).with_name("worker.py")
MAX_RUNS = 10_000  # programs per template before it is replaced (it runs none itself: a bound only)
MAX_IDLE = 2  # idle workers kept warm
STARTUP_TIMEOUT_S = 20.0  # a frozen one-file app unpacks itself first
DEADLINE_MARGIN_S = 0.15  # pipe and JSON overhead on top of the program's own time budget
TEMPLATE_GRACE_S = 1.0  # the template kills a late program itself; this long more and it is killed too
CANCEL_WAIT_S = 1.0  # how long a cancelled run waits for the template's report before killing it
HEADER_MAX = 64 * 1024  # bytes of a template's own message header
REPLY_MAX = 1024 * 1024  # bytes of a program's reply read at most (worker.REPLY_MAX)
TEST_LAYERS = frozenset({"python", "seccomp", "landlock", "network_namespace", "unprivileged_user"})
POLL_S = 0.05  # how often a waiting run looks at its cancel token

# Set this (or the environment variable KPDD_SANDBOX_PYTHON) to run workers with another interpreter.
SANDBOX_PYTHON: str | None = None


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
        command = os_layer.macos_command(command)
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
            self.job = os_layer.WindowsJob.for_process(self.proc)
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
        self.features += _features_from(os_layer.parent_features(self.job))

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
