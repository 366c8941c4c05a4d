"""`kpdd-tutor --self-test`: a headless check that an installed app really works.

Steps (each printed with its time; any failure makes the exit status 1):
 1. app        version, frozen or not, the executable and bundle paths
 2. llama.cpp  the shared libraries load (a PyInstaller bundle that misses them fails here with
               "Shared library with base name 'llama' not found"); prints llama.cpp's CPU features
 3. model      the default model is found (in a bundle: the GGUF shipped inside it) and loads
 4. solve      a sample problem in PoT mode: the stages were produced, the program went to the
               sandbox and a result came back (the stock model may answer wrongly: not checked)
 5. second     the second-opinion model (Qwen2.5-Coder-1.5B) when the installation carries it and it
               is on: it loads and solves the same problem (by default it checks every answer);
               otherwise it says the default answers alone, which is not a failure
 6. sandbox    a known-good program through kpdd.sandbox.run_program gives the exact answer, in a
               worker process that is this executable itself when frozen (checked via /proc on Linux),
               and a runaway program is stopped by the time limit
 7. sheet      a PDF solution sheet of the solved problem is written and is a complete PDF file

Runs offscreen (QT_QPA_PLATFORM=offscreen is set when no platform is chosen) and never touches the
network. `--json PATH` also writes the steps as JSON (windowed builds have no console to print to).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"
# Passes the AST check and needs the worker's allowed modules; the answer is exact (Fraction -> int).
KNOWN_GOOD_PROGRAM = """\
from fractions import Fraction
import math
baskets = 6
apples_each = 14
given_away = 20
share = Fraction(given_away, 4)
answer = int(baskets * apples_each - 4 * share) + math.gcd(12, 18) - 6
"""
KNOWN_GOOD_ANSWER = 64
RUNAWAY_PROGRAM = "x = 0\nwhile True:\n    x += 1\n"


class StepFailed(Exception):
    """A self-test step found something wrong; the message says what."""


@dataclass
class Step:
    name: str
    ok: bool = False
    seconds: float = 0.0
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the steps hand to each other."""

    workdir: Path
    threads: int = 2
    entry: Any = None  # kpdd.models.ModelEntry
    backend: Any = None
    result: Any = None  # kpdd.solver.SolveResult
    worker_pids: set[int] = field(default_factory=set)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


# --------------------------------------------------------------------------- the sandbox's workers


def live_worker_pids() -> set[int]:
    """Process ids of the sandbox's pooled workers (idle and busy) right now."""
    from kpdd.sandbox import parent as sandbox_parent

    pool = sandbox_parent._pool  # no public accessor; the self-test only reads it
    with pool.lock:
        workers = list(pool.idle) + list(pool.busy)
    return {w.proc.pid for w in workers if w.proc.poll() is None}


def worker_executable(pid: int) -> str | None:
    """The executable a worker process runs (Linux /proc; None where that cannot be read)."""
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:  # pragma: no cover - not Linux
        return None


def check_workers_are_this_app(pids: set[int]) -> str:
    """Frozen: every worker must be this very executable, started in worker mode."""
    from kpdd import sandbox
    from kpdd.sandbox import parent as sandbox_parent

    command = sandbox_parent.worker_command()
    if is_frozen():
        _check(command == [sys.executable, sandbox.WORKER_FLAG],
               f"a frozen app must start its workers as itself, not {command}")  # fmt: skip
    if not pids:
        return f"worker command {command}"
    if not sys.platform.startswith("linux"):
        return f"worker command {command}"
    expected = os.path.realpath(sys.executable)
    seen = {worker_executable(pid) for pid in pids}
    _check(seen == {expected}, f"workers run {sorted(map(str, seen))}, expected {expected}")
    return f"{len(pids)} worker(s) running {expected}" + (" --kpdd-sandbox-worker" if is_frozen() else "")


# --------------------------------------------------------------------------- steps


def step_app(ctx: Context) -> str:
    from importlib import metadata

    try:
        version = metadata.version("kpdd-tutor")
    except metadata.PackageNotFoundError as exc:
        raise StepFailed(
            "the kpdd-tutor package metadata is missing (the spec must copy_metadata it)"
        ) from exc
    where = getattr(sys, "_MEIPASS", None) or str(Path(__file__).resolve().parent.parent)
    kind = "frozen" if is_frozen() else "source"
    extra = ""
    if is_frozen():
        extra = "; " + check_bundle_contents(Path(where))
    return (f"kpdd-tutor {version}, {kind}, python {sys.version.split()[0]}, executable {sys.executable}, "
            f"root {where}{extra}")  # fmt: skip


def check_bundle_contents(bundle: Path) -> str:
    """A bundle carries the license texts, the translations and the icons (the model: next step)."""
    notices = bundle / "licenses" / "THIRD-PARTY-NOTICES.txt"
    _check(notices.is_file(), f"the license texts are missing ({notices})")
    text = notices.read_text(encoding="utf-8")
    for name in ("PySide6", "LGPL", "llama.cpp", "MIT", "Apache-2.0"):
        _check(name in text, f"THIRD-PARTY-NOTICES.txt does not mention {name}")
    resources = bundle / "resources"
    translations = sorted(p.name for p in (resources / "translations").glob("*.qm"))
    _check(bool(translations), "no compiled translations (.qm) in the bundle")
    _check((resources / "icons" / "kpdd-tutor.svg").is_file(), "the app icon is missing from the bundle")
    _check(any((resources / "fonts").glob("*.tt[cf]")), "the font for Chinese is missing from the bundle")
    unwanted = [
        name
        for name in ("torch", "transformers", "onnxruntime", "distill", "export")
        if (bundle / name).exists()
    ]
    _check(not unwanted, f"training/export packages in the bundle: {unwanted}")
    return (f"licenses, icons, the font for Chinese and translations ({', '.join(translations)}) present; "
            "no torch/transformers/onnxruntime")  # fmt: skip


def step_llama(ctx: Context) -> str:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    # Only the features that are on, e.g. "AVX = 1 | AVX2 = 1 | ..." -> "AVX AVX2 ..."
    on = [
        part.split("=")[0].split(":")[-1].strip() for part in text.split("|") if part.strip().endswith("= 1")
    ]
    library = Path(llama_cpp.llama_cpp._lib._name)  # the libllama that ctypes loaded
    return (
        f"llama-cpp-python {llama_cpp.__version__}, {library}, CPU features: {' '.join(on) or text.strip()}"
    )


def step_model(ctx: Context) -> str:
    from kpdd import models

    ctx.entry = models.default_model()
    ctx.backend = models.load_backend(ctx.entry, threads=ctx.threads)
    return f"{ctx.entry.name} ({ctx.entry.quantization}, {ctx.entry.size / 1e6:.0f} MB, {_origin(ctx.entry.path)}): {ctx.entry.path}"


def step_solve(ctx: Context) -> str:
    from kpdd.solver import Solver

    _check(ctx.backend is not None, "no model was loaded")
    before = live_worker_pids()
    result = Solver(ctx.backend).solve(SAMPLE_PROBLEM, mode="pot")
    ctx.result = result
    ctx.worker_pids = live_worker_pids() - before
    _check(result.error is None, f"the solver reported an error: {result.error}")
    _check(not result.cancelled, "the solve was cancelled")
    stages = [record.stage.value for record in result.stages]
    _check(len(stages) >= 3, f"expected the three KPDD stages, got {stages}")
    _check(bool(result.core_question.strip()), "the core-question stage is empty")
    _check(result.completion_tokens > 0, "the model generated no tokens")
    _check(bool(result.program.strip()), "the model wrote no program")
    execution = result.execution
    _check(execution is not None, "the program was not sent to the sandbox")
    if execution.ok:
        outcome = f"answer {execution.answer!r}"
    else:
        outcome = f"the sandbox refused or stopped it ({execution.error_kind}: {execution.error[:80]})"
    reached_worker = execution.error_kind not in ("syntax", "forbidden")
    workers = check_workers_are_this_app(ctx.worker_pids) if reached_worker else "checked before a worker ran"
    return (f"stages {', '.join(stages)}; {result.completion_tokens} tokens in {result.seconds:.2f} s; "
            f"program -> {outcome}; {workers}")  # fmt: skip


def _origin(path: Path) -> str:
    """Where a model file comes from, for the report."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and str(path).startswith(str(bundle)):
        return "shipped in the bundle"
    return "from the user's models folder"


def step_second_opinion(ctx: Context) -> str:
    from kpdd import models
    from kpdd.answers import format_answer
    from kpdd.solver import Solver

    _check(ctx.entry is not None, "no model was loaded")
    second = models.second_opinion_model(ctx.entry)
    if second is None:
        installed = models.installed_second_opinion()
        if installed is not None:
            return f"{installed.name} is installed and turned off in Settings: the default answers alone"
        return "none in this installation: the default answers alone"
    backend = models.load_backend(second, threads=ctx.threads)
    try:
        result = Solver(backend).solve(SAMPLE_PROBLEM, mode="pot")
    finally:
        backend.close()
    _check(result.error is None, f"the second-opinion model reported an error: {result.error}")
    _check(result.completion_tokens > 0, "the second-opinion model generated no tokens")
    _check(result.execution is not None, "the second-opinion model's program was not sent to the sandbox")
    answer = "none" if result.answer is None else format_answer(result.answer)
    return (f"{second.name} ({second.size / 1e6:.0f} MB, {_origin(second.path)}): answer {answer}, "
            f"{result.completion_tokens} tokens in {result.seconds:.2f} s")  # fmt: skip


def step_sandbox(ctx: Context) -> str:
    from kpdd.sandbox import run_program

    good = run_program(KNOWN_GOOD_PROGRAM)
    _check(good.ok, f"a known-good program failed: {good.error_kind}: {good.error}")
    _check(good.answer == KNOWN_GOOD_ANSWER and type(good.answer) is int,
           f"a known-good program gave {good.answer!r}, expected {KNOWN_GOOD_ANSWER}")  # fmt: skip
    workers = check_workers_are_this_app(live_worker_pids())
    runaway = run_program(RUNAWAY_PROGRAM, timeout_s=0.5)
    _check(not runaway.ok and runaway.error_kind == "timeout",
           f"a runaway program was not stopped by the time limit: {runaway}")  # fmt: skip
    return (f"answer {good.answer} in {good.duration_s * 1000:.0f} ms; {workers}; "
            f"runaway program stopped after {runaway.duration_s:.2f} s")  # fmt: skip


def step_sheet(ctx: Context) -> str:
    from kpdd.sheets import SheetItem, SheetOptions

    _check(ctx.result is not None, "nothing was solved")
    from desktop.pdf import write_sheet

    path = ctx.workdir / "self-test-sheet.pdf"
    write_sheet([SheetItem.from_result(ctx.result)], SheetOptions(title="KPDD Tutor self-test"), path)
    data = path.read_bytes()
    _check(data.startswith(b"%PDF-"), "the sheet is not a PDF file")
    _check(b"%%EOF" in data[-1024:], "the PDF file is incomplete (no %%EOF trailer)")
    _check(len(data) > 1000, f"the PDF is only {len(data)} bytes")
    return f"{len(data)} bytes, {data.count(b'/Type /Page') - data.count(b'/Type /Pages')} page(s): {path}"


STEPS: list[tuple[str, Callable[[Context], str]]] = [
    ("app", step_app),
    ("llama.cpp", step_llama),
    ("model", step_model),
    ("solve", step_solve),
    ("second", step_second_opinion),
    ("sandbox", step_sandbox),
    ("sheet", step_sheet),
]


def run_steps(ctx: Context, out: Callable[[str], None] = print) -> list[Step]:
    """Run every step (later steps still run after a failure, so one run shows all problems)."""
    steps = []
    for name, function in STEPS:
        step = Step(name)
        started = time.perf_counter()
        try:
            step.detail = function(ctx)
            step.ok = True
        except StepFailed as exc:
            step.detail = str(exc)
        except Exception as exc:  # the self-test reports every failure, whatever its kind
            step.detail = f"{type(exc).__name__}: {exc}"
        step.seconds = time.perf_counter() - started
        out(f"[{'ok' if step.ok else 'FAIL'}] {step.name:<9} {step.seconds:7.3f} s  {step.detail}")
        steps.append(step)
    return steps


def main(argv: list[str] | None = None) -> int:
    """Run the self-test; 0 when every step passed."""
    argv = list(argv or [])
    json_path = None
    if "--json" in argv:
        index = argv.index("--json")
        if index + 1 >= len(argv):
            print("usage: --self-test [--json PATH]", file=sys.stderr)
            return 2
        json_path = Path(argv[index + 1])
    from desktop.qt_app import offscreen_without_display

    offscreen_without_display()
    started = time.perf_counter()
    print(f"KPDD Tutor self-test ({'frozen' if is_frozen() else 'source'})", flush=True)
    with tempfile.TemporaryDirectory(prefix="kpdd-selftest-") as tmp:
        ctx = Context(workdir=Path(tmp))
        try:
            steps = run_steps(ctx, out=lambda line: print(line, flush=True))
        finally:
            if ctx.backend is not None:
                ctx.backend.close()
            from kpdd import sandbox

            sandbox.shutdown()
    total = time.perf_counter() - started
    passed = all(step.ok for step in steps)
    print(f"SELF-TEST {'PASSED' if passed else 'FAILED'} in {total:.2f} s", flush=True)
    if json_path is not None:
        report = {"passed": passed, "seconds": total, "frozen": is_frozen(),
                  "steps": [{"name": s.name, "ok": s.ok, "seconds": s.seconds, "detail": s.detail} for s in steps]}  # fmt: skip
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if passed else 1
