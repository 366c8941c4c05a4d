"""Benchmark kpdd.sandbox.run_program on generated word-problem programs.

    python bench/bench_sandbox.py --n 300 [--threads 2] [--seed 0]

Programs come from GSM8K-style templates with random numbers (shopping, rates, fractions, averages,
counting with itertools, recursion, classes ...), plus a few failing ones (syntax, runtime,
no_answer, forbidden; a timeout only with --with-timeouts since it costs its whole time budget).
Prints cold start (first program with no warm worker), throughput, median and p90 latency, and checks
that every answer is the expected one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpdd import sandbox  # noqa: E402


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
    ("total = 5", "no_answer"),
    ("import os\nanswer = os.getcwd()", "forbidden"),
    ("answer = ().__class__", "forbidden"),
    ("answer = len('x' * 10**10)", "memory"),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of programs")
    parser.add_argument("--threads", type=int, default=1, help="callers running programs at once")
    parser.add_argument("--seed", type=int, default=0)
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

    cold = []
    for _ in range(3):
        sandbox.shutdown()
        started = time.perf_counter()
        result = sandbox.run_program("answer = 1")
        cold.append(time.perf_counter() - started)
        assert result.ok, result.error
    print(f"cold start (first program, new worker): median {statistics.median(cold) * 1000:.1f} ms")

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
            result = sandbox.run_program(source)
            latencies[i] = time.perf_counter() - t0
            if kind is not None:
                if result.error_kind != kind:
                    wrong.append(f"expected {kind}, got {result.error_kind}: {source!r}")
            elif not result.ok or abs(float(result.answer) - float(expected)) > 1e-6:
                wrong.append(f"expected {expected}, got {result.answer} {result.error}: {source!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    print(
        f"programs: {len(jobs)} ({sum(1 for j in jobs if j[2])} failing on purpose), threads: {args.threads}"
    )
    print(f"throughput: {len(jobs) / elapsed:.1f} programs/s (total {elapsed:.2f} s)")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p90 {_percentile(latencies, 0.9) * 1000:.2f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    if args.with_timeouts:
        t0 = time.perf_counter()
        kinds = [sandbox.run_program("while True:\n    pass", timeout_s=0.2).error_kind for _ in range(2)]
        print(f"2 looping programs (timeout 0.2 s): {kinds} in {time.perf_counter() - t0:.2f} s")
    print(f"wrong results: {len(wrong)}")
    for line in wrong[:10]:
        print("  " + line)
    sandbox.shutdown()
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
