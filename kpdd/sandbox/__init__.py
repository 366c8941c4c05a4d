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
2. Python layers in the program's process (``runner.py``, in the process ``worker.py`` forks): an audit hook that refuses files,
   network, processes, imports and frame inspection, added just before the program runs and never
   switched off (the process runs that one program and exits); restricted builtins, a ``type`` that
   never gives a metaclass, copies of the allowed modules; no Python-level signal handlers or threads
   (neither is audited, and a handler is handed a frame); every helper defined in an isolated
   namespace, so nothing handed to user code carries the worker's globals. A filter, not the boundary:
   alone, it does not stop a program that reaches a module through a library function's globals from
   reading what is not audited (the worker's environment, which is empty).
3. The operating system (``os_layer.py``), applied in the program's process before it reads the
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

import sys

from kpdd.sandbox.ast_check import ALLOWED_MODULES, MAX_SOURCE_CHARS, check_source
from kpdd.sandbox.parent import (
    WORKER_FLAG,
    os_layer_status,
    prestart,
    protection,
    run_program,
    shutdown,
    storable_text,
)
from kpdd.sandbox.program_result import ANSWER_SOURCES, ERROR_KINDS, ProgramResult, last_assignment_name
from kpdd.sandbox.protection import UNPROTECTED_SETTING, OSFeature, Protection, protects, unprotected_allowed
from kpdd.sandbox.values import computed_values

__all__ = [
    "ALLOWED_MODULES", "ANSWER_SOURCES", "ERROR_KINDS", "MAX_SOURCE_CHARS", "UNPROTECTED_SETTING", "WORKER_FLAG",
    "OSFeature", "ProgramResult", "Protection", "check_source", "computed_values", "last_assignment_name",
    "maybe_run_worker", "os_layer_status", "prestart", "protection", "protects", "run_program", "shutdown",
    "storable_text", "unprotected_allowed", "worker_main",
]  # fmt: skip


def worker_main() -> None:
    """The worker loop, for a frozen app started as ``app --kpdd-sandbox-worker``."""
    import kpdd.sandbox.worker as worker  # a static import, so PyInstaller collects the module

    worker.main()


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
