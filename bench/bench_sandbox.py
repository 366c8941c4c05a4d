"""Benchmark kpdd.sandbox.run_program on generated word-problem programs, old sandbox against new.

    python bench/bench_sandbox.py --n 300 [--threads 2] [--seed 0] [--baseline REV]

Programs come from GSM8K-style templates with random numbers (shopping, rates, fractions, averages,
counting with itertools, recursion, classes ...), plus a few failing ones (syntax, runtime,
no_answer, forbidden; a timeout only with --with-timeouts since it costs its whole time budget).
The same programs run through the sandbox of this checkout ("new": a fresh process per program, the
OS layer) and through the one at git revision --baseline ("old": one reused worker, Python layers
only; read from git into a temporary folder, never used by the app). Prints, side by side: cold start
(first program with no warm worker), throughput, median and p90 latency, whether every answer is the
expected one, and whether the new one meets the targets (>= 200 programs/s, median <= 10 ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpdd import sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "07ef964"  # the last sandbox with one reused worker and Python layers only
TARGET_RATE = 200.0  # programs/s
TARGET_MEDIAN_MS = 10.0


def _templates(rng: random.Random) -> tuple[str, object]:
    """One random (program, expected answer) pair."""
    a, b, c = rng.randint(2, 60), rng.randint(2, 30), rng.randint(1, 9)
    kind = rng.randrange(12)
    if kind == 0:
        return (f"apples = {a}\nbought = {b}\neaten = {c}\nanswer = apples + bought - eaten", a + b - c)
    if kind == 1:
        return (
            f"price = {a}\ncount = {b}\ndiscount = price * count * {c} / 100\n"
            f"answer = price * count - discount",
            a * b - a * b * c / 100,
        )
    if kind == 2:
        return (
            f"import math\npages = {a * 10}\nper_day = {b}\nanswer = math.ceil(pages / per_day)",
            -(-(a * 10) // b),
        )
    if kind == 3:
        return (
            f"from fractions import Fraction\nshare = Fraction({c}, {c + b})\nanswer = share * {a * (c + b)}",
            float(a * c),
        )
    if kind == 4:
        scores = [rng.randint(50, 100) for _ in range(5)]
        return (
            f"import statistics\nscores = {scores}\nanswer = statistics.mean(scores)",
            statistics.mean(scores),
        )
    if kind == 5:
        return (
            f"import itertools\nanswer = len(list(itertools.combinations(range({b % 10 + 3}), 2)))",
            (b % 10 + 3) * (b % 10 + 2) // 2,
        )
    if kind == 6:
        return (
            f"def solution():\n    total = 0\n    for day in range(1, {b + 1}):\n        total += day * {c}\n"
            f"    return total",
            c * b * (b + 1) // 2,
        )
    if kind == 7:
        return (
            f"from decimal import Decimal\nanswer = Decimal('{a}.25') * {c}",
            float((a + 0.25) * c),
        )
    if kind == 8:
        return (
            f"def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nanswer = fib({b % 15 + 5})",
            _fib(b % 15 + 5),
        )
    if kind == 9:
        return (
            "class Jar:\n    def __init__(self, cookies):\n        self.cookies = cookies\n"
            f"jars = [Jar({a}), Jar({b}), Jar({c})]\nanswer = sum(j.cookies for j in jars)",
            a + b + c,
        )
    if kind == 10:
        return (
            f"evens = [n for n in range(1, {a + 1}) if n % 2 == 0]\nprint(evens)\nanswer = sum(evens)",
            sum(n for n in range(1, a + 1) if n % 2 == 0),
        )
    speed, hours = a, c
    return (
        f"speed = {speed}\nhours = {hours}\ndistance = speed * hours\nanswer = distance / 2",
        speed * hours / 2,
    )


def _fib(n: int) -> int:
    x, y = 0, 1
    for _ in range(n):
        x, y = y, x + y
    return x


FAILING = [
    ("answer = = 1", "syntax"),
    ("x = 1 / 0\nanswer = x", "runtime"),
    ("print(5)", "no_answer"),
    ("import os\nanswer = os.getcwd()", "forbidden"),
    ("answer = ().__class__", "forbidden"),
    ("answer = len('x' * 10**10)", "memory"),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_baseline(revision: str, folder: Path) -> ModuleType:
    """The sandbox (and its worker) as they were at a git revision, as a module of its own."""
    for name in ("sandbox.py", "_sandbox_worker.py"):
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{revision}:kpdd/{name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (folder / name).write_text(text)
    spec = importlib.util.spec_from_file_location("kpdd_sandbox_baseline", folder / "sandbox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def measure(
    impl: ModuleType, jobs: list[tuple[str, object, str | None]], threads: int, timeouts: bool
) -> dict:
    """Cold start, throughput and latency of one sandbox implementation on the same programs."""
    cold = []
    for _ in range(3):
        impl.shutdown()
        started = time.perf_counter()
        result = impl.run_program("answer = 1")
        cold.append(time.perf_counter() - started)
        assert result.ok, result.error

    latencies: list[float] = [0.0] * len(jobs)
    wrong: list[str] = []
    lock = threading.Lock()
    next_job = iter(range(len(jobs)))

    def work() -> None:
        while True:
            with lock:
                i = next(next_job, None)
            if i is None:
                return
            source, expected, kind = jobs[i]
            t0 = time.perf_counter()
            result = impl.run_program(source)
            latencies[i] = time.perf_counter() - t0
            if kind is not None:
                if result.error_kind != kind:
                    wrong.append(f"expected {kind}, got {result.error_kind}: {source!r}")
            elif not result.ok or abs(float(result.answer) - float(expected)) > 1e-6:
                wrong.append(f"expected {expected}, got {result.answer} {result.error}: {source!r}")

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    figures = {
        "cold_ms": statistics.median(cold) * 1000,
        "rate": len(jobs) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p90_ms": _percentile(latencies, 0.9) * 1000,
        "max_ms": max(latencies) * 1000,
        "wrong": wrong,
    }
    if timeouts:
        t0 = time.perf_counter()
        kinds = [impl.run_program("while True:\n    pass", timeout_s=0.2).error_kind for _ in range(2)]
        figures["timeouts"] = f"{kinds} in {time.perf_counter() - t0:.2f} s"
    impl.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of programs")
    parser.add_argument("--threads", type=int, default=1, help="callers running programs at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old sandbox ('' for none)")
    parser.add_argument("--with-timeouts", action="store_true", help="also run 2 looping programs (0.2 s)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    jobs: list[tuple[str, object, str | None]] = []
    for i in range(args.n):
        if i % 25 == 24:
            source, kind = FAILING[(i // 25) % len(FAILING)]
            jobs.append((source, None, kind))
        else:
            source, expected = _templates(rng)
            jobs.append((source, expected, None))

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kpdd-bench-baseline-") as folder:
        if args.baseline:
            try:
                results["old"] = measure(
                    load_baseline(args.baseline, Path(folder)), jobs, args.threads, args.with_timeouts
                )
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                print(f"baseline {args.baseline} not available ({exc}); new only")
        results["new"] = measure(sandbox, jobs, args.threads, args.with_timeouts)

    names = list(results)
    print(
        f"programs: {len(jobs)} ({sum(1 for j in jobs if j[2])} failing on purpose), threads: {args.threads}"
    )
    print(f"{'':28}" + "".join(f"{name:>14}" for name in names))
    rows = [
        ("cold start (ms)", "cold_ms", "{:.1f}"),
        ("throughput (programs/s)", "rate", "{:.1f}"),
        ("latency median (ms)", "median_ms", "{:.2f}"),
        ("latency p90 (ms)", "p90_ms", "{:.2f}"),
        ("latency max (ms)", "max_ms", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:28}" + "".join(f"{fmt.format(results[n][key]):>14}" for n in names))
    print(f"{'wrong results':28}" + "".join(f"{len(results[n]['wrong']):>14}" for n in names))
    if args.with_timeouts:
        for name in names:
            print(f"2 looping programs (0.2 s), {name}: {results[name]['timeouts']}")
    if "old" in results:
        new, old = results["new"], results["old"]
        print(
            f"new/old: throughput x{new['rate'] / old['rate']:.2f}, median latency x{new['median_ms'] / old['median_ms']:.2f}"
        )
        print(f"per program: old {1000 / old['rate']:.2f} ms, new {1000 / new['rate']:.2f} ms")
    new = results["new"]
    meets = new["rate"] >= TARGET_RATE and new["median_ms"] <= TARGET_MEDIAN_MS
    print(
        f"targets (>= {TARGET_RATE:.0f} programs/s, median <= {TARGET_MEDIAN_MS:.0f} ms): "
        + ("met" if meets else "NOT met")
    )
    for name in names:
        for line in results[name]["wrong"][:10]:
            print(f"  {name}: {line}")
    if any(results[n]["wrong"] for n in names):
        sys.exit(1)


if __name__ == "__main__":
    main()
